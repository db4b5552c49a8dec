// The platform operator console (issue 12): one Preact page, bundled by scripts/build-assets.ts into
// /assets/build/operator.js and loaded under the strict CSP with the page's nonce. A client of the
// operator API only (/operator/api, described at /operator/api/openapi.json): tenants with status,
// pool state and pending migrations; create; disable and enable (each confirmed); apply a tenant file.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

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
          <a href={problem.redirect}>Step up now</a>, then do it again.
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
        {tenant.operatorTenant ? <span class="badge"> operator tenant</span> : null}
      </td>
      <td>{tenant.pool.warm ? `warm (${tenant.pool.inFlight} in flight)` : 'cold'}</td>
      <td>{tenant.migrations.pending.length === 0 ? 'up to date' : `${tenant.migrations.pending.length} pending: ${tenant.migrations.pending.join(', ')}`}</td>
      <td>v{tenant.configVersion}</td>
      <td>
        {tenant.operatorTenant ? null : confirming ? (
          <span role="group" aria-label={`Confirm for ${tenant.slug}`}>
            {disable ? `Disable ${tenant.slug}? Its sign-ins, tokens, pages and admin API stop at once. ` : `Enable ${tenant.slug} again? `}
            <button type="button" class={disable ? 'danger' : ''} onClick={act}>
              {disable ? 'Disable' : 'Enable'}
            </button>{' '}
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" onClick={() => setConfirming(true)}>
            {disable ? 'Disable…' : 'Enable…'}
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
      <h2 id="create-heading">Create a tenant</h2>
      <label>
        Slug (2–40 characters: a-z, 0-9, -)
        <input name="slug" required pattern="[a-z0-9-]{2,40}" value={slug} onInput={(e) => setSlug((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Name
        <input name="name" maxLength={120} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </label>
      <ProblemText problem={problem} />
      <button type="submit">Create</button>
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
    setReport(`${result.data.created ? 'Created' : 'Updated'} ${result.data.slug}: clients added ${c.added?.length ?? 0}, updated ${c.updated?.length ?? 0}, removed ${c.removed?.length ?? 0}.`);
    onDone();
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="apply-heading">
      <h2 id="apply-heading">Apply a tenant file</h2>
      <label>
        Tenant file (YAML, as in tenants/&lt;slug&gt;.yaml)
        <textarea name="yaml" rows={10} required value={yaml} onInput={(e) => setYaml((e.target as HTMLTextAreaElement).value)} />
      </label>
      <ProblemText problem={problem} />
      {report ? <p role="status">{report}</p> : null}
      <button type="submit">Apply</button>
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
        <h1>Operator console</h1>
        <div>
          Signed in as {root.dataset.user} ({root.dataset.operatorTenant}).{' '}
          <form method="post" action="/console/sign-out" class="inline">
            <input type="hidden" name="csrf" value={csrf} />
            <button type="submit">Sign out</button>
          </form>
        </div>
      </header>
      <ProblemText problem={problem} />
      <section class="card" aria-labelledby="tenants-heading">
        <h2 id="tenants-heading">Tenants</h2>
        {tenants === undefined ? (
          <p>Loading…</p>
        ) : (
          <div class="table-scroll">
            <table>
              <caption class="visually-hidden">Tenants with status, pool state in this process and pending migrations</caption>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Status</th>
                  <th scope="col">Pool (this node)</th>
                  <th scope="col">Migrations</th>
                  <th scope="col">Config</th>
                  <th scope="col">Action</th>
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
