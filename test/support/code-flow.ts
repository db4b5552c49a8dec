// Runs an authorization code + PKCE flow with openid-client as the relying party, finishing the
// interaction through the test-only helper (the real pages are exercised by browser tests).
import * as client from 'openid-client';
import { CookieJar, followRedirects } from './http-agent.ts';

type Step = Awaited<ReturnType<typeof followRedirects>>;

/**
 * Follows an authorization request, finishing each interaction prompt it meets (login, then
 * consent) as `sub` through the test-only helper; returns where the redirects ended.
 */
export async function finishInteractions(step: Step, jar: CookieJar, { origin, sub }: { origin: string; sub: string }): Promise<Step> {
  for (let i = 0; i < 3 && step.response && /\/interaction\/[^/]+$/.test(step.url.pathname); i += 1) {
    const complete = new URL(`${step.url.pathname}/__test-complete`, origin);
    complete.searchParams.set('sub', sub);
    step = await followRedirects(complete, jar, { origin });
  }
  return step;
}

export async function authorizeAs(start: string | URL, jar: CookieJar, { origin, sub }: { origin: string; sub: string }): Promise<Step> {
  return finishInteractions(await followRedirects(start, jar, { origin }), jar, { origin, sub });
}

export async function codeFlow(
  config: client.Configuration,
  { origin, sub, redirectUri, scope = 'openid profile email offline_access', extra = {} }: { origin: string; sub: string; redirectUri: string; scope?: string; extra?: Record<string, string> },
) {
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    prompt: scope.includes('offline_access') ? 'consent' : '',
    ...extra,
  });
  if (!scope.includes('offline_access')) authUrl.searchParams.delete('prompt');
  const jar = new CookieJar();
  const step = await authorizeAs(authUrl, jar, { origin, sub });
  if (step.response) throw new Error(`flow stopped at ${step.url} with ${step.response.status}: ${await step.response.text()}`);
  const tokens = await client.authorizationCodeGrant(config, step.url, { pkceCodeVerifier: verifier, expectedState: state });
  return { tokens, jar };
}
