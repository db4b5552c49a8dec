// Back-channel logout (OpenID Connect Back-Channel Logout 1.0) when Facet ends a user's sessions
// itself — an admin's "sign out everywhere", an account deletion — rather than through the
// RP-initiated logout endpoint (where oidc-provider sends the logout tokens on its own).
// The targets are read from the user's sessions before they are deleted; the logout tokens
// (signed with the tenant's keys: iss, aud, iat, jti, events, sub, and sid when the client asks
// for it) are sent after the transaction that ended the sessions has committed.
import { sql } from 'kysely';
import type Provider from 'oidc-provider';
import type { TenantDb } from '../db/tenant-scope.ts';

export interface LogoutTarget {
  accountId: string;
  clientId: string;
  sid: string;
}

/** Every (client, sid) of the account's live sessions. Call before the sessions are deleted. */
export async function backchannelTargetsOf(trx: TenantDb, accountId: string): Promise<LogoutTarget[]> {
  const sessions = await trx
    .selectFrom('oidc_records')
    .select('payload')
    .where('kind', '=', 'Session')
    .where(sql`payload->>'accountId'`, '=', accountId)
    .execute();
  const targets: LogoutTarget[] = [];
  for (const { payload } of sessions) {
    const authorizations = ((payload as { authorizations?: Record<string, { sid?: string }> }).authorizations ?? {}) as Record<string, { sid?: string }>;
    for (const [clientId, authorization] of Object.entries(authorizations)) {
      if (authorization?.sid) targets.push({ accountId, clientId, sid: authorization.sid });
    }
  }
  return targets;
}

/**
 * Sends a logout token to each target whose client registered a backchannel_logout_uri. A
 * receiver that fails is reported, never retried and never fatal (the spec leaves retries to the OP;
 * the user's sessions are gone either way).
 */
export async function sendBackchannelLogouts(
  provider: Provider,
  targets: LogoutTarget[],
  onError: (error: unknown, target: LogoutTarget) => void = () => {},
): Promise<number> {
  let sent = 0;
  await Promise.all(
    targets.map(async (target) => {
      const client = (await provider.Client.find(target.clientId)) as
        | { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> }
        | undefined;
      if (!client?.backchannelLogoutUri) return;
      try {
        await client.backchannelLogout(target.accountId, target.sid);
        sent += 1;
      } catch (error) {
        onError(error, target);
      }
    }),
  );
  return sent;
}
