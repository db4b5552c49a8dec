// Users: search by username, email or id; the table pages and sorts on the server.
import { useEffect, useState } from 'preact/hooks';
import type { Problem, UserSummary } from '../api.ts';
import { Link, ProblemText } from '../components.tsx';
import { api, base, format, t, tenantName, when } from '../context.ts';
import { Button, Field } from '../../../../ui/components/forms.tsx';

export function Users() {
  const params = new URLSearchParams(location.search);
  const [q, setQ] = useState(params.get('q') ?? '');
  const [status, setStatus] = useState(params.get('status') ?? 'live');
  const [sort, setSort] = useState(params.get('sort') ?? 'created_at');
  const [order, setOrder] = useState(params.get('order') ?? 'desc');
  const [rows, setRows] = useState<UserSummary[] | undefined>();
  const [next, setNext] = useState<string | null>(null);
  const [cursors, setCursors] = useState<string[]>([]);
  const [problem, setProblem] = useState<Problem | undefined>();

  async function load(after?: string, trail: string[] = []) {
    const query: Record<string, string> = { status, sort, order, limit: '25' };
    if (q.trim()) query.q = q.trim();
    if (after) query.after = after;
    const result = await api.users(query);
    if (!result.ok) return setProblem(result.problem);
    setProblem(undefined);
    setRows(result.data.users);
    setNext(result.data.next);
    setCursors(trail);
  }
  useEffect(() => {
    void load();
  }, [sort, order, status]);

  const sortButton = (column: string, label: string) => (
    <button
      type="button"
      class="sort"
      aria-label={format(t.users.sortBy, { column: label, state: sort === column ? order : 'none' })}
      onClick={() => {
        if (sort === column) setOrder(order === 'asc' ? 'desc' : 'asc');
        else {
          setSort(column);
          setOrder(column === 'username' ? 'asc' : 'desc');
        }
      }}
    >
      {label} {sort === column ? (order === 'asc' ? '▲' : '▼') : ''}
    </button>
  );

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">{t.users.heading}</h1>
      <form
        role="search"
        class="inline"
        onSubmit={(event) => {
          event.preventDefault();
          void load();
        }}
      >
        <Field id="user-search" label={t.users.search}>
          <input id="user-search" type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} autocomplete="off" />
        </Field>
        <Field id="user-status" label={t.users.show} class="narrow">
          <select id="user-status" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="live">{t.users.live}</option>
            <option value="deleted">{t.users.deleted}</option>
            <option value="all">{t.users.all}</option>
          </select>
        </Field>
        <Button>{t.users.searchButton}</Button>
      </form>
      <ProblemText problem={problem} />
      {rows && (
        <>
          <p class="detail" role="status">
            {rows.length === 0 ? t.users.noMatch : format(t.users.onPage, { count: rows.length })}
          </p>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">{format(t.users.caption, { tenant: tenantName })}</caption>
              <thead>
                <tr>
                  <th scope="col" aria-sort={sort === 'username' ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
                    {sortButton('username', t.users.username)}
                  </th>
                  <th scope="col">{t.users.email}</th>
                  <th scope="col">{t.users.status}</th>
                  <th scope="col" class="wide" aria-sort={sort === 'created_at' ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
                    {sortButton('created_at', t.users.created)}
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((user) => (
                  <tr key={user.id}>
                    <td>
                      <Link href={`${base}/users/${user.id}`}>{user.username}</Link>
                      {user.roles.length > 0 && <span class="badge">{user.roles.join(', ')}</span>}
                    </td>
                    <td>{user.email ?? t.common.none}</td>
                    <td>{user.deletedAt ? t.users.deletedStatus : user.status}</td>
                    <td class="wide">{when(user.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="actions" aria-label={t.common.pages}>
            {cursors.length > 0 && (
              <Button type="button" kind="secondary" onClick={() => void load(cursors.length > 1 ? cursors[cursors.length - 2] : undefined, cursors.slice(0, -1))}>
                {t.common.previousPage}
              </Button>
            )}
            {next && (
              <Button type="button" kind="secondary" onClick={() => void load(next, [...cursors, next])}>
                {t.common.nextPage}
              </Button>
            )}
          </nav>
        </>
      )}
    </section>
  );
}
