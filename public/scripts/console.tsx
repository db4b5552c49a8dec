// The hosted console (issue 12): a Preact app served under the strict CSP (this file is bundled by
// scripts/build-assets.ts into /assets/build/console.js and loaded with the page's nonce). It is a
// client of the admin API only (./console/api.ts). Pages: users (search, table, a user's page with
// actions) and admins (who holds which role; grant and revoke).
import { Fragment, render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { createApi, takePendingAction, type Api, type ClientSummary, type Me, type SigningKey, type PendingAction, type Problem, type RoleGrant, type UserDetail, type UserSummary } from './console/api.ts';

const root = document.getElementById('console')!;
const base = root.dataset.base!;
const api = createApi(base, root.dataset.csrf!);
const tenantName = root.dataset.tenant ?? '';
const accountPage = root.dataset.account ?? '';

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

function navigate(to: string) {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

function Link({ href, children, class: className }: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={href}
      class={className}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

function ProblemText({ problem }: { problem: Problem | undefined }) {
  if (!problem) return null;
  return (
    <p class="error" role="alert">
      {problem.detail || problem.title}
    </p>
  );
}

/** A confirmation that says what will happen; Escape or Cancel closes it. */
function Confirm({ title, body, confirmLabel, danger, onConfirm, onClose }: { title: string; body: string; confirmLabel: string; danger?: boolean; onConfirm: () => void; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current!;
    if (!dialog.open) dialog.showModal();
    const close = () => onClose();
    dialog.addEventListener('close', close);
    return () => dialog.removeEventListener('close', close);
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-body">
      <h2 id="confirm-title">{title}</h2>
      <p id="confirm-body">{body}</p>
      <div class="actions">
        <button type="button" class={danger ? 'danger' : ''} onClick={() => { ref.current?.close(); onConfirm(); }}>
          {confirmLabel}
        </button>
        <button type="button" class="secondary" onClick={() => ref.current?.close()}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

function Users() {
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
        <div class="field">
          <label for="user-search">Search by username, email or id</label>
          <input id="user-search" type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} autocomplete="off" />
        </div>
        <div class="field narrow">
          <label for="user-status">Show</label>
          <select id="user-status" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="live">Active accounts</option>
            <option value="deleted">Deleted (restorable)</option>
            <option value="all">All</option>
          </select>
        </div>
        <button type="submit">Search</button>
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
              <button type="button" class="secondary" onClick={() => void load(cursors.length > 1 ? cursors[cursors.length - 2] : undefined, cursors.slice(0, -1))}>
                Previous page
              </button>
            )}
            {next && (
              <button type="button" class="secondary" onClick={() => void load(next, [...cursors, next])}>
                Next page
              </button>
            )}
          </nav>
        </>
      )}
    </section>
  );
}

/** Edit a profile; a problem about one field is shown next to that field. */
function ProfileForm({ id, detail, onSaved }: { id: string; detail: UserDetail; onSaved: (text: string) => Promise<void> }) {
  const [problem, setProblem] = useState<Problem | undefined>();
  const emailProblem = problem && (problem.code === 'email_taken' || /email/.test(problem.detail)) ? problem : undefined;
  return (
    <details class="card">
      <summary>Edit profile</summary>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const form = event.currentTarget as HTMLFormElement;
          const displayName = (form.elements.namedItem('profile-name') as HTMLInputElement).value.trim();
          const email = (form.elements.namedItem('profile-email') as HTMLInputElement).value.trim();
          const result = await api.editProfile(id, { displayName: displayName || null, ...(email ? { email } : {}) });
          if (!result.ok) return setProblem(result.problem);
          setProblem(undefined);
          await onSaved('Profile saved.');
        }}
      >
        <label for="profile-name">Display name</label>
        <input id="profile-name" name="profile-name" maxLength={100} value={detail.user.displayName ?? ''} />
        <label for="profile-email">Email address</label>
        <input id="profile-email" name="profile-email" type="email" value={detail.user.email ?? ''} aria-invalid={emailProblem ? 'true' : undefined} aria-describedby={emailProblem ? 'profile-email-error' : undefined} />
        {emailProblem && (
          <p class="error" id="profile-email-error" role="alert">
            {emailProblem.detail}
          </p>
        )}
        {problem && !emailProblem && <ProblemText problem={problem} />}
        <button type="submit">Save profile</button>
      </form>
    </details>
  );
}

type Action = { kind: string; title: string; body: string; label: string; danger?: boolean; run: () => Promise<void> };

function User({ id, me }: { id: string; me: Me }) {
  const [detail, setDetail] = useState<UserDetail | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [message, setMessage] = useState('');
  const [action, setAction] = useState<Action | undefined>();
  const page = `${base}/users/${id}`;
  const isAdmin = me.roles.includes('admin');
  const isHelpdesk = isAdmin || me.roles.includes('helpdesk');

  async function load() {
    const result = await api.user(id);
    if (result.ok) setDetail(result.data);
    else setProblem(result.problem);
  }
  const done = async (text: string, result: { ok: boolean; problem?: Problem }) => {
    if (result.ok) {
      setProblem(undefined);
      setMessage(text);
      await load();
    } else setProblem(result.problem);
  };

  const actions = (d: UserDetail): Record<string, Action> => ({
    signOut: {
      kind: 'signOut',
      title: `Sign ${d.user.username} out everywhere?`,
      body: 'Every session, grant and refresh token of this user ends now; the apps they use are told (back-channel logout). They can sign in again.',
      label: 'Sign out everywhere',
      run: async () => {
        const r = await api.signOut(id);
        await done(r.ok ? `Signed out: ${r.data.sessions} session(s), ${r.data.families_ended} refresh-token famil${r.data.families_ended === 1 ? 'y' : 'ies'} ended.` : '', r.ok ? r : { ok: false, problem: r.problem });
      },
    },
    lock: {
      kind: 'lock',
      title: `Lock ${d.user.username}'s account?`,
      body: 'They cannot sign in until the account is unlocked, and every session ends now.',
      label: 'Lock account',
      danger: true,
      run: async () => done('Account locked.', await api.lock(id)),
    },
    unlock: {
      kind: 'unlock',
      title: `Unlock ${d.user.username}?`,
      body: 'The account can sign in again, and every factor lockout is cleared.',
      label: 'Unlock',
      run: async () => {
        const a = await api.unlockAccount(id);
        if (!a.ok) return done('', a);
        await done('Unlocked.', await api.unlockFactors(id));
      },
    },
    resetOtp: {
      kind: 'resetOtp',
      title: 'Reset the authenticator app?',
      body: `The app of ${d.user.username} is removed; they must add it again before it counts for step-up.`,
      label: 'Reset the app',
      danger: true,
      run: async () => done('The authenticator app was removed.', await api.resetFactor(id, 'otp')),
    },
    delete: {
      kind: 'delete',
      title: `Delete ${d.user.username}?`,
      body: 'The account is soft-deleted: signed out everywhere, face templates destroyed, erased after the retention period unless restored. This needs a recent step-up.',
      label: 'Delete user',
      danger: true,
      run: async () => {
        const r = await api.deleteUser(id, { page, action: 'delete' });
        await done('Deleted. It can be restored until it is erased.', r.ok ? r : { ok: false, problem: r.problem });
      },
    },
    restore: {
      kind: 'restore',
      title: `Restore ${d.user.username}?`,
      body: 'The account comes back (its sessions do not). This needs a recent step-up.',
      label: 'Restore user',
      run: async () => done('Restored.', await api.restoreUser(id, { page, action: 'restore' })),
    },
  });

  useEffect(() => {
    void (async () => {
      await load();
    })();
  }, [id]);
  // Back from a step-up: offer the action that asked for it again.
  useEffect(() => {
    if (!detail) return;
    const pending: PendingAction | undefined = takePendingAction(page);
    // Only when the step-up worked (a failed one leaves nothing to continue).
    const offered = pending && me.stepUpFreshUntil && actions(detail)[pending.action];
    if (offered) {
      setMessage('You confirmed it is you. Confirm the action to go on.');
      setAction(offered);
    }
  }, [detail !== undefined]);

  if (!detail) return <section>{problem ? <ProblemText problem={problem} /> : <p role="status">Loading…</p>}</section>;
  const all = actions(detail);
  const { user, factors } = detail;
  const deleted = user.deletedAt !== null;
  const enrolled = [
    ...factors.passkeys.map((f) => ({ ...f, kind: 'Passkey' })),
    ...(factors.otp ? [{ ...factors.otp, kind: 'App' }] : []),
    ...factors.nfc.map((f) => ({ ...f, kind: 'NFC card' })),
    ...factors.face.map((f) => ({ ...f, kind: 'Face' })),
  ];
  const button = (a: Action, secondary = true) => (
    <button type="button" class={a.danger ? 'danger' : secondary ? 'secondary' : ''} onClick={() => setAction(a)}>
      {a.label}
    </button>
  );
  return (
    <section aria-labelledby="user-title">
      <p>
        <Link href={`${base}/users`}>← Users</Link>
      </p>
      <h1 id="user-title">{user.username}</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ProblemText problem={problem} />
      <dl class="facts">
        <dt>Email</dt>
        <dd>{user.email ?? '—'}{user.email && !user.emailVerified ? ' (not verified)' : ''}</dd>
        <dt>Name</dt>
        <dd>{user.displayName ?? '—'}</dd>
        <dt>Status</dt>
        <dd>{deleted ? `deleted ${when(user.deletedAt)}` : user.status}</dd>
        <dt>Created</dt>
        <dd>{when(user.createdAt)}</dd>
        <dt>Console roles</dt>
        <dd>{user.roles.join(', ') || 'none'}</dd>
        <dt>Id</dt>
        <dd>
          <code>{user.id}</code>
        </dd>
      </dl>
      {isHelpdesk && (
        <div class="actions" role="group" aria-label="Actions">
          {!deleted && button(all.signOut!)}
          {!deleted && user.status !== 'locked' && button(all.lock!)}
          {!deleted && (user.status === 'locked' || detail.lockouts.length > 0) && button(all.unlock!)}
          {!deleted && factors.otp && button(all.resetOtp!)}
          {isAdmin && !deleted && button(all.delete!)}
          {isAdmin && deleted && button(all.restore!)}
        </div>
      )}
      {isAdmin && !deleted && <ProfileForm id={id} detail={detail} onSaved={async (text) => { setMessage(text); await load(); }} />}
      <h2>Factors</h2>
      <table>
        <caption class="visually-hidden">Enrolled factors</caption>
        <thead>
          <tr>
            <th scope="col">Factor</th>
            <th scope="col">Added</th>
            <th scope="col">Last used</th>
          </tr>
        </thead>
        <tbody>
          {enrolled.length === 0 && (
            <tr>
              <td colSpan={3}>No factor enrolled.</td>
            </tr>
          )}
          {enrolled.map((f) => (
            <tr key={f.id}>
              <td>
                {f.kind}: {f.name}
                {f.detail && <span class="detail"> ({f.detail})</span>}
              </td>
              <td>{when(f.createdAt)}</td>
              <td>{when(f.lastUsedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="detail">{factors.recoveryCodesLeft} unused recovery code(s).</p>
      {detail.lockouts.length > 0 && (
        <>
          <h2>Lockouts</h2>
          <ul>
            {detail.lockouts.map((l) => (
              <li key={l.factor}>
                {l.factor}: {l.disabled ? 'disabled until unlocked' : `locked until ${when(l.lockedUntil)}`} ({l.failures} failures)
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>Sessions and connected apps</h2>
      <p>
        {detail.sessions.account} account-page session(s), {detail.sessions.console} console session(s).
      </p>
      {detail.connectedApps.length > 0 ? (
        <ul>
          {detail.connectedApps.map((a) => (
            <li key={a.clientId}>
              {a.clientId}: {a.families} active refresh-token famil{a.families === 1 ? 'y' : 'ies'}, last used {when(a.lastUsedAt)}
            </li>
          ))}
        </ul>
      ) : (
        <p class="detail">No app holds a refresh token.</p>
      )}
      <h2>Recent security events</h2>
      <ol class="events">
        {detail.events.map((e) => (
          <li key={e.id}>
            <time dateTime={e.at}>{when(e.at)}</time> <code>{e.type}</code>
            {e.clientId ? ` · ${e.clientId}` : ''}
            {e.ip ? ` · ${e.ip}` : ''}
          </li>
        ))}
      </ol>
      {action && <Confirm title={action.title} body={action.body} confirmLabel={action.label} danger={action.danger} onConfirm={() => void action.run()} onClose={() => setAction(undefined)} />}
    </section>
  );
}

function Admins({ me }: { me: Me }) {
  const [grants, setGrants] = useState<RoleGrant[] | undefined>();
  const [summary, setSummary] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | undefined>();
  const [message, setMessage] = useState('');
  const [who, setWho] = useState('');
  const [role, setRole] = useState('helpdesk');
  const [invite, setInvite] = useState<string | undefined>();
  const [action, setAction] = useState<Action | undefined>();
  const page = `${base}/admins`;
  const isAdmin = me.roles.includes('admin');

  async function load() {
    const result = await api.roles();
    if (!result.ok) return setProblem(result.problem);
    setGrants(result.data.roles);
    setSummary(result.data.summary);
  }
  useEffect(() => {
    void load();
  }, []);
  useEffect(() => {
    const pending = takePendingAction(page);
    if (!me.stepUpFreshUntil) return;
    if (pending?.action === 'grant' && pending.args) {
      const { userId, role: r, username } = pending.args as { userId: string; role: string; username: string };
      setMessage('You confirmed it is you. Confirm the change to go on.');
      setAction(grantAction(userId, username, r));
    }
    if (pending?.action === 'revoke' && pending.args) {
      const { userId, role: r, username } = pending.args as { userId: string; role: string; username: string };
      setMessage('You confirmed it is you. Confirm the change to go on.');
      setAction(revokeAction(userId, username, r));
    }
  }, []);

  const finish = async (text: string, r: { ok: boolean; problem?: Problem }) => {
    if (r.ok) {
      setMessage(text);
      setProblem(undefined);
      await load();
    } else setProblem(r.problem);
  };
  const grantAction = (userId: string, username: string, r: string): Action => ({
    kind: 'grant',
    title: `Make ${username} ${r}?`,
    body: `${username} gets the ${r} role: ${summary[r] ?? ''}. This needs a recent step-up and is audited.`,
    label: `Grant ${r}`,
    run: async () => {
      const result = await api.grant(userId, r, { page, action: 'grant', args: { userId, role: r, username } });
      await finish(`${username} is now ${r}.`, result.ok ? result : { ok: false, problem: result.problem });
    },
  });
  const revokeAction = (userId: string, username: string, r: string): Action => ({
    kind: 'revoke',
    title: `Take ${r} from ${username}?`,
    body: `${username} loses the ${r} role; without any role their console sessions end. This needs a recent step-up and is audited.`,
    label: `Revoke ${r}`,
    danger: true,
    run: async () => {
      const result = await api.revoke(userId, r, { page, action: 'revoke', args: { userId, role: r, username } });
      await finish(`${r} revoked from ${username}.`, result.ok ? result : { ok: false, problem: result.problem });
    },
  });

  return (
    <section aria-labelledby="admins-title">
      <h1 id="admins-title">Admins</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ProblemText problem={problem} />
      <dl class="facts">
        {Object.entries(summary).map(([r, text]) => (
          <Fragment key={r}>
            <dt>{r}</dt>
            <dd>{text}</dd>
          </Fragment>
        ))}
      </dl>
      {grants && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Role grants</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col" class="wide">Granted by</th>
                {isAdmin && <th scope="col">Action</th>}
              </tr>
            </thead>
            <tbody>
              {grants.map((g) => (
                <tr key={`${g.userId}-${g.role}`}>
                  <td>
                    <Link href={`${base}/users/${g.userId}`}>{g.username}</Link>
                  </td>
                  <td>{g.role}</td>
                  <td class="wide">
                    {g.source}
                    {g.source === 'file' ? ` (tenants/${root.dataset.slug}.yaml)` : ''}, {when(g.grantedAt)}
                  </td>
                  {isAdmin && (
                    <td>
                      {g.source === 'file' ? (
                        <span class="detail">managed by the tenant file</span>
                      ) : (
                        <button type="button" class="danger small" onClick={() => setAction(revokeAction(g.userId, g.username, g.role))}>
                          Revoke<span class="visually-hidden"> {g.role} from {g.username}</span>
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {isAdmin && (
        <>
          <h2>Grant a role</h2>
          <form
            class="inline"
            onSubmit={async (event) => {
              event.preventDefault();
              const found = await api.users({ q: who.trim(), limit: '2' });
              if (!found.ok) return setProblem(found.problem);
              const user = found.data.users.find((u) => u.username.toLowerCase() === who.trim().toLowerCase() || u.email?.toLowerCase() === who.trim().toLowerCase() || u.id === who.trim()) ?? (found.data.users.length === 1 ? found.data.users[0] : undefined);
              if (!user) return setProblem({ title: 'Not found', status: 404, code: 'not_found', detail: `No single user matches “${who}”. Give the exact username, email address or id.` });
              setAction(grantAction(user.id, user.username, role));
            }}
          >
            <div class="field">
              <label for="grant-user">User (username, email or id)</label>
              <input id="grant-user" required value={who} onInput={(e) => setWho((e.target as HTMLInputElement).value)} />
            </div>
            <div class="field narrow">
              <label for="grant-role">Role</label>
              <select id="grant-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
                <option value="admin">admin</option>
                <option value="helpdesk">helpdesk</option>
                <option value="auditor">auditor</option>
              </select>
            </div>
            <button type="submit">Grant…</button>
          </form>
          <h2>Invite a new admin</h2>
          <form
            class="inline"
            onSubmit={async (event) => {
              event.preventDefault();
              const form = event.currentTarget as HTMLFormElement;
              const email = (form.elements.namedItem('invite-email') as HTMLInputElement).value;
              const r = (form.elements.namedItem('invite-role') as HTMLSelectElement).value;
              const result = await api.invite(email, r);
              if (!result.ok) return setProblem(result.problem);
              setProblem(undefined);
              setInvite(result.data.url);
            }}
          >
            <div class="field">
              <label for="invite-email">Email address</label>
              <input id="invite-email" name="invite-email" type="email" required />
            </div>
            <div class="field narrow">
              <label for="invite-role">Role</label>
              <select id="invite-role" name="invite-role">
                <option value="admin">admin</option>
                <option value="helpdesk">helpdesk</option>
                <option value="auditor">auditor</option>
              </select>
            </div>
            <button type="submit">Create link</button>
          </form>
          {invite && (
            <p role="status">
              Send this single-use link (no mail is sent): <code class="wrap">{invite}</code>
            </p>
          )}
        </>
      )}
      {action && <Confirm title={action.title} body={action.body} confirmLabel={action.label} danger={action.danger} onConfirm={() => void action.run()} onClose={() => setAction(undefined)} />}
    </section>
  );
}

function Keys({ me }: { me: Me }) {
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
    title: 'Rotate the signing keys?',
    body: 'New ES256 and RS256 keys start signing tokens now. The current keys keep verifying during the overlap, then retire. This needs a recent step-up and is audited.',
    label: 'Rotate keys',
    danger: true,
    run: async () => {
      const r = await api.rotateKeys({ page, action: 'rotate' });
      if (!r.ok) return setProblem(r.problem);
      setProblem(undefined);
      setMessage(`Rotated: new keys ${r.data.created.join(', ')}.`);
      await load();
    },
  };
  useEffect(() => {
    void load();
    const pending = takePendingAction(page);
    if (pending?.action === 'rotate' && me.stepUpFreshUntil) {
      setMessage('You confirmed it is you. Confirm the rotation to go on.');
      setAction(rotate);
    }
  }, []);
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Signing keys</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ProblemText problem={problem} />
      <p class="detail">Rotated keys keep verifying for {Math.round(overlap / 3600)} hours, then retire.</p>
      {keys && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Signing keys</caption>
            <thead>
              <tr>
                <th scope="col">Key id</th>
                <th scope="col">Algorithm</th>
                <th scope="col">Status</th>
                <th scope="col" class="wide">Created</th>
                <th scope="col" class="wide">Retires</th>
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
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {me.roles.includes('admin') && (
        <button type="button" class="danger" onClick={() => setAction(rotate)}>
          Rotate keys
        </button>
      )}
      {action && <Confirm title={action.title} body={action.body} confirmLabel={action.label} danger={action.danger} onConfirm={() => void action.run()} onClose={() => setAction(undefined)} />}
    </section>
  );
}

function Clients() {
  const [clients, setClients] = useState<ClientSummary[] | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  useEffect(() => {
    void api.clients().then((r) => (r.ok ? setClients(r.data.clients) : setProblem(r.problem)));
  }, []);
  return (
    <section aria-labelledby="clients-title">
      <h1 id="clients-title">Applications</h1>
      <ProblemText problem={problem} />
      {clients?.map((c) => (
        <article class="card" key={c.clientId} aria-labelledby={`client-${c.clientId}`}>
          <h2 id={`client-${c.clientId}`}>{c.name ?? c.clientId}</h2>
          <dl class="facts">
            <dt>Client id</dt>
            <dd>
              <code>{c.clientId}</code>
            </dd>
            <dt>Grants</dt>
            <dd>{c.grantTypes.join(', ')}</dd>
            <dt>Authentication</dt>
            <dd>{c.authMethod}</dd>
            <dt>Redirect URIs</dt>
            <dd>{c.redirectUris.join(', ') || '—'}</dd>
            <dt>First party</dt>
            <dd>{c.firstParty ? 'yes (no consent screen)' : 'no'}</dd>
            {c.minimumAcr && (
              <>
                <dt>Minimum acr</dt>
                <dd>{c.minimumAcr}</dd>
              </>
            )}
            <dt>Managed by</dt>
            <dd>{c.readOnly ? `${c.managedBy} (read-only here)` : c.managedBy}</dd>
          </dl>
        </article>
      ))}
    </section>
  );
}

function App() {
  const [path, setPath] = useState(location.pathname);
  const [me, setMe] = useState<Me | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    void api.me().then((r) => (r.ok ? setMe(r.data) : setProblem(r.problem)));
    return () => removeEventListener('popstate', onPop);
  }, []);
  useEffect(() => {
    document.getElementById('console-main')?.focus();
  }, [path]);

  const user = new RegExp(`^${base}/users/([0-9a-f-]{36})$`).exec(path);
  const stepUpFresh = me?.stepUpFreshUntil ? new Date(me.stepUpFreshUntil) : null;
  const nav = [
    { href: `${base}/users`, label: 'Users', show: true },
    { href: `${base}/admins`, label: 'Admins', show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
    { href: `${base}/clients`, label: 'Applications', show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
    { href: `${base}/keys`, label: 'Keys', show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
  ];
  return (
    <>
      <a class="skip" href="#console-main">
        Skip to content
      </a>
      <header class="console-header">
        <span class="tenant">{tenantName} · Console</span>
        <nav aria-label="Console">
          <ul>
            {nav
              .filter((n) => n.show)
              .map((n) => (
                <li key={n.href}>
                  <Link href={n.href} class={path.startsWith(n.href) ? 'current' : ''}>
                    {n.label}
                  </Link>
                </li>
              ))}
          </ul>
        </nav>
        {me?.user && (
          <div class="who">
            <span>
              {me.user.username} ({me.roles.join(', ')})
              {stepUpFresh ? ` · verified until ${stepUpFresh.toLocaleTimeString()}` : ''}
            </span>
            <a href={accountPage}>Account</a>
            <form method="post" action={`${base}/sign-out`}>
              <input type="hidden" name="csrf" value={root.dataset.csrf} />
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          </div>
        )}
      </header>
      <main id="console-main" tabIndex={-1}>
        <ProblemText problem={problem} />
        {me &&
          (user ? (
            <User id={user[1]!} me={me} />
          ) : path === `${base}/admins` ? (
            <Admins me={me} />
          ) : path === `${base}/keys` ? (
            <Keys me={me} />
          ) : path === `${base}/clients` ? (
            <Clients />
          ) : (
            <Users />
          ))}
      </main>
    </>
  );
}

if (location.pathname === base || location.pathname === `${base}/`) history.replaceState(null, '', `${base}/users`);
render(<App />, root);
export type { Api };
