// A refresh in one round trip (issue 16, docs/benchmarks.md). `refresh_apply` replaces
// `refresh_rotate` (0510): it applies a rotation — spend the presented token under the family lock,
// store its successor and the access token, move the family pointer, append the audit event — and
// first checks, under that lock, that everything the rotation was decided and minted on still holds:
//   - the family is at the generation read and still names the presented token (else 'moved': the
//     caller decides again under the lock);
//   - the grant record and the account row are the very rows read (same xmin), the account is live
//     and active, the presented token is still stored (else 'gone' when something was removed or
//     disabled, 'stale' when it was only changed; nothing is written in either case).
// It returns `{ outcome, family }` with the family row as it now is. With those checks the node that
// applied a rotation can keep what it read and wrote (the successor, its family, grant and account)
// and serve the next refresh of that family without reading: that refresh is this one call, one
// round trip and one commit (src/oidc/refresh/rotation.ts). `refresh_find` now also returns the
// versions (xmin) of the grant and account rows it read.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop function refresh_find(text, text, timestamptz)`.execute(db);
  await sql`
    create function refresh_find(p_role text, p_token_hash text, p_now timestamptz)
    returns table (id_hash text, payload jsonb, consumed_at timestamptz, family jsonb, grant_payload jsonb, account jsonb, grant_version text, account_version text)
    language plpgsql set search_path from current as $$
    begin
      perform set_config('role', p_role, true);
      return query
        select r.id_hash, r.payload, r.consumed_at, to_jsonb(f), g.payload, to_jsonb(u), g.xmin::text, u.xmin::text
        from oidc_records r
        left join refresh_families f on f.grant_id = r.grant_id
        left join oidc_records g on g.kind = 'Grant' and g.id_hash = f.grant_hash and (g.expires_at is null or g.expires_at > p_now)
        left join users u on u.deleted_at is null
          and u.id = (case when f.account_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then f.account_id::uuid end)
        where r.kind = 'RefreshToken' and r.id_hash = p_token_hash and (r.expires_at is null or r.expires_at > p_now);
    end $$`.execute(db);

  await sql`drop function refresh_rotate(text, text, text, integer, boolean, text, text, timestamptz, jsonb, jsonb)`.execute(db);
  await sql`
    create function refresh_apply(
      p_role text, p_grant_id text, p_grant_hash text, p_generation integer, p_grace boolean,
      p_presented text, p_successor text, p_now timestamptz, p_records jsonb, p_audit jsonb,
      p_grant_version text, p_account_id text, p_account_version text
    ) returns jsonb
    language plpgsql set search_path from current as $$
    declare
      f refresh_families%rowtype;
      v_version text;
      v_status text;
    begin
      perform set_config('role', p_role, true);
      select * into f from refresh_families where grant_id = p_grant_id for update;
      if not found or f.ended_at is not null or f.generation <> p_generation
         or (p_grace and f.previous_hash is distinct from p_presented)
         or (not p_grace and f.current_hash is distinct from p_presented) then
        return jsonb_build_object('outcome', 'moved');
      end if;
      -- What the tokens were minted on: the grant and the account, exactly as read.
      if p_grant_version is not null then
        select g.xmin::text into v_version from oidc_records g
          where g.kind = 'Grant' and g.id_hash = p_grant_hash and (g.expires_at is null or g.expires_at > p_now);
        if not found then return jsonb_build_object('outcome', 'gone'); end if;
        if v_version <> p_grant_version then return jsonb_build_object('outcome', 'stale'); end if;
      end if;
      if p_account_id is not null then
        select u.xmin::text, u.status into v_version, v_status from users u
          where u.deleted_at is null
            and u.id = (case when p_account_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then p_account_id::uuid end);
        if not found or v_status <> 'active' then return jsonb_build_object('outcome', 'gone'); end if;
        if v_version is distinct from p_account_version then return jsonb_build_object('outcome', 'stale'); end if;
      end if;
      if p_grace then
        -- A retry inside the grace window: the successor handed out before stops working.
        if f.current_hash is not null and f.current_hash <> f.previous_hash then
          delete from oidc_records where kind = 'RefreshToken' and oidc_records.id_hash = f.current_hash;
        end if;
      else
        -- The first write: when the token was removed (revoked) meanwhile, nothing has been written.
        update oidc_records set consumed_at = p_now
          where kind = 'RefreshToken' and oidc_records.id_hash = p_presented and oidc_records.consumed_at is null
            and (oidc_records.expires_at is null or oidc_records.expires_at > p_now);
        if not found then return jsonb_build_object('outcome', 'gone'); end if;
      end if;
      update refresh_families set
        previous_hash = case when p_grace then f.previous_hash else p_presented end,
        previous_spent_at = case when p_grace then f.previous_spent_at else p_now end,
        current_hash = p_successor,
        generation = f.generation + 1,
        last_used_at = p_now,
        grant_hash = coalesce(f.grant_hash, p_grant_hash)
        where grant_id = p_grant_id
        returning * into f;
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
      return jsonb_build_object('outcome', 'applied', 'family', to_jsonb(f));
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists refresh_apply(text, text, text, integer, boolean, text, text, timestamptz, jsonb, jsonb, text, text, text)`.execute(db);
  await sql`drop function if exists refresh_find(text, text, timestamptz)`.execute(db);
  // Back to 0510's two functions.
  const previous = await import('./0510_refresh_rotation.ts');
  await sql`alter table refresh_families drop column if exists grant_hash`.execute(db);
  await previous.up(db);
}
