// `npm run demo-rp`: a tiny relying party for the demo tenant, so the sign-in `npm start` prints
// ends in an app the project ships. It listens on http://localhost:3001 (demo-web's registered
// redirect URI), signs in through Facet with the authorization code flow + PKCE (openid-client),
// and shows the ID token's claims. Development only: it uses demo-web's published dev secret.
//
//   FACET_ISSUER   default http://localhost:3000/t/demo
//   DEMO_RP_PORT   default 3001 (the redirect URI registered for demo-web uses 3001)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import * as client from 'openid-client';

export interface DemoRpOptions {
  issuer?: string;
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  /** Where browsers reach this app (its redirect URI is <publicUrl>/callback); default http://localhost:<port>. */
  publicUrl?: string;
}

interface Pending {
  verifier: string;
  nonce: string;
  at: number;
}

const PENDING_TTL_MS = 10 * 60 * 1000;

export async function startDemoRp({
  issuer = 'http://localhost:3000/t/demo',
  port = 3001,
  host = '127.0.0.1',
  clientId = 'demo-web',
  clientSecret = process.env.DEMO_WEB_SECRET ?? 'demo-web-dev-secret',
  publicUrl,
}: DemoRpOptions = {}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const base = publicUrl ?? `http://localhost:${port}`;
  const redirectUri = `${base}/callback`;
  // Discovered on first use, so the demo app may start before Facet does.
  let discovered: Promise<client.Configuration> | undefined;
  const rp = () =>
    (discovered ??= client
      .discovery(new URL(issuer), clientId, { client_secret: clientSecret }, client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] })
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      }));
  // Sign-ins in flight, keyed by their state (also kept in a cookie, which binds it to the browser).
  const pending = new Map<string, Pending>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    if (req.method !== 'GET') return send(res, 405, page('Not allowed', '<p>This demo app only answers GET.</p>'));
    if (url.pathname === '/') {
      return send(
        res,
        200,
        page(
          'Demo app',
          `<p>A relying party of the <code>demo</code> tenant at <code>${escape(issuer)}</code>, client <code>${escape(clientId)}</code>.</p>
<p><a class="button" href="/login">Sign in with Facet</a></p>
<p>After signing in you see the claims of the ID token Facet issued.</p>`,
        ),
      );
    }
    if (url.pathname === '/login') {
      let config: client.Configuration;
      try {
        config = await rp();
      } catch (error) {
        return send(res, 502, page('Facet is not reachable', `<p>Could not read ${escape(issuer)}/.well-known/openid-configuration: ${escape((error as Error).message)}.</p><p>Is <code>npm start</code> running?</p>`));
      }
      const now = Date.now();
      for (const [key, value] of pending) if (now - value.at > PENDING_TTL_MS) pending.delete(key);
      const state = client.randomState();
      const verifier = client.randomPKCECodeVerifier();
      const nonce = client.randomNonce();
      pending.set(state, { verifier, nonce, at: now });
      const target = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      res.setHeader('Set-Cookie', `demo_rp_state=${state}; Path=/callback; HttpOnly; SameSite=Lax; Max-Age=600`);
      res.writeHead(303, { Location: target.href });
      return res.end();
    }
    if (url.pathname === '/callback') {
      const state = /(?:^|;\s*)demo_rp_state=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      const waiting = state && url.searchParams.get('state') === state ? pending.get(state) : undefined;
      if (url.searchParams.has('error')) {
        if (state) pending.delete(state);
        return send(res, 200, page('Sign-in did not finish', `<p>Facet answered <code>${escape(url.searchParams.get('error'))}</code>${url.searchParams.get('error_description') ? `: ${escape(url.searchParams.get('error_description'))}` : ''}.</p><p><a href="/login">Try again</a></p>`));
      }
      if (!state || !waiting) return send(res, 400, page('Unknown sign-in', '<p>This answer does not belong to a sign-in started in this browser (or it is older than 10 minutes).</p><p><a href="/login">Sign in</a></p>'));
      pending.delete(state);
      try {
        const tokens = await client.authorizationCodeGrant(await rp(), url, { pkceCodeVerifier: waiting.verifier, expectedState: state, expectedNonce: waiting.nonce });
        const claims = tokens.claims();
        return send(
          res,
          200,
          page(
            'Signed in',
            `<p>Signed in as <strong>${escape(String(claims?.preferred_username ?? claims?.sub ?? ''))}</strong>. The ID token's claims:</p>
<pre id="claims">${escape(JSON.stringify(claims, null, 2))}</pre>
<p><a href="/login">Sign in again</a> · <a href="${escape(issuer)}/account">Your account page at Facet</a></p>`,
          ),
        );
      } catch (error) {
        return send(res, 400, page('Sign-in failed', `<p>The code could not be exchanged: ${escape((error as Error).message)}</p><p><a href="/login">Try again</a></p>`));
      }
    }
    return send(res, 404, page('Not found', '<p><a href="/">Back to the demo app</a></p>'));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, page('Error', `<p>${escape((error as Error).message)}</p>`)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, url: typeof address === 'object' && address ? `http://localhost:${address.port}` : base, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function send(res: ServerResponse, status: number, body: string) {
  if (res.headersSent) return res.end();
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'",
  });
  res.end(body);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Facet demo app</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color-scheme:light dark}pre{overflow:auto;padding:1rem;border:1px solid;border-radius:8px}.button{display:inline-block;padding:.6rem 1rem;border-radius:8px;background:#2457d6;color:#fff;text-decoration:none}</style>
</head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const issuer = process.env.FACET_ISSUER ?? 'http://localhost:3000/t/demo';
  const running = await startDemoRp({ issuer, port: Number(process.env.DEMO_RP_PORT ?? 3001) });
  process.stdout.write(`\n  Demo app on ${running.url}  (signs in through ${issuer} as client demo-web)\n  Open it in a browser and choose "Sign in with Facet".\n\n`);
}
