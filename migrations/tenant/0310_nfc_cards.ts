// NTAG 424 DNA cards enrolled as a factor. The card keys are stored encrypted (the caller's
// encrypt/decrypt pair). last_counter is only ever raised by a conditional UPDATE, so one tap URL
// can be accepted once even when submitted twice at the same moment.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('nfc_cards')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    // 7-byte UID, uppercase hex; a physical card belongs to one account per tenant.
    .addColumn('uid', 'text', (c) => c.notNull().unique().check(sql`uid ~ '^[0-9A-F]{14}$'`))
    .addColumn('keys_encrypted', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('last_counter', 'integer', (c) => c.check(sql`last_counter between 0 and 16777215`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('nfc_cards_user').on('nfc_cards').column('user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('nfc_cards').execute();
}
