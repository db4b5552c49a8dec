// A refresh in two statements (docs/benchmarks.md, issue 16): `refresh_find` reads the presented
// refresh token with its family, grant and account in one query, and `refresh_rotate` applies the
// whole rotation in one round trip and one commit — spend the presented token under the family
// lock, store its successor and the access token, move the family pointer, append the audit event.
// Both switch to the tenant role first (the begin and the tenant setup merged into the call) and
// run with this schema as their search path. The decision itself stays in Node
// (src/refresh/reuse-policy.ts): `refresh_rotate` only applies a decision taken on the family's
// generation it was read at, and does nothing (returns false) when the family moved since; the
// caller then decides again under the row lock.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Keyed hash of the grant's id, so refresh_find can fetch the Grant record with the token.
  await sql`alter table refresh_families add column grant_hash text`.execute(db);

  await sql`
    create function refresh_find(p_role text, p_token_hash text, p_now timestamptz)
    returns table (id_hash text, payload jsonb, consumed_at timestamptz, family jsonb, grant_payload jsonb, account jsonb)
    language plpgsql set search_path from current as $$
    begin
      perform set_config('role', p_role, true);
      return query
        select r.id_hash, r.payload, r.consumed_at, to_jsonb(f), g.payload, to_jsonb(u)
        from oidc_records r
        left join refresh_families f on f.grant_id = r.grant_id
        left join oidc_records g on g.kind = 'Grant' and g.id_hash = f.grant_hash and (g.expires_at is null or g.expires_at > p_now)
        left join users u on u.deleted_at is null
          and u.id = (case when f.account_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then f.account_id::uuid end)
        where r.kind = 'RefreshToken' and r.id_hash = p_token_hash and (r.expires_at is null or r.expires_at > p_now);
    end $$`.execute(db);

  await sql`
    create function refresh_rotate(
      p_role text, p_grant_id text, p_grant_hash text, p_generation integer, p_grace boolean,
      p_presented text, p_successor text, p_now timestamptz, p_records jsonb, p_audit jsonb
    ) returns boolean
    language plpgsql set search_path from current as $$
    declare
      f refresh_families%rowtype;
    begin
      perform set_config('role', p_role, true);
      select * into f from refresh_families where grant_id = p_grant_id for update;
      if not found or f.ended_at is not null or f.generation <> p_generation then
        return false;
      end if;
      if p_grace then
        -- A retry inside the grace window: the successor handed out before stops working.
        if f.previous_hash is distinct from p_presented then return false; end if;
        if f.current_hash is not null and f.current_hash <> f.previous_hash then
          delete from oidc_records where kind = 'RefreshToken' and oidc_records.id_hash = f.current_hash;
        end if;
      else
        if f.current_hash is distinct from p_presented then return false; end if;
        update oidc_records set consumed_at = p_now
          where kind = 'RefreshToken' and oidc_records.id_hash = p_presented and oidc_records.consumed_at is null;
      end if;
      update refresh_families set
        previous_hash = case when p_grace then f.previous_hash else p_presented end,
        previous_spent_at = case when p_grace then f.previous_spent_at else p_now end,
        current_hash = p_successor,
        generation = f.generation + 1,
        last_used_at = p_now,
        grant_hash = coalesce(f.grant_hash, p_grant_hash)
        where grant_id = p_grant_id;
      insert into oidc_records as o (kind, id_hash, payload, grant_id, user_code_hash, uid, expires_at)
        select r.kind, r.id_hash, r.payload::jsonb, r.grant_id, r.user_code_hash, r.uid, r.expires_at
        from jsonb_to_recordset(p_records) as r(kind text, id_hash text, payload text, grant_id text, user_code_hash text, uid text, expires_at timestamptz)
        on conflict (kind, id_hash) do update set payload = excluded.payload, grant_id = excluded.grant_id,
          user_code_hash = excluded.user_code_hash, uid = excluded.uid, expires_at = excluded.expires_at;
      if p_audit is not null then
        insert into audit_events (type, actor, subject, client_id, ip, user_agent, request_id, data, prev_hash, hash)
        values (p_audit->>'type', p_audit->>'actor', p_audit->>'subject', p_audit->>'client_id', p_audit->>'ip',
                p_audit->>'user_agent', p_audit->>'request_id', coalesce(p_audit->'data', '{}'::jsonb), '', '');
      end if;
      return true;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists refresh_rotate(text, text, text, integer, boolean, text, text, timestamptz, jsonb, jsonb)`.execute(db);
  await sql`drop function if exists refresh_find(text, text, timestamptz)`.execute(db);
  await sql`alter table refresh_families drop column if exists grant_hash`.execute(db);
}
