// Child process: a bare oidc-provider with its default in-memory adapter, configured like Facet's
// demo tenant (same clients, scopes, features, ES256 JWT access tokens for the same resource,
// rotating refresh tokens) and mounted at the same path, `/t/demo`. The baseline Facet is
// compared against. One bench-only route mints refresh-token families directly with the
// provider's models.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors, type Configuration } from 'oidc-provider';
import { serveParent } from './children.ts';
import { TOKEN_TTLS } from '../../src/oidc/ttl.ts';

const RESOURCE = 'https://api.demo.example/';
const RESOURCE_SCOPES = ['orders:read', 'orders:write'];
const BASE_PATH = '/t/demo';

async function signingKey(alg: 'ES256' | 'RS256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  return { ...(await exportJWK(privateKey)), kid: `${alg.toLowerCase()}-bench`, alg, use: 'sig' };
}

const port = Number(process.env.PORT);
const issuer = `http://localhost:${port}${BASE_PATH}`;
const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: false, path: BASE_PATH };

const configuration: Configuration = {
  clients: [
    {
      client_id: 'demo-service',
      client_name: 'Demo back-end service',
      client_secret: 'demo-service-dev-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'orders:read orders:write',
    },
    {
      client_id: 'demo-web',
      client_name: 'Demo web app',
      client_secret: 'demo-web-dev-secret',
      redirect_uris: ['http://localhost:3001/callback', 'http://localhost:8080/callback'],
      post_logout_redirect_uris: ['http://localhost:3001/'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email offline_access',
    },
  ],
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, preferred_username: 'bench', name: 'bench' }) }),
  jwks: { keys: [await signingKey('ES256'), await signingKey('RS256')] as any },
  cookies: { keys: ['bench-cookie-key-bench-cookie-key'], long: cookie, short: cookie },
  scopes: ['openid', 'offline_access', 'profile', 'email', ...RESOURCE_SCOPES],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    acr: null,
    amr: null,
    auth_time: null,
  },
  conformIdTokenClaims: true,
  acrValues: ['urn:facet:acr:passkey', 'urn:facet:acr:recovery'],
  responseTypes: ['code', 'none'],
  interactions: { url: (_ctx, interaction) => `${BASE_PATH}/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
    dPoP: { enabled: true },
    requestObjects: { enabled: true, requireSignedRequestObject: false },
    deviceFlow: { enabled: true },
    registration: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, client) => (client.clientId === 'demo-service' ? RESOURCE : undefined!),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator, client) => {
        if (indicator !== RESOURCE || client.clientId !== 'demo-service') throw new errors.InvalidTarget(`resource ${indicator} is not available to this client`);
        return { scope: RESOURCE_SCOPES.join(' '), audience: RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
  ttl: { ...TOKEN_TTLS, RefreshToken: 30 * 24 * 3600 },
  rotateRefreshToken: true,
  enabledJWA: {
    idTokenSigningAlgValues: ['ES256', 'RS256'],
    requestObjectSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
    userinfoSigningAlgValues: ['ES256', 'RS256'],
    introspectionSigningAlgValues: ['ES256', 'RS256'],
    authorizationSigningAlgValues: ['ES256', 'RS256'],
  },
};

const provider = new Provider(issuer, configuration);
const handle = provider.callback() as unknown as (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Bench-only: `count` refresh-token families of demo-web for `sub`, as if each came from a code flow. */
async function mintFamilies(count: number, sub: string): Promise<string[]> {
  const client = (await provider.Client.find('demo-web'))!;
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const grant = new provider.Grant({ accountId: sub, clientId: client.clientId });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      accountId: sub,
      client,
      grantId,
      scope: 'openid offline_access',
      gty: 'authorization_code',
      authTime: now,
      iiat: now,
      acr: 'urn:facet:acr:passkey',
      amr: ['hwk', 'user'],
      expiresWithSession: false,
    });
    tokens.push(await token.save());
  }
  return tokens;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', issuer);
  if (req.method === 'POST' && url.pathname === '/__bench/refresh-families') {
    mintFamilies(Number(url.searchParams.get('count') ?? 64), url.searchParams.get('sub') ?? 'bench-user').then(
      (tokens) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ refresh_tokens: tokens }));
      },
      (error: Error) => {
        res.statusCode = 500;
        res.end(error.message);
      },
    );
    return;
  }
  if (url.pathname !== BASE_PATH && !url.pathname.startsWith(`${BASE_PATH}/`)) {
    res.statusCode = 404;
    res.end();
    return;
  }
  // The same hand-over Facet does (src/oidc/runtime.ts): tenant prefix stripped.
  (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
  req.url = `${url.pathname.slice(BASE_PATH.length) || '/'}${url.search}`;
  void handle(req, res);
});
server.keepAliveTimeout = 5000;
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));

serveParent({
  stop: () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }),
});
process.send!({ ready: true, port });
