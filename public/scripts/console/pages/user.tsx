// A user's page: profile, factors, lockouts, sessions, recent security events, and the helpdesk and
// admin actions (each confirmed; delete and restore need a recent step-up).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Me, PendingAction, Problem, UserDetail } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ConfirmAction, Link, ProblemText, type Action } from '../components.tsx';
import { api, base, format, t, when } from '../context.ts';
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
      <summary>{t.user.editProfile}</summary>
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
          await onSaved(t.user.profileSaved);
        }}
      >
        <FormProblem problem={problem} fields={['displayName', 'email']} />
        <Field id="profile-name" name="displayName" label={t.user.displayName} problem={problem}>
          <input id="profile-name" name="profile-name" maxLength={100} defaultValue={detail.user.displayName ?? ''} {...fieldProps(problem, 'displayName', 'profile-name')} />
        </Field>
        <Field id="profile-email" name="email" label={t.user.emailAddress} problem={problem}>
          <input id="profile-email" name="profile-email" type="email" defaultValue={detail.user.email ?? ''} {...fieldProps(problem, 'email', 'profile-email')} />
        </Field>
        <Button>{t.user.saveProfile}</Button>
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
      title: format(t.user.signOutTitle, { username: d.user.username }),
      body: t.user.signOutBody,
      label: t.user.signOutLabel,
      run: async () => {
        const r = await api.signOut(id);
        await done(r.ok ? format(t.user.signedOut, { sessions: r.data.sessions, families: r.data.families_ended }) : '', r.ok ? r : { ok: false, problem: r.problem });
      },
    },
    lock: {
      kind: 'lock',
      title: format(t.user.lockTitle, { username: d.user.username }),
      body: t.user.lockBody,
      label: t.user.lockLabel,
      danger: true,
      run: async () => done(t.user.locked, await api.lock(id)),
    },
    unlock: {
      kind: 'unlock',
      title: format(t.user.unlockTitle, { username: d.user.username }),
      body: t.user.unlockBody,
      label: t.user.unlockLabel,
      run: async () => {
        const a = await api.unlockAccount(id);
        if (!a.ok) return done('', a);
        await done(t.user.unlocked, await api.unlockFactors(id));
      },
    },
    resetOtp: {
      kind: 'resetOtp',
      title: t.user.resetOtpTitle,
      body: format(t.user.resetOtpBody, { username: d.user.username }),
      label: t.user.resetOtpLabel,
      danger: true,
      run: async () => done(t.user.otpReset, await api.resetFactor(id, 'otp')),
    },
    delete: {
      kind: 'delete',
      title: format(t.user.deleteTitle, { username: d.user.username }),
      body: t.user.deleteBody,
      label: t.user.deleteLabel,
      danger: true,
      run: async () => {
        const r = await api.deleteUser(id, { page, action: 'delete' });
        await done(t.user.deleted, r.ok ? r : { ok: false, problem: r.problem });
      },
    },
    restore: {
      kind: 'restore',
      title: format(t.user.restoreTitle, { username: d.user.username }),
      body: t.user.restoreBody,
      label: t.user.restoreLabel,
      run: async () => done(t.user.restored, await api.restoreUser(id, { page, action: 'restore' })),
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
      setMessage(t.common.steppedUp);
      setAction(offered);
    }
  }, [detail !== undefined]);

  if (!detail) return <section>{problem ? <ProblemText problem={problem} /> : <p role="status">{t.common.loading}</p>}</section>;
  const all = actions(detail);
  const { user, factors } = detail;
  const deleted = user.deletedAt !== null;
  const enrolled = [
    ...factors.passkeys.map((f) => ({ ...f, kind: t.user.kindPasskey })),
    ...(factors.otp ? [{ ...factors.otp, kind: t.user.kindApp }] : []),
    ...factors.nfc.map((f) => ({ ...f, kind: t.user.kindNfc })),
    ...factors.face.map((f) => ({ ...f, kind: t.user.kindFace })),
  ];
  const button = (a: Action, secondary = true) => (
    <Button type="button" kind={a.danger ? 'danger' : secondary ? 'secondary' : undefined} onClick={() => setAction(a)}>
      {a.label}
    </Button>
  );
  return (
    <section aria-labelledby="user-title">
      <p>
        <Link href={`${base}/users`}>{t.user.back}</Link>
      </p>
      <h1 id="user-title">{user.username}</h1>
      <p role="status" class="status">
        {message}
      </p>
      <ProblemText problem={problem} />
      <dl class="facts">
        <dt>{t.user.email}</dt>
        <dd>{user.email ?? t.common.none}{user.email && !user.emailVerified ? t.user.notVerified : ''}</dd>
        <dt>{t.user.name}</dt>
        <dd>{user.displayName ?? t.common.none}</dd>
        <dt>{t.user.status}</dt>
        <dd>{deleted ? format(t.user.deletedAt, { time: when(user.deletedAt) }) : user.status}</dd>
        <dt>{t.user.created}</dt>
        <dd>{when(user.createdAt)}</dd>
        <dt>{t.user.consoleRoles}</dt>
        <dd>{user.roles.join(', ') || t.user.noRoles}</dd>
        <dt>{t.user.id}</dt>
        <dd>
          <code>{user.id}</code>
        </dd>
      </dl>
      {isHelpdesk && (
        <div class="actions" role="group" aria-label={t.common.actions}>
          {!deleted && button(all.signOut!)}
          {!deleted && user.status !== 'locked' && button(all.lock!)}
          {!deleted && (user.status === 'locked' || detail.lockouts.length > 0) && button(all.unlock!)}
          {!deleted && factors.otp && button(all.resetOtp!)}
          {isAdmin && !deleted && button(all.delete!)}
          {isAdmin && deleted && button(all.restore!)}
        </div>
      )}
      {isAdmin && !deleted && <ProfileForm id={id} detail={detail} onSaved={async (text) => { setMessage(text); await load(); }} />}
      <h2>{t.user.factors}</h2>
      <table>
        <caption class="visually-hidden">{t.user.factorsCaption}</caption>
        <thead>
          <tr>
            <th scope="col">{t.user.factor}</th>
            <th scope="col">{t.user.added}</th>
            <th scope="col">{t.user.lastUsed}</th>
          </tr>
        </thead>
        <tbody>
          {enrolled.length === 0 && (
            <tr>
              <td colSpan={3}>{t.user.noFactor}</td>
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
      <p class="detail">{format(t.user.recoveryLeft, { count: factors.recoveryCodesLeft })}</p>
      {detail.lockouts.length > 0 && (
        <>
          <h2>{t.user.lockouts}</h2>
          <ul>
            {detail.lockouts.map((l) => (
              <li key={l.factor}>
                {format(t.user.lockoutFailures, { factor: l.factor, state: l.disabled ? t.user.disabledUntilUnlocked : format(t.user.lockedUntil, { time: when(l.lockedUntil) }), failures: l.failures })}
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>{t.user.sessionsHeading}</h2>
      <p>
        {format(t.user.sessions, { account: detail.sessions.account, console: detail.sessions.console })}
      </p>
      {detail.connectedApps.length > 0 ? (
        <ul>
          {detail.connectedApps.map((a) => (
            <li key={a.clientId}>
              {format(t.user.connectedApp, { client: a.clientId, families: a.families, time: when(a.lastUsedAt) })}
            </li>
          ))}
        </ul>
      ) : (
        <p class="detail">{t.user.noConnectedApp}</p>
      )}
      <h2>{t.user.events}</h2>
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
