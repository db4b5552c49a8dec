// Runs an authorization code + PKCE flow with openid-client as the relying party, finishing the
// interaction through the test-only helper (the real pages are exercised by browser tests).
import * as client from 'openid-client';
import { CookieJar, followRedirects } from './http-agent.ts';

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
  let step = await followRedirects(authUrl, jar, { origin });
  // Each interaction prompt (login, then consent) is finished through the test helper.
  for (let i = 0; i < 3 && step.response && /\/interaction\/[^/]+$/.test(step.url.pathname); i += 1) {
    const complete = new URL(`${step.url.pathname}/__test-complete`, origin);
    complete.searchParams.set('sub', sub);
    step = await followRedirects(complete, jar, { origin });
  }
  if (step.response) throw new Error(`flow stopped at ${step.url} with ${step.response.status}: ${await step.response.text()}`);
  const tokens = await client.authorizationCodeGrant(config, step.url, { pkceCodeVerifier: verifier, expectedState: state });
  return { tokens, jar };
}
