// Users: search by username, email or id; the table pages and sorts on the server.
import { useEffect, useState } from 'preact/hooks';
import type { Problem, UserSummary } from '../api.ts';
import { Link, ProblemText } from '../components.tsx';
import { api, base, tenantName, when } from '../context.ts';
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
      aria-label={`Sort by ${label}${sort === column ? (order === 'asc' ? ', ascending' : ', descending') : ''}`}
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
      <h1 id="users-title">Users</h1>
      <form
        role="search"
        class="inline"
        onSubmit={(event) => {
          event.preventDefault();
          void load();
        }}
      >
        <Field id="user-search" label="Search by username, email or id">
          <input id="user-search" type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} autocomplete="off" />
        </Field>
        <Field id="user-status" label="Show" class="narrow">
          <select id="user-status" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="live">Active accounts</option>
            <option value="deleted">Deleted (restorable)</option>
            <option value="all">All</option>
          </select>
        </Field>
        <Button>Search</Button>
      </form>
      <ProblemText problem={problem} />
      {rows && (
        <>
          <p class="detail" role="status">
            {rows.length === 0 ? 'No users match.' : `${rows.length} user${rows.length === 1 ? '' : 's'} on this page.`}
          </p>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Users of {tenantName}</caption>
              <thead>
                <tr>
                  <th scope="col" aria-sort={sort === 'username' ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
                    {sortButton('username', 'Username')}
                  </th>
                  <th scope="col">Email</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="wide" aria-sort={sort === 'created_at' ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
                    {sortButton('created_at', 'Created')}
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
                    <td>{user.email ?? '—'}</td>
                    <td>{user.deletedAt ? 'deleted' : user.status}</td>
                    <td class="wide">{when(user.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="actions" aria-label="Pages">
            {cursors.length > 0 && (
              <Button type="button" kind="secondary" onClick={() => void load(cursors.length > 1 ? cursors[cursors.length - 2] : undefined, cursors.slice(0, -1))}>
                Previous page
              </Button>
            )}
            {next && (
              <Button type="button" kind="secondary" onClick={() => void load(next, [...cursors, next])}>
                Next page
              </Button>
            )}
          </nav>
        </>
      )}
    </section>
  );
}
