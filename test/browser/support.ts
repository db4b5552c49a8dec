// Chromium with a WebAuthn virtual authenticator, as described in /work/shared/BROWSER-TESTING.md.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type CDPSession, type Page } from 'playwright-core';
import { projectRoot } from '../support/facet.ts';

export const ARTIFACTS = path.join(projectRoot, 'test-artifacts/passkey');

export async function launchBrowser(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export interface AuthenticatorPage {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

/** The virtual authenticator's settings (CDP WebAuthn.VirtualAuthenticatorOptions), over the defaults below. */
export type VirtualAuthenticatorOptions = Record<string, unknown>;

/**
 * A new browser context with one page and a virtual authenticator on it (a passkey that answers by
 * itself, with user verification). `context` takes the context's own options (locale, timezoneId,
 * viewport …); `authenticator` overrides the authenticator's defaults.
 */
export async function pageWithAuthenticator(
  browser: Browser,
  { context: contextOptions = {}, authenticator = {} }: { context?: BrowserContextOptions; authenticator?: VirtualAuthenticatorOptions } = {},
): Promise<AuthenticatorPage> {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      ...authenticator,
    } as any,
  });
  return { context, page, cdp, authenticatorId };
}

/**
 * Lets a test make the page behave like a browser without passkey autofill (so only the button or
 * the username path can answer), toggled per navigation by a test-only cookie: the virtual
 * authenticator belongs to one page, so the same page is reused throughout.
 */
export async function installAutofillSwitch(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    if (document.cookie.includes('test-no-autofill=1') && window.PublicKeyCredential) {
      (window.PublicKeyCredential as any).isConditionalMediationAvailable = async () => false;
    }
  });
}

export async function setAutofill(context: BrowserContext, baseUrl: string, enabled: boolean): Promise<void> {
  if (enabled) await context.clearCookies({ name: 'test-no-autofill' });
  else await context.addCookies([{ name: 'test-no-autofill', value: '1', url: baseUrl }]);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

export interface AxeViolation {
  id: string;
  impact: string;
  nodes: Array<{ html: string }>;
}

/**
 * axe-core's WCAG 2 A/AA violations on the page as it is now (axe injected once per document,
 * through the DevTools protocol, so the page's CSP does not block it). Each test asserts on them.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const result = (await page.evaluate(() => (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }))) as { violations: AxeViolation[] };
  return result.violations;
}
