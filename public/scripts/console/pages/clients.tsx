// Applications (OAuth clients) of the tenant: the list, and the page to add one. Clients of the
// tenant file and the built-in console client are shown read-only with where they are managed.
import { useEffect, useState } from 'preact/hooks';
import type { ClientBody, ClientSummary, Me, Problem } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ConfirmAction, Link, ProblemText, type Action } from '../components.tsx';
import { api, base, navigate, tenantName } from '../context.ts';
import { ClientForm, initialValues } from './client-form.tsx';
import { rememberIssuedSecret } from './client.tsx';

export function Clients({ me }: { me: Me }) {
  const [clients, setClients] = useState<ClientSummary[] | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  useEffect(() => {
    void api.clients().then((r) => (r.ok ? setClients(r.data.clients) : setProblem(r.problem)));
  }, []);
  return (
    <section aria-labelledby="clients-title">
      <h1 id="clients-title">Applications</h1>
      <ProblemText problem={problem} />
      {me.roles.includes('admin') && (
        <p>
          <Link href={`${base}/clients/new`} class="button">
            New application
          </Link>
        </p>
      )}
      {clients && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Applications of {tenantName}</caption>
            <thead>
              <tr>
                <th scope="col">Application</th>
                <th scope="col" class="wide">Grants</th>
                <th scope="col">Managed by</th>
              </tr>
            </thead>
            <tbody>
              {clients.map((c) => (
                <tr key={c.clientId}>
                  <td>
                    <Link href={`${base}/clients/${encodeURIComponent(c.clientId)}`}>{c.name ?? c.clientId}</Link>
                    <br />
                    <code class="detail">{c.clientId}</code>
                  </td>
                  <td class="wide">{c.grantTypes.join(', ')}</td>
                  <td>{c.readOnly ? `${c.managedBy} (read-only here)` : c.managedBy}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A new application: the form; the API asks for a step-up first, then the console offers to finish. */
export function NewClient({ me }: { me: Me }) {
  const page = `${base}/clients/new`;
  const [problem, setProblem] = useState<Problem | undefined>();
  const [action, setAction] = useState<Action | undefined>();
  const [message, setMessage] = useState('');
  const [initial, setInitial] = useState<ClientBody>(() => initialValues());
  const [formKey, setFormKey] = useState(0);

  async function create(body: ClientBody) {
    const r = await api.createClient(body, { page, action: 'create', args: { body: JSON.stringify(body) } });
    if (!r.ok) return setProblem(r.problem);
    rememberIssuedSecret(r.data.client.clientId, r.data.secret);
    navigate(`${base}/clients/${encodeURIComponent(r.data.client.clientId)}`);
  }
  const confirmCreate = (body: ClientBody): Action => ({
    kind: 'create',
    title: `Create the application “${body.name}”?`,
    body: `${body.authMethod === 'none' ? 'A public client (no secret).' : 'A confidential client: its secret is shown once, right after.'} It can be used at once. This is audited.`,
    label: 'Create application',
    run: () => create(body),
  });
  useEffect(() => {
    const pending = takePendingAction(page);
    if (pending?.action === 'create' && pending.args?.body && me.stepUpFreshUntil) {
      const body = JSON.parse(pending.args.body) as ClientBody;
      setInitial(initialValues(body));
      setFormKey((k) => k + 1);
      setMessage('You confirmed it is you. Confirm to create the application.');
      setAction(confirmCreate(body));
    }
  }, []);

  return (
    <section aria-labelledby="new-client-title">
      <p>
        <Link href={`${base}/clients`}>← Applications</Link>
      </p>
      <h1 id="new-client-title">New application</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ClientForm key={formKey} initial={initial} isNew submitLabel="Create application" problem={problem} onSubmit={(body) => void create(body)} />
      <ConfirmAction action={action} onClose={() => setAction(undefined)} />
    </section>
  );
}
