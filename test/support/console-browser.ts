// The steps the console's browser tests share (test/browser/console.test.ts on real PostgreSQL,
// console-newcomer.test.ts on PGlite): a tab whose passkey is the virtual authenticator, a passkey
// sign-up through an invite link, an authenticator app added on the account page, and Facet's
// sign-in and step-up pages answered until the browser is back in the console.
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { codeAt, STEP_MS, stepNow } from './totp-codes.ts';
import { installAutofillSwitch, pageWithAuthenticator, setAutofill, type AuthenticatorPage } from '../browser/support.ts';

/**
 * A tab with a virtual authenticator and passkey autofill off. Facet's sign-in page starts an
 * autofill (conditional) passkey request when it loads, which the virtual authenticator answers by
 * itself; clicking "Sign in with a passkey" meanwhile starts a second ceremony on the same
 * interaction, which keeps one challenge: the two race (one refused, both refused, or both passkeys
 * checked and the second request refused). With autofill off the button is the one ceremony.
 */
export async function consoleTab(browser: Browser, baseUrl: string, { onConsoleMessage }: { onConsoleMessage?: (text: string) => void } = {}): Promise<AuthenticatorPage> {
  const tab = await pageWithAuthenticator(browser);
  await installAutofillSwitch(tab.context);
  await setAutofill(tab.context, baseUrl, false);
  tab.page.setDefaultTimeout(10_000);
  if (onConsoleMessage) tab.page.on('console', (message) => onConsoleMessage(message.text()));
  return tab;
}

/**
 * Signs up with a passkey through an invite (or first-admin) link and saves the recovery codes;
 * ends on the account page. `onFilled` runs once the form is filled, before it is sent.
 */
export async function signUpWithPasskey(
  page: Page,
  inviteUrl: string,
  { username, email, onFilled }: { username: string; email: string; onFilled?: () => Promise<void> },
): Promise<void> {
  await page.goto(inviteUrl);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(email);
  await onFilled?.();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Create a passkey' }).click();
  // Registration verifies the attestation and stores the account: under a full CI run (face
  // inference in the next test file on the same two cores) it has taken over the 10 s default.
  await page.getByRole('button', { name: 'I have saved my codes' }).click({ timeout: 30_000 });
  await page.waitForURL(/\/t\/[^/]+\/account/);
}

/** The authenticator app of the account under test: its secret and the codes it has given. */
export class AuthenticatorApp {
  readonly secret: string;
  #lastStep = 0;
  constructor(secret: string) {
    this.secret = secret;
  }

  /**
   * The next code. Facet takes a code once (a later one must be for a later 30-second step) and
   * accepts the steps next to its current one. A code for the step now or the next one stays
   * accepted if a step boundary passes before the server checks it; one for the step before is
   * refused when that happens. A code two steps ahead waits for the clock instead.
   */
  async nextCode(): Promise<string> {
    const step = Math.max(stepNow(), this.#lastStep + 1);
    while (stepNow() < step - 1) await new Promise((resolve) => setTimeout(resolve, STEP_MS - (Date.now() % STEP_MS) + 10));
    this.#lastStep = step;
    return codeAt(this.secret, step);
  }
}

/** On the account page: sets up an authenticator app with its first code. */
export async function addAuthenticatorApp(page: Page): Promise<AuthenticatorApp> {
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  const app = new AuthenticatorApp((await page.locator('#totp-secret').textContent())!.replaceAll(' ', ''));
  await page.locator('#code').fill(await app.nextCode());
  await page.getByRole('button', { name: /Confirm|Turn on|Save/ }).click();
  await page.getByText('An authenticator app is set up').waitFor();
  return app;
}

/**
 * Answers Facet's sign-in and step-up pages until the browser is back in the tenant's console: the
 * passkey button, "Continue" to a step-up, the app's code (`onAppCode` runs before it is entered).
 * Each answer must lead to another page: one that stays (a refused code or passkey) fails here,
 * saying where it stayed, instead of being answered again.
 */
export async function throughFacet(
  page: Page,
  { app, onAppCode, slug = 'demo' }: { app?: AuthenticatorApp; onAppCode?: () => Promise<void>; slug?: string } = {},
): Promise<void> {
  const mainText = async () => (await page.locator('main').innerText().catch(() => '')).slice(0, 500);
  for (let answered = 0; answered < 8; answered += 1) {
    await page.waitForLoadState('load');
    const before = page.url();
    const { pathname } = new URL(before);
    if (pathname.startsWith(`/t/${slug}/console`) && !pathname.endsWith('/callback')) return;
    if (await page.locator('#step-up-continue').count()) {
      await page.locator('#step-up-continue').click();
    } else if (await page.locator('#code').count()) {
      assert.ok(app, `Facet asks for an authenticator app's code on ${pathname}, and the test gave none`);
      await onAppCode?.();
      await page.locator('#code').fill(await app.nextCode());
      await page.locator('#code').press('Enter');
    } else if (await page.locator('#passkey-button').count()) {
      await page.locator('#passkey-button').click();
    } else {
      assert.fail(`nothing to answer on ${pathname}: ${await mainText()}`);
    }
    await page.waitForURL((u) => u.href !== before).catch(async (error: Error) => {
      assert.fail(`${error.message}\nstill on ${pathname}: ${await mainText()}`);
    });
  }
  assert.fail(`not back in the console after 8 pages (at ${page.url()})`);
}
