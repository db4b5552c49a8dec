// One application: its settings, and for an admin (unless a tenant file or Facet itself manages
// it) edit, rotate the secret (shown once) and delete. Every change needs a fresh step-up; after
// one the console offers the action again.
import { useEffect, useState } from 'preact/hooks';
import type { ClientBody, ClientSettings, ClientSummary, Me, Problem } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ConfirmAction, Link, ProblemText, Sentence, type Action } from '../components.tsx';
import { api, base, format, navigate, t, when } from '../context.ts';
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
      <h2 id="secret-title">{t.client.secretHeading}</h2>
      <p>{t.client.secretOnce}</p>
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
        {t.client.copySecret}
      </Button>
      <span role="status" class="detail">
        {copied ? t.client.copied : ''}
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
    setMessage(t.client.saved);
  }
  const actions = (c: ClientSummary): Record<string, Action> => ({
    rotate: {
      kind: 'rotate',
      title: format(t.client.rotateTitle, { name: c.name ?? c.clientId }),
      body: t.client.rotateBody,
      label: t.client.rotateLabel,
      danger: true,
      run: async () => {
        const r = await api.rotateClientSecret(id, { page, action: 'rotate' });
        if (!r.ok) return setProblem(r.problem);
        setProblem(undefined);
        setSecret(r.data.secret);
        setMessage(t.client.rotated);
      },
    },
    delete: {
      kind: 'delete',
      title: format(t.client.deleteTitle, { name: c.name ?? c.clientId }),
      body: t.client.deleteBody,
      label: t.client.deleteLabel,
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
        setMessage(t.common.steppedUp);
        if (pending.action === 'save' && pending.args?.body) {
          const body = JSON.parse(pending.args.body) as ClientSettings;
          start = initialValues(body);
          setAction({ kind: 'save', title: format(t.client.saveTitle, { name: c.name ?? c.clientId }), body: t.client.saveBody, label: t.client.saveLabel, run: () => save(body) });
        } else {
          const offered = actions(c)[pending.action];
          if (offered) setAction(offered);
        }
      }
      setInitial(start);
    })();
  }, [id]);

  if (!client) return <section>{problem ? <ProblemText problem={problem} /> : <p role="status">{t.common.loading}</p>}</section>;
  const editable = isAdmin && !client.readOnly;
  const all = actions(client);
  return (
    <section aria-labelledby="client-title">
      <p>
        <Link href={`${base}/clients`}>{t.clients.back}</Link>
      </p>
      <h1 id="client-title">{client.name ?? client.clientId}</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ProblemText problem={problem} />
      {secret && <SecretOnce secret={secret} />}
      <dl class="facts">
        <dt>{t.client.clientId}</dt>
        <dd>
          <code>{client.clientId}</code>
        </dd>
        <dt>{t.client.grants}</dt>
        <dd>{client.grantTypes.join(', ')}</dd>
        <dt>{t.client.authentication}</dt>
        <dd>
          {client.authMethod}
          {client.hasSecret ? t.client.hasSecret : ''}
        </dd>
        <dt>{t.client.redirectUris}</dt>
        <dd>{client.redirectUris.join(', ') || t.common.none}</dd>
        <dt>{t.client.firstParty}</dt>
        <dd>{client.firstParty ? t.client.firstPartyYes : t.client.firstPartyNo}</dd>
        <dt>{t.client.minimumAcr}</dt>
        <dd>{client.minimumAcr ?? t.common.none}</dd>
        <dt>{t.client.refreshGrace}</dt>
        <dd>{client.refreshGraceSeconds === null ? t.client.tenantsGrace : format(t.client.seconds, { seconds: client.refreshGraceSeconds })}</dd>
        <dt>{t.client.managedBy}</dt>
        <dd>{client.readOnly ? format(t.common.readOnlyHere, { managedBy: client.managedBy }) : client.managedBy}</dd>
        <dt>{t.client.changed}</dt>
        <dd>{when(client.updatedAt)}</dd>
      </dl>
      {client.readOnly && client.managedBy.endsWith('.yaml') && (
        <p class="detail">
          <Sentence message={t.client.fileIsSource} parts={{ file: <code>{client.managedBy}</code>, command: <code>facet tenant apply</code> }} />
        </p>
      )}
      {editable && (
        <>
          <div class="actions" role="group" aria-label={t.common.actions}>
            {client.authMethod !== 'none' && (
              <Button type="button" kind="danger" onClick={() => setAction(all.rotate)}>
                {t.client.rotateLabel}
              </Button>
            )}
            <Button type="button" kind="danger" onClick={() => setAction(all.delete)}>
              {t.client.deleteLabel}
            </Button>
          </div>
          <h2>{t.client.settings}</h2>
          {initial && <ClientForm key={formKey} initial={initial} isNew={false} submitLabel={t.client.saveLabel} problem={formProblem} onSubmit={(body) => void save(body)} />}
        </>
      )}
      <ConfirmAction action={action} onClose={() => setAction(undefined)} />
    </section>
  );
}
