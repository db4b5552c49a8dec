// A user's page as the admin API shows it (src/admin/users-api.ts, GET /users/{id}): profile,
// factors, lockouts, connected apps (live refresh families), open sessions and recent security
// events, read in one tenant transaction. The user's console roles come from src/admin/roles.ts.
import { sql } from 'kysely';
import type { TenantDb } from '../db/tenant-scope.ts';
import { findAnyUserById } from './users.ts';

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** Undefined when there is no such user (soft-deleted users are shown). */
export async function userDetailOf(trx: TenantDb, id: string, roles: string[]) {
  const user = await findAnyUserById(trx, id);
  if (!user) return undefined;
  const [passkeys, otp, nfc, face, recovery, lockouts, apps, accountSessions, consoleSessions, events] = await Promise.all([
    trx.selectFrom('webauthn_credentials').select(['id', 'name', 'created_at', 'last_used_at', 'aaguid', 'backup_state']).where('user_id', '=', id).orderBy('created_at').execute(),
    trx.selectFrom('totp_factors').select(['id', 'created_at', 'last_used_at', 'confirmed_at']).where('user_id', '=', id).where('confirmed_at', 'is not', null).executeTakeFirst(),
    trx.selectFrom('nfc_cards').select(['id', 'name', 'uid', 'created_at', 'last_used_at']).where('user_id', '=', id).orderBy('created_at').execute(),
    trx.selectFrom('face_templates').select(['id', 'model', 'created_at']).where('user_id', '=', id).orderBy('created_at').execute(),
    trx.selectFrom('recovery_codes').select(sql<string>`count(*)`.as('n')).where('user_id', '=', id).where('used_at', 'is', null).executeTakeFirstOrThrow(),
    trx.selectFrom('factor_lockouts').select(['factor', 'failures', 'locked_until', 'disabled']).where('user_id', '=', id).where((eb) => eb.or([eb('failures', '>', 0), eb('disabled', '=', true), eb('locked_until', 'is not', null)])).execute(),
    trx
      .selectFrom('refresh_families')
      .select(['client_id', sql<string>`count(*)`.as('n'), sql<Date>`max(last_used_at)`.as('last')])
      .where('account_id', '=', id)
      .where('ended_at', 'is', null)
      .groupBy('client_id')
      .orderBy('client_id')
      .execute(),
    trx.selectFrom('account_sessions').select(sql<string>`count(*)`.as('n')).where('user_id', '=', id).where('expires_at', '>', new Date()).executeTakeFirstOrThrow(),
    trx.selectFrom('console_sessions').select(sql<string>`count(*)`.as('n')).where('user_id', '=', id).where('expires_at', '>', new Date()).executeTakeFirstOrThrow(),
    trx.selectFrom('audit_events').select(['id', 'at', 'type', 'actor', 'ip', 'client_id']).where('subject', '=', id).orderBy('id', 'desc').limit(20).execute(),
  ]);
  return {
    user: {
      id: user.id,
      username: user.username,
      email: user.email,
      emailVerified: user.email_verified,
      displayName: user.display_name,
      status: user.status,
      createdAt: iso(user.created_at)!,
      deletedAt: iso(user.deleted_at),
      roles,
    },
    factors: {
      passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, createdAt: iso(p.created_at)!, lastUsedAt: iso(p.last_used_at), detail: [p.backup_state ? 'synced' : 'device-bound', p.aaguid ? `AAGUID ${p.aaguid}` : null].filter(Boolean).join(', ') })),
      otp: otp ? { id: otp.id, name: 'Authenticator app', createdAt: iso(otp.confirmed_at ?? otp.created_at)!, lastUsedAt: iso(otp.last_used_at), detail: null } : null,
      nfc: nfc.map((c) => ({ id: c.id, name: c.name, createdAt: iso(c.created_at)!, lastUsedAt: iso(c.last_used_at), detail: `UID ${c.uid}` })),
      face: face.map((f) => ({ id: f.id, name: 'Face template', createdAt: iso(f.created_at)!, lastUsedAt: null, detail: f.model })),
      recoveryCodesLeft: Number(recovery.n),
    },
    lockouts: lockouts.map((l) => ({ factor: l.factor, failures: Number(l.failures), lockedUntil: iso(l.locked_until), disabled: l.disabled })),
    connectedApps: apps.map((a) => ({ clientId: a.client_id, families: Number(a.n), lastUsedAt: iso(a.last)! })),
    sessions: { account: Number(accountSessions.n), console: Number(consoleSessions.n) },
    events: events.map((e) => ({ id: String(e.id), at: iso(e.at)!, type: e.type, actor: e.actor, ip: e.ip, clientId: e.client_id })),
  };
}
