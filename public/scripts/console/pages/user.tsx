// A user's page: profile, factors, lockouts, sessions, recent security events, and the helpdesk and
// admin actions (each confirmed; delete and restore need a recent step-up).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Me, PendingAction, Problem, UserDetail } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ConfirmAction, Link, ProblemText, type Action } from '../components.tsx';
import { api, base, when } from '../context.ts';
import { Field, FormProblem, fieldProps, useChecked } from '../forms.tsx';
import { profileBody } from '../../../../src/admin/user-settings.ts';
import { Button } from '../../../../ui/components/forms.tsx';

/** Edit a profile, checked with the API's schema before it is sent; a problem about one field is shown next to that field. */
function ProfileForm({ id, detail, onSaved }: { id: string; detail: UserDetail; onSaved: (text: string) => Promise<void> }) {
  const [serverProblem, setProblem] = useState<Problem | undefined>();
  const { problem, check, formProps } = useChecked(profileBody, serverProblem);
  const form = useRef<HTMLFormElement>(null);
  const bodyOf = () => {
    const displayName = (form.current!.elements.namedItem('profile-name') as HTMLInputElement).value.trim();
    const email = (form.current!.elements.namedItem('profile-email') as HTMLInputElement).value.trim();
    return { displayName: displayName || null, ...(email ? { email } : {}) };
  };
  return (
    <details class="card">
      <summary>Edit profile</summary>
      <form
        ref={form}
        noValidate
        {...formProps(bodyOf)}
        onSubmit={async (event) => {
          event.preventDefault();
          const body = bodyOf();
          if (!check(body, form.current!)) return;
          const result = await api.editProfile(id, body);
          if (!result.ok) return setProblem(result.problem);
          setProblem(undefined);
          await onSaved('Profile saved.');
        }}
      >
        <FormProblem problem={problem} fields={['displayName', 'email']} />
        <Field id="profile-name" name="displayName" label="Display name" problem={problem}>
          <input id="profile-name" name="profile-name" maxLength={100} defaultValue={detail.user.displayName ?? ''} {...fieldProps(problem, 'displayName', 'profile-name')} />
        </Field>
        <Field id="profile-email" name="email" label="Email address" problem={problem}>
          <input id="profile-email" name="profile-email" type="email" defaultValue={detail.user.email ?? ''} {...fieldProps(problem, 'email', 'profile-email')} />
        </Field>
        <Button>Save profile</Button>
      </form>
    </details>
  );
}

export function User({ id, me }: { id: string; me: Me }) {
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
    <Button type="button" kind={a.danger ? 'danger' : secondary ? 'secondary' : undefined} onClick={() => setAction(a)}>
      {a.label}
    </Button>
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
      <ConfirmAction action={action} onClose={() => setAction(undefined)} />
    </section>
  );
}
