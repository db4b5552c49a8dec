// Signing keys: list with algorithm, status and dates; rotate; retire a key in its overlap early
// (both need a recent step-up).
import { useEffect, useState } from 'preact/hooks';
import type { Me, Problem, SigningKey } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ConfirmAction, ProblemText, type Action } from '../components.tsx';
import { api, base, when } from '../context.ts';
import { Button } from '../../../../ui/components/forms.tsx';

export function Keys({ me }: { me: Me }) {
  const [keys, setKeys] = useState<SigningKey[] | undefined>();
  const [overlap, setOverlap] = useState(0);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [message, setMessage] = useState('');
  const [action, setAction] = useState<Action | undefined>();
  const page = `${base}/keys`;
  async function load() {
    const r = await api.keys();
    if (!r.ok) return setProblem(r.problem);
    setKeys(r.data.keys);
    setOverlap(r.data.overlapSeconds);
  }
  const rotate: Action = {
    kind: 'rotate',
    title: 'Rotate the signing keys?',
    body: 'New ES256 and RS256 keys start signing tokens now. The current keys keep verifying during the overlap, then retire. This needs a recent step-up and is audited.',
    label: 'Rotate keys',
    danger: true,
    run: async () => {
      const r = await api.rotateKeys({ page, action: 'rotate' });
      if (!r.ok) return setProblem(r.problem);
      setProblem(undefined);
      setMessage(`Rotated: new keys ${r.data.created.join(', ')}.`);
      await load();
    },
  };
  const retire = (kid: string): Action => ({
    kind: 'retire',
    title: `Retire ${kid} now?`,
    body: 'Tokens this key signed stop verifying at once, before their overlap ends (for a key you suspect is exposed). This needs a recent step-up and is audited.',
    label: 'Retire now',
    danger: true,
    run: async () => {
      const r = await api.retireKey(kid, { page, action: 'retire' });
      if (!r.ok) return setProblem(r.problem);
      setProblem(undefined);
      setMessage(`Retired: ${r.data.retired}.`);
      await load();
    },
  });
  useEffect(() => {
    void load();
    const pending = takePendingAction(page);
    if (pending?.action === 'rotate' && me.stepUpFreshUntil) {
      setMessage('You confirmed it is you. Confirm the rotation to go on.');
      setAction(rotate);
    }
  }, []);
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Signing keys</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ProblemText problem={problem} />
      <p class="detail">Rotated keys keep verifying for {Math.round(overlap / 3600)} hours, then retire.</p>
      {keys && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Signing keys</caption>
            <thead>
              <tr>
                <th scope="col">Key id</th>
                <th scope="col">Algorithm</th>
                <th scope="col">Status</th>
                <th scope="col" class="wide">Created</th>
                <th scope="col" class="wide">Retires</th>
                {me.roles.includes('admin') && (
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.kid}>
                  <td>
                    <code class="wrap">{k.kid}</code>
                  </td>
                  <td>{k.alg}</td>
                  <td>{k.status}</td>
                  <td class="wide">{when(k.createdAt)}</td>
                  <td class="wide">{when(k.retireAt)}</td>
                  {me.roles.includes('admin') && (
                    <td>
                      {k.status === 'retiring' && (
                        <Button type="button" kind="secondary" small onClick={() => setAction(retire(k.kid))}>
                          Retire now
                        </Button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {me.roles.includes('admin') && (
        <Button type="button" kind="danger" onClick={() => setAction(rotate)}>
          Rotate keys
        </Button>
      )}
      <ConfirmAction action={action} onClose={() => setAction(undefined)} />
    </section>
  );
}
