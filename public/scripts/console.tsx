// The hosted console (issue 12): a Preact app served under the strict CSP (this file is bundled by
// scripts/build-assets.ts into /assets/build/console.js and loaded with the page's nonce). It is a
// client of the admin API only (./console/api.ts). This file is the shell (header, navigation,
// routing); each page is one module under ./console/pages/, shared parts in ./console/components.tsx.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Me, Problem } from './console/api.ts';
import { Link, ProblemText } from './console/components.tsx';
import { accountPage, api, base, format, root, t, tenantName, timeOf } from './console/context.ts';
import { LanguageSwitcher } from './shared/language-switcher.tsx';
import { Admins } from './console/pages/admins.tsx';
import { Audit } from './console/pages/audit.tsx';
import { Client } from './console/pages/client.tsx';
import { Clients, NewClient } from './console/pages/clients.tsx';
import { BrandingPage } from './console/pages/branding.tsx';
import { Keys } from './console/pages/keys.tsx';
import { Overview } from './console/pages/overview.tsx';
import { PoliciesPage } from './console/pages/policies.tsx';
import { User } from './console/pages/user.tsx';
import { Users } from './console/pages/users.tsx';

function App() {
  const [path, setPath] = useState(location.pathname);
  const [me, setMe] = useState<Me | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    void api.me().then((r) => {
      if (!r.ok) return setProblem(r.problem);
      // The console's front page: the overview for admins and auditors, users for helpdesk.
      if (location.pathname === base || location.pathname === `${base}/`) {
        const home = r.data.roles.includes('admin') || r.data.roles.includes('auditor') ? `${base}/overview` : `${base}/users`;
        history.replaceState(null, '', home);
        setPath(home);
      }
      setMe(r.data);
    });
    return () => removeEventListener('popstate', onPop);
  }, []);
  useEffect(() => {
    document.getElementById('console-main')?.focus();
  }, [path]);

  const user = new RegExp(`^${base}/users/([0-9a-f-]{36})$`).exec(path);
  const client = new RegExp(`^${base}/clients/([^/]+)$`).exec(path);
  const stepUpFresh = me?.stepUpFreshUntil ? new Date(me.stepUpFreshUntil) : null;
  const nav = [
    { href: `${base}/overview`, label: t.shell.overview, show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
    { href: `${base}/users`, label: t.shell.users, show: true },
    { href: `${base}/admins`, label: t.shell.admins, show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
    { href: `${base}/clients`, label: t.shell.applications, show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
    { href: `${base}/keys`, label: t.shell.keys, show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
    { href: `${base}/policies`, label: t.shell.policies, show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
    { href: `${base}/branding`, label: t.shell.branding, show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
    { href: `${base}/audit`, label: t.shell.audit, show: Boolean(me && (me.roles.includes('admin') || me.roles.includes('auditor'))) },
  ];
  return (
    <>
      <a class="skip" href="#console-main">
        {t.common.skipToContent}
      </a>
      <header class="console-header">
        <span class="tenant">{format(t.shell.tenantConsole, { tenant: tenantName })}</span>
        <nav aria-label={t.shell.navLabel}>
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
              {stepUpFresh ? format(t.shell.verifiedUntil, { time: timeOf(stepUpFresh) }) : ''}
            </span>
            <a href={accountPage}>{t.shell.account}</a>
            <form method="post" action={`${base}/sign-out`}>
              <input type="hidden" name="csrf" value={root.dataset.csrf} />
              <button type="submit" class="link">
                {t.shell.signOut}
              </button>
            </form>
          </div>
        )}
        <LanguageSwitcher />
      </header>
      <main id="console-main" tabIndex={-1}>
        <ProblemText problem={problem} />
        {me &&
          (user ? (
            <User id={user[1]!} me={me} />
          ) : path === `${base}/admins` ? (
            <Admins me={me} />
          ) : path === `${base}/overview` ? (
            <Overview />
          ) : path === `${base}/audit` ? (
            <Audit me={me} />
          ) : path === `${base}/policies` ? (
            <PoliciesPage me={me} />
          ) : path === `${base}/branding` ? (
            <BrandingPage me={me} />
          ) : path === `${base}/keys` ? (
            <Keys me={me} />
          ) : path === `${base}/clients` ? (
            <Clients me={me} />
          ) : path === `${base}/clients/new` ? (
            <NewClient me={me} />
          ) : client ? (
            <Client id={decodeURIComponent(client[1]!)} me={me} />
          ) : (
            <Users />
          ))}
      </main>
    </>
  );
}

render(<App />, root);
