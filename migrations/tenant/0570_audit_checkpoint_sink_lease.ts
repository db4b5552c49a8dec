// Checkpoint delivery without a transaction open over the network (issue 11): a node takes a
// sink by a lease (lease_owner, leased_until) in a short transaction, commits, delivers, and in
// another short transaction advances the cursor only while the lease is still its own. A node that
// died mid-delivery holds the sink only until leased_until; the next node then delivers again
// (delivery is at least once, as it was when a transaction rolled back after the sink accepted).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('audit_checkpoint_sinks')
    .addColumn('lease_owner', 'text')
    .addColumn('leased_until', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_checkpoint_sinks').dropColumn('lease_owner').dropColumn('leased_until').execute();
}
