// Audit retention (issue 13): the append-only guard lets a DELETE through only inside a
// transaction that set facet.audit_retention = 'on' — which only the retention job does, as the
// schema owner, behind a signed checkpoint. The tenant role has no DELETE privilege at all, so it
// still cannot remove a row whatever it sets.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function audit_events_immutable() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' and coalesce(current_setting('facet.audit_retention', true), '') = 'on' then
        return old;
      end if;
      raise exception 'audit_events is append-only' using errcode = 'insufficient_privilege';
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function audit_events_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only' using errcode = 'insufficient_privilege';
    end $$`.execute(db);
}
