// Admins: who holds which console role; grant, revoke (both need a recent step-up) and invite.
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Me, Problem, RoleGrant } from '../api.ts';
import { takePendingAction } from '../api.ts';
import { ConfirmAction, Link, ProblemText, type Action } from '../components.tsx';
import { api, base, format, t, tenantSlug, when } from '../context.ts';
import { Field, FormProblem, fieldProps, useChecked } from '../forms.tsx';
import { inviteBody } from '../../../../src/admin/user-settings.ts';
import { Button, Field as SharedField } from '../../../../ui/components/forms.tsx';

export function Admins({ me }: { me: Me }) {
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
      setMessage(t.common.steppedUpChange);
      setAction(grantAction(userId, username, r));
    }
    if (pending?.action === 'revoke' && pending.args) {
      const { userId, role: r, username } = pending.args as { userId: string; role: string; username: string };
      setMessage(t.common.steppedUpChange);
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
    title: format(t.admins.grantTitle, { username, role: r }),
    body: format(t.admins.grantBody, { username, role: r, summary: summary[r] ?? '' }),
    label: format(t.admins.grantLabel, { role: r }),
    run: async () => {
      const result = await api.grant(userId, r, { page, action: 'grant', args: { userId, role: r, username } });
      await finish(format(t.admins.granted, { username, role: r }), result.ok ? result : { ok: false, problem: result.problem });
    },
  });
  const revokeAction = (userId: string, username: string, r: string): Action => ({
    kind: 'revoke',
    title: format(t.admins.revokeTitle, { username, role: r }),
    body: format(t.admins.revokeBody, { username, role: r }),
    label: format(t.admins.revokeLabel, { role: r }),
    danger: true,
    run: async () => {
      const result = await api.revoke(userId, r, { page, action: 'revoke', args: { userId, role: r, username } });
      await finish(format(t.admins.revoked, { username, role: r }), result.ok ? result : { ok: false, problem: result.problem });
    },
  });

  return (
    <section aria-labelledby="admins-title">
      <h1 id="admins-title">{t.admins.heading}</h1>
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
            <caption class="visually-hidden">{t.admins.caption}</caption>
            <thead>
              <tr>
                <th scope="col">{t.admins.user}</th>
                <th scope="col">{t.admins.role}</th>
                <th scope="col" class="wide">{t.admins.grantedBy}</th>
                {isAdmin && <th scope="col">{t.admins.action}</th>}
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
                    {g.source === 'file' ? ` (tenants/${tenantSlug}.yaml)` : ''}, {when(g.grantedAt)}
                  </td>
                  {isAdmin && (
                    <td>
                      {g.source === 'file' ? (
                        <span class="detail">{t.admins.managedByFile}</span>
                      ) : (
                        <Button type="button" kind="danger" small onClick={() => setAction(revokeAction(g.userId, g.username, g.role))}>
                          {t.admins.revoke}<span class="visually-hidden">{format(t.admins.revokeWhat, { role: g.role, username: g.username })}</span>
                        </Button>
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
          <h2>{t.admins.grantHeading}</h2>
          <form
            class="inline"
            onSubmit={async (event) => {
              event.preventDefault();
              const found = await api.users({ q: who.trim(), limit: '2' });
              if (!found.ok) return setProblem(found.problem);
              const user = found.data.users.find((u) => u.username.toLowerCase() === who.trim().toLowerCase() || u.email?.toLowerCase() === who.trim().toLowerCase() || u.id === who.trim()) ?? (found.data.users.length === 1 ? found.data.users[0] : undefined);
              if (!user) return setProblem({ title: t.admins.notFoundTitle, status: 404, code: 'not_found', detail: format(t.admins.notFound, { who }) });
              setAction(grantAction(user.id, user.username, role));
            }}
          >
            <SharedField id="grant-user" label={t.admins.who}>
              <input id="grant-user" required value={who} onInput={(e) => setWho((e.target as HTMLInputElement).value)} />
            </SharedField>
            <SharedField id="grant-role" label={t.admins.role} class="narrow">
              <select id="grant-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
                <option value="admin">admin</option>
                <option value="helpdesk">helpdesk</option>
                <option value="auditor">auditor</option>
              </select>
            </SharedField>
            <Button>{t.admins.grantButton}</Button>
          </form>
          <h2>{t.admins.inviteHeading}</h2>
          <InviteForm onInvited={(url) => setInvite(url)} />
          {invite && (
            <p role="status">
              {t.admins.inviteLink} <code class="wrap">{invite}</code>
            </p>
          )}
        </>
      )}
      <ConfirmAction action={action} onClose={() => setAction(undefined)} />
    </section>
  );
}

/** An invitation with a console role, checked with the API's schema before it is sent. */
function InviteForm({ onInvited }: { onInvited: (url: string) => void }) {
  const [serverProblem, setProblem] = useState<Problem | undefined>();
  const { problem, check, formProps } = useChecked(inviteBody, serverProblem);
  const form = useRef<HTMLFormElement>(null);
  const bodyOf = () => ({
    email: (form.current!.elements.namedItem('invite-email') as HTMLInputElement).value.trim(),
    role: (form.current!.elements.namedItem('invite-role') as HTMLSelectElement).value,
  });
  return (
    <form
      ref={form}
      class="inline"
      noValidate
      {...formProps(bodyOf)}
      onSubmit={async (event) => {
        event.preventDefault();
        const body = bodyOf();
        if (!check(body, form.current!)) return;
        const result = await api.invite(body.email, body.role);
        if (!result.ok) return setProblem(result.problem);
        setProblem(undefined);
        onInvited(result.data.url);
      }}
    >
      <FormProblem problem={problem} fields={['email', 'role']} />
      <Field id="invite-email" name="email" label={t.admins.emailAddress} problem={problem}>
        <input id="invite-email" name="invite-email" type="email" required {...fieldProps(problem, 'email', 'invite-email')} />
      </Field>
      <Field id="invite-role" name="role" label={t.admins.role} problem={problem}>
        <select id="invite-role" name="invite-role" {...fieldProps(problem, 'role', 'invite-role')}>
          <option value="admin">admin</option>
          <option value="helpdesk">helpdesk</option>
          <option value="auditor">auditor</option>
        </select>
      </Field>
      <Button>{t.admins.createLink}</Button>
    </form>
  );
}
