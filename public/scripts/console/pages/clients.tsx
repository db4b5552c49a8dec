// Applications (OAuth clients) of the tenant.
import { useEffect, useState } from 'preact/hooks';
import type { ClientSummary, Problem } from '../api.ts';
import { ProblemText } from '../components.tsx';
import { api } from '../context.ts';

export function Clients() {
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
