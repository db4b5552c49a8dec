// Several refresh rotations of one tenant in one transaction (issue 16, docs/benchmarks.md).
// Every rotation appends an audit event, and the audit chain's per-tenant lock
// (audit_events_chain, 0001) is held until the commit's WAL flush: measured under load, the
// backends of concurrent refreshes spent most of their time waiting for that lock, one flush after
// another. A node therefore sends the rotations that became ready while its previous call was in
// flight as one `refresh_apply_batch` call: one round trip, one commit and one flush for all of
// them (src/oidc/refresh/rotation.ts). Each item is `refresh_apply` (0540) with its own checks and
// outcome, in order. The families are locked first, in grant_id order, before any audit event takes
// the chain lock, so two batches (or a batch and a single rotation) cannot wait for each other in
// a cycle.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function refresh_apply_batch(p_role text, p_items jsonb) returns jsonb
    language plpgsql set search_path from current as $$
    declare
      item jsonb;
      results jsonb := '[]'::jsonb;
    begin
      perform set_config('role', p_role, true);
      perform 1 from refresh_families
        where grant_id in (select value->>'grant_id' from jsonb_array_elements(p_items))
        order by grant_id for update;
      for i in 0 .. jsonb_array_length(p_items) - 1 loop
        item := p_items->i;
        results := results || jsonb_build_array(refresh_apply(
          p_role, item->>'grant_id', item->>'grant_hash', (item->>'generation')::integer, (item->>'grace')::boolean,
          item->>'presented', item->>'successor', (item->>'at')::timestamptz, item->'records', nullif(item->'audit', 'null'::jsonb),
          item->>'grant_version', item->>'account_id', item->>'account_version'));
      end loop;
      return results;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists refresh_apply_batch(text, jsonb)`.execute(db);
}
