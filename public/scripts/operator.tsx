// The platform operator console (issue 12): one Preact page, bundled by scripts/build-assets.ts into
// /assets/build/operator.js and loaded under the strict CSP with the page's nonce. A client of the
// operator API only (/operator/api, described at /operator/api/openapi.json): tenants with status,
// pool state and pending migrations; create; disable and enable (each confirmed); apply a tenant file.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { format, t } from './shared/language.ts';
import { LanguageSwitcher } from './shared/language-switcher.tsx';

interface Tenant {
  slug: string;
  name: string;
  status: 'active' | 'disabled';
  configVersion: number;
  operatorTenant: boolean;
  pool: { warm: boolean; inFlight: number };
  migrations: { pending: string[] };
}
interface Problem {
  title?: string;
  detail?: string;
  code?: string;
  redirect?: string;
  errors?: Array<{ path?: string; message?: string }>;
}

const root = document.getElementById('operator')!;
const apiBase = root.dataset.api ?? '/operator/api';
const csrf = root.dataset.csrf ?? '';

async function call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ ok: true; data: T } | { ok: false; problem: Problem }> {
  const response = await fetch(`${apiBase}${path}`, {
    method: init.method ?? 'GET',
    headers: { accept: 'application/json', 'x-facet-csrf': csrf, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    credentials: 'same-origin',
  });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (response.status === 401) location.assign('/console/sign-in');
  return response.ok ? { ok: true, data: json as T } : { ok: false, problem: (json as Problem) ?? { title: `HTTP ${response.status}` } };
}

function ProblemText({ problem }: { problem: Problem | undefined }) {
  if (!problem) return null;
  return (
    <p class="problem" role="alert">
      {problem.detail ?? problem.title}
      {problem.errors?.length ? <span> ({problem.errors.map((e) => `${e.path ?? ''}: ${e.message ?? ''}`).join('; ')})</span> : null}
      {problem.code === 'step_up_required' && problem.redirect ? (
        <>
          {' '}
          <a href={problem.redirect}>{t.operator.stepUpNow}</a>{t.operator.thenAgain}
        </>
      ) : null}
    </p>
  );
}

function TenantRow({ tenant, onChange }: { tenant: Tenant; onChange: (problem?: Problem) => void }) {
  const [confirming, setConfirming] = useState(false);
  const disable = tenant.status === 'active';
  const act = async () => {
    setConfirming(false);
    const result = await call<{ tenant: Tenant }>(`/tenants/${tenant.slug}/${disable ? 'disable' : 'enable'}`, { method: 'POST' });
    onChange(result.ok ? undefined : result.problem);
  };
  return (
    <tr>
      <td>
        <strong>{tenant.slug}</strong>
        <br />
        <span class="muted">{tenant.name}</span>
      </td>
      <td>
        <span class={`badge ${tenant.status}`}>{tenant.status}</span>
        {tenant.operatorTenant ? <span class="badge">{t.operator.operatorTenant}</span> : null}
      </td>
      <td>{tenant.pool.warm ? format(t.operator.warm, { count: tenant.pool.inFlight }) : t.operator.cold}</td>
      <td>{tenant.migrations.pending.length === 0 ? t.operator.upToDate : format(t.operator.pending, { count: tenant.migrations.pending.length, names: tenant.migrations.pending.join(', ') })}</td>
      <td>v{tenant.configVersion}</td>
      <td>
        {tenant.operatorTenant ? null : confirming ? (
          <span role="group" aria-label={format(t.operator.confirmFor, { slug: tenant.slug })}>
            {format(disable ? t.operator.disableQuestion : t.operator.enableQuestion, { slug: tenant.slug })}
            <button type="button" class={disable ? 'danger' : ''} onClick={act}>
              {disable ? t.operator.disable : t.operator.enable}
            </button>{' '}
            <button type="button" onClick={() => setConfirming(false)}>
              {t.common.cancel}
            </button>
          </span>
        ) : (
          <button type="button" onClick={() => setConfirming(true)}>
            {disable ? t.operator.disableStart : t.operator.enableStart}
          </button>
        )}
      </td>
    </tr>
  );
}

function CreateTenant({ onDone }: { onDone: () => void }) {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<Problem | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const result = await call('/tenants', { method: 'POST', body: { slug, ...(name ? { name } : {}) } });
    if (!result.ok) return setProblem(result.problem);
    setProblem(undefined);
    setSlug('');
    setName('');
    onDone();
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="create-heading">
      <h2 id="create-heading">{t.operator.createHeading}</h2>
      <label>
        {t.operator.slug}
        <input name="slug" required pattern="[a-z0-9-]{2,40}" value={slug} onInput={(e) => setSlug((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        {t.operator.name}
        <input name="name" maxLength={120} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </label>
      <ProblemText problem={problem} />
      <button type="submit">{t.operator.create}</button>
    </form>
  );
}

function ApplyFile({ onDone }: { onDone: () => void }) {
  const [yaml, setYaml] = useState('');
  const [problem, setProblem] = useState<Problem | undefined>();
  const [report, setReport] = useState<string | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const result = await call<{ slug: string; created: boolean; clients: Record<string, string[]> }>('/tenant-files', { method: 'POST', body: { yaml } });
    if (!result.ok) {
      setReport(undefined);
      return setProblem(result.problem);
    }
    setProblem(undefined);
    const c = result.data.clients;
    setReport(format(t.operator.applied, { created: result.data.created ? 'yes' : 'no', slug: result.data.slug, added: c.added?.length ?? 0, updated: c.updated?.length ?? 0, removed: c.removed?.length ?? 0 }));
    onDone();
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="apply-heading">
      <h2 id="apply-heading">{t.operator.applyHeading}</h2>
      <label>
        {t.operator.tenantFile}
        <textarea name="yaml" rows={10} required value={yaml} onInput={(e) => setYaml((e.target as HTMLTextAreaElement).value)} />
      </label>
      <ProblemText problem={problem} />
      {report ? <p role="status">{report}</p> : null}
      <button type="submit">{t.operator.apply}</button>
    </form>
  );
}

function App() {
  const [tenants, setTenants] = useState<Tenant[] | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const load = async () => {
    const result = await call<{ tenants: Tenant[] }>('/tenants');
    if (result.ok) setTenants(result.data.tenants);
    else setProblem(result.problem);
  };
  useEffect(() => {
    void load();
  }, []);
  return (
    <main class="console-main">
      <header class="console-header">
        <h1>{t.operator.heading}</h1>
        <div>
          {format(t.operator.signedInAs, { user: root.dataset.user ?? '', tenant: root.dataset.operatorTenant ?? '' })}{' '}
          <form method="post" action="/console/sign-out" class="inline">
            <input type="hidden" name="csrf" value={csrf} />
            <button type="submit">{t.operator.signOut}</button>
          </form>
        </div>
        <LanguageSwitcher />
      </header>
      <ProblemText problem={problem} />
      <section class="card" aria-labelledby="tenants-heading">
        <h2 id="tenants-heading">{t.operator.tenants}</h2>
        {tenants === undefined ? (
          <p>{t.common.loading}</p>
        ) : (
          <div class="table-scroll">
            <table>
              <caption class="visually-hidden">{t.operator.caption}</caption>
              <thead>
                <tr>
                  <th scope="col">{t.operator.tenant}</th>
                  <th scope="col">{t.operator.status}</th>
                  <th scope="col">{t.operator.pool}</th>
                  <th scope="col">{t.operator.migrations}</th>
                  <th scope="col">{t.operator.config}</th>
                  <th scope="col">{t.operator.action}</th>
                </tr>
              </thead>
              <tbody>
                {tenants.map((tenant) => (
                  <TenantRow key={tenant.slug} tenant={tenant} onChange={(p) => (setProblem(p), void load())} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <CreateTenant onDone={() => void load()} />
      <ApplyFile onDone={() => void load()} />
    </main>
  );
}

render(<App />, root);
