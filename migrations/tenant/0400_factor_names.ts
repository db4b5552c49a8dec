// One factor vocabulary (src/factors/names.ts): lockout rows written under the old spellings
// ('totp', 'recovery') move to 'otp' and 'recovery_code', so an administrator's unlock of `otp`
// reaches a lock the step-up page made.
import { sql, type Kysely } from 'kysely';

const RENAMES: Array<[string, string]> = [
  ['totp', 'otp'],
  ['recovery', 'recovery_code'],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [from, to] of RENAMES) {
    // A user may already have a row under the new name; the old one then only adds failures.
    await sql`
      insert into factor_lockouts (user_id, factor, failures, level, locked_until, disabled, updated_at)
      select user_id, ${to}, failures, level, locked_until, disabled, updated_at from factor_lockouts where factor = ${from}
      on conflict (user_id, factor) do update set
        failures = factor_lockouts.failures + excluded.failures,
        level = greatest(factor_lockouts.level, excluded.level),
        locked_until = greatest(factor_lockouts.locked_until, excluded.locked_until),
        disabled = factor_lockouts.disabled or excluded.disabled`.execute(db);
    await sql`delete from factor_lockouts where factor = ${from}`.execute(db);
    await sql`update failed_attempts set factor = ${to} where factor = ${from}`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [from, to] of RENAMES) {
    await sql`update factor_lockouts set factor = ${from} where factor = ${to}`.execute(db);
    await sql`update failed_attempts set factor = ${from} where factor = ${to}`.execute(db);
  }
}
