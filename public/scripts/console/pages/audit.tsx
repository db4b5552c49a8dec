// Audit (issue 13): search the tenant's audit trail (filter bar; table paged with the API's opaque
// cursor), read one event with its raw JSON and chain hashes, verify the hash chain, and export
// (JSON Lines, CSV or OCSF JSON; a background job whose progress is shown, then a download that
// expires). Auditors see all of it; nothing here changes the trail. Starting an export needs a
// recent step-up (it is a sensitive action) and is audited.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AuditCatalogue, AuditEvent, AuditEventRow, AuditExport, AuditFilters, ChainVerdict, Me, Problem } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ProblemText, Sentence } from '../components.tsx';
import { api, base, format, number, t, when } from '../context.ts';
import { Field, FormProblem, fieldProps } from '../forms.tsx';
import { Button } from '../../../../ui/components/forms.tsx';

type FilterForm = { since: string; until: string; type: string; category: string; outcome: string; subject: string; actor: string; client: string; ip: string };
const EMPTY: FilterForm = { since: '', until: '', type: '', category: '', outcome: '', subject: '', actor: '', client: '', ip: '' };
const CATEGORIES = [
  ['authentication', t.audit.categoryAuthentication],
  ['account_change', t.audit.categoryAccountChange],
  ['authorize_session', t.audit.categoryAuthorizeSession],
  ['user_access', t.audit.categoryUserAccess],
  ['api_activity', t.audit.categoryApiActivity],
] as const;
const FORMATS = [
  ['jsonl', 'JSON Lines'],
  ['csv', 'CSV'],
  ['ocsf', 'OCSF JSON'],
] as const;

/** A datetime-local value (the browser's time zone) as an ISO instant. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

function filtersOf(form: FilterForm): AuditFilters {
  const filters: AuditFilters = {};
  if (form.since) filters.since = instant(form.since);
  if (form.until) filters.until = instant(form.until);
  if (form.type.trim()) filters.type = form.type.split(',').map((t) => t.trim()).filter(Boolean);
  if (form.category) filters.category = [form.category as NonNullable<AuditFilters['category']>[number]];
  if (form.outcome) filters.outcome = form.outcome as AuditFilters['outcome'];
  for (const key of ['subject', 'actor', 'client', 'ip'] as const) if (form[key].trim()) filters[key] = form[key].trim();
  return filters;
}
const queryOf = (filters: AuditFilters): Record<string, string> =>
  Object.fromEntries(Object.entries(filters).map(([key, value]) => [key, Array.isArray(value) ? value.join(',') : String(value)]));

function EventDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const [event, setEvent] = useState<AuditEvent | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    void api.auditEvent(id).then((r) => (r.ok ? setEvent(r.data) : setProblem(r.problem)));
  }, [id]);
  useEffect(() => heading.current?.focus(), [event !== undefined]);
  return (
    <section class="card event-detail" aria-labelledby="event-title">
      <h2 id="event-title" tabIndex={-1} ref={heading}>
        {format(t.audit.eventHeading, { id })}
        {event ? `: ${event.type}` : ''}
      </h2>
      <ProblemText problem={problem} />
      {event && (
        <>
          <dl class="facts">
            <dt>{t.audit.at}</dt>
            <dd>
              <time dateTime={event.at}>{when(event.at)}</time> ({event.at})
            </dd>
            <dt>{t.audit.actor}</dt>
            <dd>{event.actor ?? t.common.none}</dd>
            <dt>{t.audit.subject}</dt>
            <dd>{event.subject ?? t.common.none}</dd>
            <dt>{t.audit.client}</dt>
            <dd>{event.client_id ?? t.common.none}</dd>
            <dt>{t.audit.address}</dt>
            <dd>{event.ip ?? t.common.none}</dd>
            <dt>{t.audit.hash}</dt>
            <dd>
              <code class="wrap">{event.hash}</code>
            </dd>
            <dt>{t.audit.previousHash}</dt>
            <dd>
              <code class="wrap">{event.prev_hash}</code>
            </dd>
          </dl>
          <h3>{t.audit.rawJson}</h3>
          <pre class="raw" tabIndex={0} aria-label={format(t.audit.eventAsJson, { id })}>
            {JSON.stringify(event, null, 2)}
          </pre>
        </>
      )}
      <Button type="button" kind="secondary" onClick={onClose}>
        {t.audit.closeEvent}
      </Button>
    </section>
  );
}

function Verify() {
  const [verdict, setVerdict] = useState<ChainVerdict | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <section aria-labelledby="verify-title" class="card">
      <h2 id="verify-title">{t.audit.verifyHeading}</h2>
      <p class="detail">{t.audit.verifyText}</p>
      <Button
        type="button"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          const r = await api.verifyAuditChain();
          setBusy(false);
          if (!r.ok) return setProblem(r.problem);
          setProblem(undefined);
          setVerdict(r.data);
        }}
      >
        {t.audit.verifyButton}
      </Button>
      <ProblemText problem={problem} />
      <p role="status" id="chain-verdict" class={verdict && !verdict.ok ? 'error' : ''}>
        {busy
          ? t.audit.verifying
          : verdict
            ? verdict.ok
              ? format(t.audit.chainHolds, { rows: verdict.rows })
              : format(t.audit.chainBroken, { id: String(verdict.firstBrokenId), reason: String(verdict.reason), rows: verdict.rows })
            : ''}
      </p>
    </section>
  );
}

function Exports({ me, filters }: { me: Me; filters: AuditFilters }) {
  const page = `${base}/audit`;
  const [exports, setExports] = useState<AuditExport[]>([]);
  const [exportFormat, setExportFormat] = useState<string>('jsonl');
  const [useFilters, setUseFilters] = useState(true);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [message, setMessage] = useState('');
  const polling = useRef<number | undefined>();

  async function refresh() {
    const r = await api.auditExports();
    if (!r.ok) return setProblem(r.problem);
    setExports(r.data.exports);
    const busy = r.data.exports.some((e) => e.status === 'queued' || e.status === 'running');
    clearTimeout(polling.current);
    if (busy) polling.current = window.setTimeout(() => void refresh(), 700);
  }
  async function start(body: { format: AuditExport['format']; filters: AuditFilters }) {
    const r = await api.requestAuditExport(body, { page, action: 'export', args: { body: JSON.stringify(body) } });
    if (!r.ok) return setProblem(r.problem);
    setProblem(undefined);
    setMessage(format(t.audit.exportStarted, { format: r.data.format }));
    await refresh();
  }
  useEffect(() => {
    void refresh();
    const pending = takePendingAction(page);
    if (pending?.action === 'export' && pending.args?.body && me.stepUpFreshUntil) {
      setMessage(t.audit.exportSteppedUp);
      void start(JSON.parse(pending.args.body) as { format: AuditExport['format']; filters: AuditFilters });
    }
    return () => clearTimeout(polling.current);
  }, []);

  const filtered = Object.keys(filters).length > 0;
  return (
    <section aria-labelledby="exports-title" class="card">
      <h2 id="exports-title">{t.audit.exportsHeading}</h2>
      <p class="detail">
        <Sentence message={t.audit.exportsText} parts={{ command: <code>facet audit verify &lt;archive&gt;</code> }} />
      </p>
      <form
        class="inline"
        onSubmit={(event) => {
          event.preventDefault();
          void start({ format: exportFormat as AuditExport['format'], filters: useFilters ? filters : {} });
        }}
      >
        <div class="field narrow">
          <label for="export-format">{t.audit.format}</label>
          <select id="export-format" value={exportFormat} onChange={(e) => setExportFormat((e.target as HTMLSelectElement).value)}>
            {FORMATS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <label class="check">
          <input type="checkbox" checked={useFilters} disabled={!filtered} onChange={(e) => setUseFilters((e.target as HTMLInputElement).checked)} /> {t.audit.withFilters}{filtered ? '' : t.audit.noFiltersSet}
        </label>
        <Button>{t.audit.startExport}</Button>
      </form>
      <ProblemText problem={problem} />
      <p role="status" class="status">
        {message}
      </p>
      {exports.length > 0 && (
        <ul class="exports">
          {exports.slice(0, 10).map((e) => (
            <li key={e.id} data-export={e.id}>
              <span>
                {when(e.created_at)} · {e.format} · <strong class="export-status">{e.status}</strong>
                {e.rows_total !== null ? format(t.audit.rowsOf, { written: number(e.rows_written), total: number(e.rows_total) }) : format(t.audit.rows, { written: number(e.rows_written) })}
              </span>
              {(e.status === 'queued' || e.status === 'running') && (
                <progress max={100} value={e.progress ?? undefined} aria-label={format(t.audit.exportProgress, { id: e.id.slice(0, 8) })}>
                  {e.progress ?? 0}%
                </progress>
              )}
              {e.status === 'done' && (
                <a href={api.auditExportDownload(e.id)} download={e.file_name ?? undefined}>
                  {format(t.audit.download, { file: e.file_name ?? t.audit.theArchive })}
                  {e.expires_at ? format(t.audit.downloadUntil, { time: when(e.expires_at) }) : ''}
                </a>
              )}
              {e.status === 'failed' && <span class="error"> {e.error}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Audit({ me }: { me: Me }) {
  const [form, setForm] = useState<FilterForm>(EMPTY);
  const [filters, setFilters] = useState<AuditFilters>({});
  const [rows, setRows] = useState<AuditEventRow[] | undefined>();
  const [next, setNext] = useState<string | null>(null);
  const [trail, setTrail] = useState<string[]>([]);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [open, setOpen] = useState<string | undefined>();
  const [catalogue, setCatalogue] = useState<AuditCatalogue | undefined>();

  async function load(applied: AuditFilters, after?: string, cursors: string[] = []) {
    const r = await api.auditEvents({ ...queryOf(applied), limit: '25', ...(after ? { after } : {}) });
    if (!r.ok) return setProblem(r.problem);
    setProblem(undefined);
    setFilters(applied);
    setRows(r.data.events);
    setNext(r.data.next);
    setTrail(cursors);
  }
  useEffect(() => {
    void load({});
    void api.auditCatalogue().then((r) => r.ok && setCatalogue(r.data));
  }, []);
  const text = (key: keyof FilterForm) => (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  // The API names a bad filter by its query key; the form's fields carry the same names.
  const fields = ['since', 'until', 'type', 'category', 'outcome', 'subject', 'actor', 'client', 'ip'];

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">{t.audit.heading}</h1>
      <form
        role="search"
        aria-label={t.audit.filterLabel}
        class="audit-filters"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          setOpen(undefined);
          void load(filtersOf(form));
        }}
      >
        <FormProblem problem={problem} fields={fields} />
        <div class="filter-grid">
          <Field id="f-since" name="since" label={t.audit.from} problem={problem}>
            <input id="f-since" type="datetime-local" value={form.since} onInput={text('since')} {...fieldProps(problem, 'since', 'f-since')} />
          </Field>
          <Field id="f-until" name="until" label={t.audit.until} problem={problem}>
            <input id="f-until" type="datetime-local" value={form.until} onInput={text('until')} {...fieldProps(problem, 'until', 'f-until')} />
          </Field>
          <Field id="f-type" name="type" label={t.audit.eventType} hint={t.audit.eventTypeHint} problem={problem}>
            <input id="f-type" list="f-types" value={form.type} onInput={text('type')} autocomplete="off" {...fieldProps(problem, 'type', 'f-type')} />
            <datalist id="f-types">
              {catalogue?.events.map((e) => (
                <option key={e.type} value={e.type} />
              ))}
            </datalist>
          </Field>
          <Field id="f-category" name="category" label={t.audit.category} problem={problem}>
            <select id="f-category" value={form.category} onChange={text('category')}>
              <option value="">{t.audit.any}</option>
              {CATEGORIES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </Field>
          <Field id="f-outcome" name="outcome" label={t.audit.outcome} problem={problem}>
            <select id="f-outcome" value={form.outcome} onChange={text('outcome')}>
              <option value="">{t.audit.any}</option>
              <option value="success">{t.audit.success}</option>
              <option value="failure">{t.audit.failure}</option>
              <option value="other">{t.audit.other}</option>
            </select>
          </Field>
          <Field id="f-subject" name="subject" label={t.audit.subjectField} problem={problem}>
            <input id="f-subject" value={form.subject} onInput={text('subject')} autocomplete="off" {...fieldProps(problem, 'subject', 'f-subject')} />
          </Field>
          <Field id="f-actor" name="actor" label={t.audit.actor} problem={problem}>
            <input id="f-actor" value={form.actor} onInput={text('actor')} autocomplete="off" {...fieldProps(problem, 'actor', 'f-actor')} />
          </Field>
          <Field id="f-client" name="client" label={t.audit.clientId} problem={problem}>
            <input id="f-client" value={form.client} onInput={text('client')} autocomplete="off" {...fieldProps(problem, 'client', 'f-client')} />
          </Field>
          <Field id="f-ip" name="ip" label={t.audit.ipAddress} problem={problem}>
            <input id="f-ip" value={form.ip} onInput={text('ip')} autocomplete="off" {...fieldProps(problem, 'ip', 'f-ip')} />
          </Field>
        </div>
        <div class="actions">
          <Button>{t.audit.filter}</Button>
          <Button
            type="button"
            kind="secondary"
            onClick={() => {
              setForm(EMPTY);
              setOpen(undefined);
              void load({});
            }}
          >
            {t.audit.clearFilters}
          </Button>
        </div>
      </form>
      {rows && (
        <>
          <p class="detail" role="status">
            {rows.length === 0 ? t.audit.noMatch : format(t.audit.onPage, { count: rows.length })}
          </p>
          <div class="table-wrap" tabIndex={0} role="region" aria-label={t.audit.tableLabel}>
            <table class="audit-table">
              <caption class="visually-hidden">{t.audit.caption}</caption>
              <thead>
                <tr>
                  <th scope="col">{t.audit.event}</th>
                  <th scope="col">{t.audit.type}</th>
                  <th scope="col">{t.audit.outcome}</th>
                  <th scope="col" class="wide">{t.audit.actor}</th>
                  <th scope="col" class="wide">{t.audit.subject}</th>
                  <th scope="col" class="wide">{t.audit.client}</th>
                  <th scope="col" class="wide">{t.audit.ip}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <tr key={e.id} class={open === e.id ? 'selected' : ''}>
                    <td>
                      <Button type="button" kind="link" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? undefined : e.id)}>
                        #{e.id}
                        <span class="visually-hidden">{t.audit.details}</span>
                      </Button>
                      <br />
                      <time dateTime={e.at} class="detail">
                        {when(e.at)}
                      </time>
                    </td>
                    <td>
                      <code>{e.type}</code>
                    </td>
                    <td>{e.outcome ?? t.common.none}</td>
                    <td class="wide">
                      <code class="wrap">{e.actor ?? t.common.none}</code>
                    </td>
                    <td class="wide">
                      <code class="wrap">{e.subject ?? t.common.none}</code>
                    </td>
                    <td class="wide">{e.client_id ?? t.common.none}</td>
                    <td class="wide">{e.ip ?? t.common.none}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="actions" aria-label={t.common.pages}>
            {trail.length > 0 && (
              <Button type="button" kind="secondary" onClick={() => void load(filters, trail.length > 1 ? trail[trail.length - 2] : undefined, trail.slice(0, -1))}>
                {t.audit.newer}
              </Button>
            )}
            {next && (
              <Button type="button" kind="secondary" onClick={() => void load(filters, next, [...trail, next])}>
                {t.audit.older}
              </Button>
            )}
          </nav>
        </>
      )}
      {open && <EventDetail id={open} onClose={() => setOpen(undefined)} />}
      <div class="audit-tools">
        <Verify />
        <Exports me={me} filters={filters} />
      </div>
    </section>
  );
}
