// The passkey sign-in's transaction on real PostgreSQL (issue 16): how many statements and round
// trips it takes (exact counts, so a change that adds one fails here), and that taking fewer kept
// every invariant: the challenge is spent exactly once (concurrently too, and when verification
// fails), the transaction runs in the tenant's role and schema, a failed statement rolls all of it
// back, the counter is stored and a regression refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startTestFacet, type TestFacet } from '../support/facet.ts';
import { realPostgresUrl } from '../support/database.ts';
import { countTraffic } from '../support/round-trips.ts';
import { withTenant } from '../../src/db/tenant-scope.ts';
import { withTenantPipeline } from '../../src/db/pipelined-tenant.ts';
import { createUser } from '../../src/accounts/users.ts';
import { findTenant, type TenantRecord } from '../../src/tenancy/registry.ts';
import {
  finishAuthentication,
  finishRegistration,
  insertCredential,
  issueChallenge,
  relyingPartyFor,
  startRegistration,
  type StoredCredential,
} from '../../src/factors/passkey/index.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';

describe('pipelined passkey sign-in (PostgreSQL)', { skip: realPostgresUrl ? false : 'needs DATABASE_URL' }, () => {
  let facet: TestFacet;
  let demo: TenantRecord;
  let rp: ReturnType<typeof relyingPartyFor>;
  let credential: StoredCredential;
  const authenticator = new SoftAuthenticator();
  let counter = 0;

  before(async () => {
    facet = await startTestFacet({ database: 'postgres' });
    demo = (await findTenant(facet.database.db, 'demo'))!;
    rp = relyingPartyFor(facet.config.publicUrl, { name: demo.name, settings: {} });
    credential = await withTenant(facet.database.db, demo, async (trx) => {
      const user = await createUser(trx, { username: 'pipe', email: 'pipe@demo.example' });
      const options = await startRegistration(trx, {
        rp,
        binding: 'pipe:registration',
        user: { id: user.id, handle: user.webauthn_user_handle, username: user.username, displayName: user.username },
        userVerification: 'required',
      });
      const registered = await finishRegistration(trx, { rp, binding: 'pipe:registration', response: authenticator.create(options, { origin: rp.origin }) as any, userVerification: 'required' });
      assert.ok(registered.ok);
      return insertCredential(trx, { ...registered.passkey, userId: user.id, name: 'pipe', userHandle: user.webauthn_user_handle });
    });
  });
  after(async () => facet?.close());

  const db = () => facet.database.db;
  /** A challenge for `binding` and an assertion answering it (optionally from another origin). */
  const assertion = async (binding: string, { origin = rp.origin, counterStep = 1 }: { origin?: string; counterStep?: number } = {}) => {
    const { challenge } = await withTenant(db(), demo, (trx) => issueChallenge(trx, { binding, purpose: 'authentication' }));
    counter += counterStep;
    return authenticator.get({ rpId: rp.id, challenge }, { origin, counter }) as any;
  };
  const signIn = (binding: string, response: any) =>
    withTenantPipeline(db(), demo, ({ trx, later }) => finishAuthentication(trx, { rp, binding, response, userVerification: 'required', later }));
  const challengeLeft = async (binding: string) =>
    (await withTenant(db(), demo, (trx) => trx.selectFrom('webauthn_challenges').select('binding').where('binding', '=', binding).execute())).length;
  const storedCounter = async () =>
    Number((await withTenant(db(), demo, (trx) => trx.selectFrom('webauthn_credentials').select('sign_count').where('id', '=', credential.id).executeTakeFirstOrThrow())).sign_count);

  test('a sign-in is five statements in two round trips; in withTenant, five in five', async () => {
    const response = await assertion('pipe:count');
    const pipelined = await countTraffic(() => signIn('pipe:count', response));
    assert.ok(pipelined.result.ok);
    // [BEGIN, tenant switch, challenge + credential + owner] | verification | [counter update, COMMIT]
    assert.equal(pipelined.statements, 5, pipelined.texts.join('\n'));
    assert.equal(pipelined.roundTrips, 2, pipelined.texts.join('\n'));
    assert.match(pipelined.texts[0]!, /^begin/);
    assert.match(pipelined.texts[1]!, /set_config\('role'/);
    assert.match(pipelined.texts[2]!, /^with "taken" as \(delete from "webauthn_challenges"/);
    assert.match(pipelined.texts[3]!, /^update "webauthn_credentials"/);
    assert.equal(pipelined.texts[4], 'commit');

    const again = await assertion('pipe:count:plain');
    const plain = await countTraffic(() => withTenant(db(), demo, (trx) => finishAuthentication(trx, { rp, binding: 'pipe:count:plain', response: again, userVerification: 'required' })));
    assert.ok(plain.result.ok);
    assert.equal(plain.statements, 5, plain.texts.join('\n'));
    assert.equal(plain.roundTrips, 5, plain.texts.join('\n'));
  });

  test('the counter update is committed, and a counter going backwards is refused', async () => {
    const response = await assertion('pipe:counter', { counterStep: 10 });
    assert.ok((await signIn('pipe:counter', response)).ok);
    assert.equal(await storedCounter(), counter);
    counter -= 5;
    const cloned = await signIn('pipe:cloned', await assertion('pipe:cloned'));
    assert.equal(!cloned.ok && cloned.code, 'counter_regression');
    assert.equal(await storedCounter(), counter + 4, 'the stored counter stays where the good assertion left it');
    counter += 10;
  });

  test('two concurrent verifications of one assertion: exactly one signs in, the other finds no challenge', async () => {
    for (let round = 0; round < 5; round += 1) {
      const binding = `pipe:race:${round}`;
      const response = await assertion(binding);
      const outcomes = await Promise.all([signIn(binding, response), signIn(binding, response)]);
      assert.equal(outcomes.filter((o) => o.ok).length, 1, JSON.stringify(outcomes.map((o) => (o.ok ? 'ok' : o.code))));
      const refused = outcomes.find((o) => !o.ok);
      assert.equal(refused && !refused.ok && refused.code, 'challenge_missing');
      assert.equal(await challengeLeft(binding), 0);
    }
  });

  test('a failed verification spends the challenge for good: the right assertion afterwards finds none', async () => {
    const binding = 'pipe:fails';
    const { challenge } = await withTenant(db(), demo, (trx) => issueChallenge(trx, { binding, purpose: 'authentication' }));
    counter += 1;
    const wrongOrigin = authenticator.get({ rpId: rp.id, challenge }, { origin: 'https://evil.example', counter }) as any;
    const refused = await signIn(binding, wrongOrigin);
    assert.equal(!refused.ok && refused.code, 'origin_mismatch');
    assert.equal(await challengeLeft(binding), 0, 'committed although the verification failed');
    counter += 1;
    const good = authenticator.get({ rpId: rp.id, challenge }, { origin: rp.origin, counter }) as any;
    const late = await signIn(binding, good);
    assert.equal(!late.ok && late.code, 'challenge_missing');
    // An unknown credential spends it too.
    const unknown = await assertion('pipe:unknown');
    const outcome = await signIn('pipe:unknown', { ...unknown, id: 'AAAA', rawId: 'AAAA' });
    assert.equal(!outcome.ok && outcome.code, 'unknown_credential');
    assert.equal(await challengeLeft('pipe:unknown'), 0);
  });

  test('the pipelined transaction runs in the tenant role and schema', async () => {
    const seen = await withTenantPipeline(db(), demo, async ({ trx }) => (await sql<{ role: string; path: string }>`select current_user as role, current_setting('search_path') as path`.execute(trx)).rows[0]);
    assert.deepEqual(seen, { role: demo.role, path: demo.schema });
    await assert.rejects(
      withTenantPipeline(db(), demo, ({ trx }) => sql`select 1 from facet_control.tenants`.execute(trx)),
      /permission denied/,
    );
  });

  test('a write that fails with the COMMIT rolls back the whole transaction, the challenge included', async () => {
    const binding = 'pipe:rollback';
    const response = await assertion(binding);
    await assert.rejects(
      withTenantPipeline(db(), demo, async ({ trx, later }) => {
        const outcome = await finishAuthentication(trx, { rp, binding, response, userVerification: 'required', later });
        assert.ok(outcome.ok);
        // Held back and sent with the COMMIT: a duplicate key.
        await later.insertInto('webauthn_challenges').values({ binding: 'pipe:dup', purpose: 'authentication', challenge: 'x', user_id: null, data: '{}', expires_at: new Date() }).execute();
        await later.insertInto('webauthn_challenges').values({ binding: 'pipe:dup', purpose: 'authentication', challenge: 'y', user_id: null, data: '{}', expires_at: new Date() }).execute();
        return outcome;
      }),
      /duplicate key/,
    );
    assert.equal(await challengeLeft(binding), 1, 'the consumption was rolled back with the failed write');
    assert.equal(await challengeLeft('pipe:dup'), 0);
    // The connection went back to the pool in good order: the next sign-in works.
    assert.ok((await signIn(binding, response)).ok);
  });

  test('an error caught inside the work still ends in a rollback, not a silent commit', async () => {
    const binding = 'pipe:caught';
    const response = await assertion(binding);
    await assert.rejects(
      withTenantPipeline(db(), demo, async ({ trx }) => {
        const outcome = await finishAuthentication(trx, { rp, binding, response, userVerification: 'required' });
        await sql`select 1/0`.execute(trx).catch(() => undefined);
        return outcome;
      }),
      /aborted by an earlier error/,
    );
    assert.equal(await challengeLeft(binding), 1);
  });
});
