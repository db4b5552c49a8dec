// Waits for something another part of Facet does a moment later (a tenant reloading after a change
// through its config version and change feed, a stylesheet answering the new colour): checks every
// 100 ms, for up to 5 s, then fails saying what never happened.
import assert from 'node:assert/strict';

export async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 50; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`never: ${what}`);
}
