// PostgreSQL's own refusals of strings it cannot store, told apart from other bad-input errors
// (src/db/unstorable.ts): the real errors, from the real servers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { isUnstorableInputError } from '../../src/db/unstorable.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { backends } from '../support/backends.ts';

for (const backend of backends) {
  describe(`unstorable-input errors on ${backend}`, () => {
    let testDb: TestDatabase;
    let database: Database;
    before(async () => {
      testDb = await createTestDatabase(backend);
      database = await openDatabase(testDb.url ? { kind: 'postgres', url: testDb.url } : { kind: 'pglite', dataDir: 'memory://' });
    });
    after(async () => {
      await database?.close();
      await testDb?.drop();
    });

    const errorOf = async (query: ReturnType<typeof sql>): Promise<unknown> => {
      try {
        await query.execute(database.db);
      } catch (error) {
        return error;
      }
      assert.fail('the query was accepted');
    };

    test('NUL in text, the \\u0000 escape and an unpaired surrogate in jsonb are unstorable input', async () => {
      assert.ok(isUnstorableInputError(await errorOf(sql`select ${'a\u0000b'}::text`)), 'NUL in text (22021)');
      assert.ok(isUnstorableInputError(await errorOf(sql`select ${JSON.stringify({ a: 'x\u0000' })}::jsonb`)), '\\u0000 in jsonb (22P05)');
      assert.ok(isUnstorableInputError(await errorOf(sql`select ${JSON.stringify({ a: '\ud800' })}::jsonb`)), 'lone high surrogate in jsonb (22P02)');
      assert.ok(isUnstorableInputError(await errorOf(sql`select ${JSON.stringify({ a: '\udc00' })}::jsonb`)), 'lone low surrogate in jsonb (22P02)');
    });

    test('other invalid text representations (same code 22P02) are not', async () => {
      const malformed = await errorOf(sql`select ${'{"a": }'}::jsonb`);
      assert.equal((malformed as { code?: string }).code, '22P02');
      assert.equal(isUnstorableInputError(malformed), false);
      assert.equal(isUnstorableInputError(await errorOf(sql`select ${'not-a-uuid'}::uuid`)), false);
    });
  });
}
