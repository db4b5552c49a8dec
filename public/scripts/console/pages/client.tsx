// One application: its settings, and for an admin (unless a tenant file or Facet itself manages
// it) edit, rotate the secret (shown once) and delete. Every change needs a fresh step-up; after
// one the console offers the action again.
import { useEffect, useState } from 'preact/hooks';
import type { ClientBody, ClientSettings, ClientSummary, Me, Problem } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ConfirmAction, Link, ProblemText, type Action } from '../components.tsx';
import { api, base, navigate, when } from '../context.ts';
import { ClientForm, initialValues } from './client-form.tsx';
import { Button } from '../../../../ui/components/forms.tsx';

// A secret is answered once by the API; it lives here only until the client's page has shown it.
let issued: { clientId: string; secret: string } | undefined;
export function rememberIssuedSecret(clientId: string, secret: string | null) {
  issued = secret ? { clientId, secret } : undefined;
}
function takeIssuedSecret(clientId: string): string | undefined {
  const secret = issued?.clientId === clientId ? issued.secret : undefined;
  issued = undefined;
  return secret;
}

function SecretOnce({ secret }: { secret: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <section class="card secret" aria-labelledby="secret-title">
      <h2 id="secret-title">Client secret</h2>
      <p>Copy it now and keep it in the application's configuration: it is shown only this once. If it is lost, rotate it.</p>
      <p>
        <code class="wrap" id="client-secret">
          {secret}
        </code>
      </p>
      <Button
        type="button"
        kind="secondary"
        onClick={() => {
          void navigator.clipboard?.writeText(secret).then(() => setCopied(true), () => undefined);
        }}
      >
        Copy the secret
      </Button>
      <span role="status" class="detail">
        {copied ? ' Copied.' : ''}
      </span>
    </section>
  );
}

export function Client({ id, me }: { id: string; me: Me }) {
  const page = `${base}/clients/${encodeURIComponent(id)}`;
  const [client, setClient] = useState<ClientSummary | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [formProblem, setFormProblem] = useState<Problem | undefined>();
  const [message, setMessage] = useState('');
  const [secret, setSecret] = useState<string | undefined>(() => takeIssuedSecret(id));
  const [action, setAction] = useState<Action | undefined>();
  const [formKey, setFormKey] = useState(0);
  const [initial, setInitial] = useState<ClientBody | undefined>();
  const isAdmin = me.roles.includes('admin');

  async function load() {
    const r = await api.client(id);
    if (!r.ok) return setProblem(r.problem);
    setClient(r.data.client);
    return r.data.client;
  }

  async function save(body: ClientSettings) {
    const r = await api.replaceClient(id, body, { page, action: 'save', args: { body: JSON.stringify(body) } });
    if (!r.ok) return setFormProblem(r.problem);
    setFormProblem(undefined);
    setClient(r.data.client);
    setInitial(initialValues(r.data.client));
    setFormKey((k) => k + 1);
    if (r.data.secret) setSecret(r.data.secret);
    setMessage('Saved.');
  }
  const actions = (c: ClientSummary): Record<string, Action> => ({
    rotate: {
      kind: 'rotate',
      title: `Rotate the secret of ${c.name ?? c.clientId}?`,
      body: 'A new secret is made and shown once. The current secret stops working at once: the application fails to authenticate until it has the new one. This needs a recent step-up and is audited.',
      label: 'Rotate secret',
      danger: true,
      run: async () => {
        const r = await api.rotateClientSecret(id, { page, action: 'rotate' });
        if (!r.ok) return setProblem(r.problem);
        setProblem(undefined);
        setSecret(r.data.secret);
        setMessage('A new secret was made; the old one no longer works.');
      },
    },
    delete: {
      kind: 'delete',
      title: `Delete ${c.name ?? c.clientId}?`,
      body: 'The application can no longer sign users in or get tokens; its refresh tokens stop working. This cannot be undone. This needs a recent step-up and is audited.',
      label: 'Delete application',
      danger: true,
      run: async () => {
        const r = await api.deleteClient(id, { page, action: 'delete' });
        if (!r.ok) return setProblem(r.problem);
        navigate(`${base}/clients`);
      },
    },
  });

  useEffect(() => {
    void (async () => {
      const c = await load();
      if (!c) return;
      const pending = takePendingAction(page);
      let start = initialValues(c);
      if (pending && me.stepUpFreshUntil) {
        setMessage('You confirmed it is you. Confirm the action to go on.');
        if (pending.action === 'save' && pending.args?.body) {
          const body = JSON.parse(pending.args.body) as ClientSettings;
          start = initialValues(body);
          setAction({ kind: 'save', title: `Save the changes to ${c.name ?? c.clientId}?`, body: 'The new settings apply at once. This is audited.', label: 'Save changes', run: () => save(body) });
        } else {
          const offered = actions(c)[pending.action];
          if (offered) setAction(offered);
        }
      }
      setInitial(start);
    })();
  }, [id]);

  if (!client) return <section>{problem ? <ProblemText problem={problem} /> : <p role="status">Loading…</p>}</section>;
  const editable = isAdmin && !client.readOnly;
  const all = actions(client);
  return (
    <section aria-labelledby="client-title">
      <p>
        <Link href={`${base}/clients`}>← Applications</Link>
      </p>
      <h1 id="client-title">{client.name ?? client.clientId}</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ProblemText problem={problem} />
      {secret && <SecretOnce secret={secret} />}
      <dl class="facts">
        <dt>Client id</dt>
        <dd>
          <code>{client.clientId}</code>
        </dd>
        <dt>Grants</dt>
        <dd>{client.grantTypes.join(', ')}</dd>
        <dt>Authentication</dt>
        <dd>
          {client.authMethod}
          {client.hasSecret ? ' (has a secret)' : ''}
        </dd>
        <dt>Redirect URIs</dt>
        <dd>{client.redirectUris.join(', ') || '—'}</dd>
        <dt>First party</dt>
        <dd>{client.firstParty ? 'yes (no consent screen)' : 'no'}</dd>
        <dt>Minimum acr</dt>
        <dd>{client.minimumAcr ?? '—'}</dd>
        <dt>Refresh grace</dt>
        <dd>{client.refreshGraceSeconds === null ? "the tenant's" : `${client.refreshGraceSeconds} s`}</dd>
        <dt>Managed by</dt>
        <dd>{client.readOnly ? `${client.managedBy} (read-only here)` : client.managedBy}</dd>
        <dt>Changed</dt>
        <dd>{when(client.updatedAt)}</dd>
      </dl>
      {client.readOnly && client.managedBy.endsWith('.yaml') && (
        <p class="detail">
          The tenant file is the source of truth for this application: change <code>{client.managedBy}</code> and apply it (<code>facet tenant apply</code>).
        </p>
      )}
      {editable && (
        <>
          <div class="actions" role="group" aria-label="Actions">
            {client.authMethod !== 'none' && (
              <Button type="button" kind="danger" onClick={() => setAction(all.rotate)}>
                Rotate secret
              </Button>
            )}
            <Button type="button" kind="danger" onClick={() => setAction(all.delete)}>
              Delete application
            </Button>
          </div>
          <h2>Settings</h2>
          {initial && <ClientForm key={formKey} initial={initial} isNew={false} submitLabel="Save changes" problem={formProblem} onSubmit={(body) => void save(body)} />}
        </>
      )}
      <ConfirmAction action={action} onClose={() => setAction(undefined)} />
    </section>
  );
}
