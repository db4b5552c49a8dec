// Applications (OAuth clients) of the tenant: the list, and the page to add one. Clients of the
// tenant file and the built-in console client are shown read-only with where they are managed.
import { useEffect, useState } from 'preact/hooks';
import type { ClientBody, ClientSummary, Me, Problem } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ConfirmAction, Link, ProblemText, type Action } from '../components.tsx';
import { api, base, format, navigate, t, tenantName } from '../context.ts';
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
      <h1 id="clients-title">{t.clients.heading}</h1>
      <ProblemText problem={problem} />
      {me.roles.includes('admin') && (
        <p>
          <Link href={`${base}/clients/new`} class="button">
            {t.clients.newApplication}
          </Link>
        </p>
      )}
      {clients && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{format(t.clients.caption, { tenant: tenantName })}</caption>
            <thead>
              <tr>
                <th scope="col">{t.clients.application}</th>
                <th scope="col" class="wide">{t.clients.grants}</th>
                <th scope="col">{t.clients.managedBy}</th>
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
                  <td>{c.readOnly ? format(t.common.readOnlyHere, { managedBy: c.managedBy }) : c.managedBy}</td>
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
    title: format(t.clients.createTitle, { name: body.name }),
    body: format(t.clients.createBody, { kind: body.authMethod === 'none' ? 'public' : 'confidential' }),
    label: t.clients.createLabel,
    run: () => create(body),
  });
  useEffect(() => {
    const pending = takePendingAction(page);
    if (pending?.action === 'create' && pending.args?.body && me.stepUpFreshUntil) {
      const body = JSON.parse(pending.args.body) as ClientBody;
      setInitial(initialValues(body));
      setFormKey((k) => k + 1);
      setMessage(t.clients.createSteppedUp);
      setAction(confirmCreate(body));
    }
  }, []);

  return (
    <section aria-labelledby="new-client-title">
      <p>
        <Link href={`${base}/clients`}>{t.clients.back}</Link>
      </p>
      <h1 id="new-client-title">{t.clients.newApplication}</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ClientForm key={formKey} initial={initial} isNew submitLabel={t.clients.createLabel} problem={problem} onSubmit={(body) => void create(body)} />
      <ConfirmAction action={action} onClose={() => setAction(undefined)} />
    </section>
  );
}
