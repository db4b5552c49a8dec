// Signing keys: list with algorithm, status and dates; rotate; retire a key in its overlap early
// (both need a recent step-up).
import { useEffect, useState } from 'preact/hooks';
import type { Me, Problem, SigningKey } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ConfirmAction, ProblemText, type Action } from '../components.tsx';
import { api, base, format, number, t, when } from '../context.ts';
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
    title: t.keys.rotateTitle,
    body: t.keys.rotateBody,
    label: t.keys.rotateLabel,
    danger: true,
    run: async () => {
      const r = await api.rotateKeys({ page, action: 'rotate' });
      if (!r.ok) return setProblem(r.problem);
      setProblem(undefined);
      setMessage(format(t.keys.rotated, { kids: r.data.created.join(', ') }));
      await load();
    },
  };
  const retire = (kid: string): Action => ({
    kind: 'retire',
    title: format(t.keys.retireTitle, { kid }),
    body: t.keys.retireBody,
    label: t.keys.retireLabel,
    danger: true,
    run: async () => {
      const r = await api.retireKey(kid, { page, action: 'retire' });
      if (!r.ok) return setProblem(r.problem);
      setProblem(undefined);
      setMessage(format(t.keys.retired, { kid: r.data.retired }));
      await load();
    },
  });
  useEffect(() => {
    void load();
    const pending = takePendingAction(page);
    if (pending?.action === 'rotate' && me.stepUpFreshUntil) {
      setMessage(t.keys.steppedUp);
      setAction(rotate);
    }
  }, []);
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">{t.keys.heading}</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ProblemText problem={problem} />
      <p class="detail">{format(t.keys.overlap, { hours: number(Math.round(overlap / 3600)) })}</p>
      {keys && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{t.keys.caption}</caption>
            <thead>
              <tr>
                <th scope="col">{t.keys.kid}</th>
                <th scope="col">{t.keys.algorithm}</th>
                <th scope="col">{t.keys.status}</th>
                <th scope="col" class="wide">{t.keys.created}</th>
                <th scope="col" class="wide">{t.keys.retires}</th>
                {me.roles.includes('admin') && (
                  <th scope="col">
                    <span class="visually-hidden">{t.common.actions}</span>
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
                          {t.keys.retireLabel}
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
          {t.keys.rotateLabel}
        </Button>
      )}
      <ConfirmAction action={action} onClose={() => setAction(undefined)} />
    </section>
  );
}
