// The admin API's applications (OIDC clients, issue 12), declared with the route guard: list, read,
// create, replace, rotate a secret (shown once), delete. Clients declared in a tenant file stay
// read-only here (409 managed_by_file): the file is the source of truth for what it declares and
// `facet tenant apply` would put it back, so the console never silently diverges from it. The
// built-in console client is read-only too. Secrets of clients made here are random, sealed under
// the KEK in clients.secret_sealed, and answered exactly once (on create, on rotation, or when a
// public client becomes confidential). Every change is audited and reaches every node through the
// tenant's config version. All writes are sensitive (src/admin/permissions.ts: not listed as
// ordinary), so the console asks for a fresh step-up first.
import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { withTenant, type TenantDb } from '../db/tenant-scope.ts';
import { clientExists, deleteClientRecord, findClientRecord, insertClientRecord, listClientRecords, setClientSecret, updateClientRecord, type ClientRecord } from '../db/queries/clients.ts';
import { HttpError, notFound } from '../errors/http-errors.ts';
import type { TenantRuntime } from '../oidc/runtime.ts';
import { CONSOLE_CLIENT_ID, sealClientSecret } from '../oidc/clients.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { bumpConfigVersion } from '../tenancy/registry.ts';
import { guard as route, type GuardedRoute, type RouteSpec } from '../http/middleware/guard.ts';
import { clientSettings, createClientBody, replaceClientBody } from './client-settings.ts';

export { AUTH_METHODS, GRANT_TYPES } from './client-settings.ts';

type Db = Parameters<typeof withTenant>[0];
const timestamp = z.iso.datetime();

const AUTH_PROBLEMS = {
  401: 'No valid admin access token (invalid_token), or no console session.',
  403: 'The console role may not call this route (role_forbidden), or a sensitive route needs a fresh step-up (step_up_required, with `redirect`).',
  404: 'No such client in this tenant.',
  429: 'Too many admin API requests from this address (Retry-After).',
} as const;
const INPUT_PROBLEMS = {
  400: 'Invalid parameters (code invalid_parameters); `errors` names each field (`pointer`, e.g. "#/redirectUris/0") and what is wrong with it.',
  413: 'The body is over 16 KiB.',
  415: 'The body is not JSON.',
} as const;
const READ_ONLY_PROBLEM = { 409: 'A tenant file manages this client (managed_by_file), or it is the built-in console client (built_in_client): change the file and apply it.' } as const;

const clientRow = z.object({
  clientId: z.string(),
  name: z.string().nullable(),
  firstParty: z.boolean(),
  grantTypes: z.array(z.string()),
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()),
  authMethod: z.string(),
  minimumAcr: z.string().nullable(),
  /** Per-client refresh-token reuse grace (seconds); null: the tenant's. */
  refreshGraceSeconds: z.number().int().nullable(),
  /** private_key_jwt: the key set URL, or the public key set itself. */
  jwksUri: z.string().nullable(),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).nullable(),
  /** Whether the client has a secret (never the secret itself). */
  hasSecret: z.boolean(),
  /** Where the client is defined: a tenant file (read-only here), Facet itself, or the admin API. */
  managedBy: z.string(),
  readOnly: z.boolean(),
  createdAt: timestamp.nullable(),
  updatedAt: timestamp.nullable(),
});
export type ClientView = z.infer<typeof clientRow>;

const clientParams = z.object({ id: z.string().min(1).max(128).describe('The client id.') });

export const CLIENT_ROUTES = {
  listClients: {
    method: 'get',
    path: '/clients',
    operationId: 'listClients',
    summary: 'The applications (OIDC clients), each with where it is managed',
    tags: ['clients'],
    responses: { 200: { description: 'The clients.', schema: z.object({ clients: z.array(clientRow) }) } },
    problems: AUTH_PROBLEMS,
  },
  getClient: {
    method: 'get',
    path: '/clients/:id',
    operationId: 'getClient',
    summary: 'One application',
    tags: ['clients'],
    params: clientParams,
    responses: { 200: { description: 'The client.', schema: z.object({ client: clientRow }) } },
    problems: AUTH_PROBLEMS,
  },
  createClient: {
    method: 'post',
    path: '/clients',
    operationId: 'createClient',
    summary: 'Add an application (sensitive; audited); a confidential one gets a secret, answered only this once',
    tags: ['clients'],
    body: createClientBody,
    bodyRequired: true,
    responses: { 201: { description: 'The client, and its secret (null for a public client).', schema: z.object({ client: clientRow, secret: z.string().nullable() }) } },
    problems: { ...INPUT_PROBLEMS, ...AUTH_PROBLEMS, 409: 'A client with that id exists (client_exists), or the id is reserved.' },
  },
  replaceClient: {
    method: 'put',
    path: '/clients/:id',
    operationId: 'replaceClient',
    summary: "Change an application's settings (sensitive; audited); a public client made confidential gets a secret, answered only this once",
    tags: ['clients'],
    params: clientParams,
    body: replaceClientBody,
    bodyRequired: true,
    responses: { 200: { description: 'The client now, and a new secret when one was made (else null).', schema: z.object({ client: clientRow, secret: z.string().nullable() }) } },
    problems: { ...INPUT_PROBLEMS, ...AUTH_PROBLEMS, ...READ_ONLY_PROBLEM },
  },
  rotateClientSecret: {
    method: 'post',
    path: '/clients/:id/secret',
    operationId: 'rotateClientSecret',
    summary: "Give a confidential application a new secret, answered only this once; the old one stops working at once (sensitive; audited)",
    tags: ['clients'],
    params: clientParams,
    responses: { 200: { description: 'The new secret.', schema: z.object({ clientId: z.string(), secret: z.string() }) } },
    problems: { ...AUTH_PROBLEMS, ...READ_ONLY_PROBLEM, 400: 'A public client has no secret (public_client).' },
  },
  deleteClient: {
    method: 'delete',
    path: '/clients/:id',
    operationId: 'deleteClient',
    summary: 'Delete an application: its tokens stop being accepted (sensitive; audited)',
    tags: ['clients'],
    params: clientParams,
    responses: { 204: { description: 'Deleted.' } },
    problems: { ...AUTH_PROBLEMS, ...READ_ONLY_PROBLEM },
  },
} satisfies Record<string, RouteSpec>;

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());
const newSecret = () => randomBytes(32).toString('base64url');
const confidential = (authMethod: string) => authMethod.startsWith('client_secret');

interface StoredMetadata {
  client_name?: string;
  grant_types?: string[];
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  token_endpoint_auth_method?: string;
  minimum_acr?: string;
  refresh_grace_seconds?: number;
  jwks_uri?: string;
  jwks?: { keys: Array<Record<string, unknown>> };
}

function viewOf(row: ClientRecord, slug: string): ClientView {
  const meta = row.metadata as StoredMetadata;
  const fromFile = row.source === 'file';
  return {
    clientId: row.client_id,
    name: meta.client_name ?? null,
    firstParty: row.first_party,
    grantTypes: meta.grant_types ?? [],
    redirectUris: meta.redirect_uris ?? [],
    postLogoutRedirectUris: meta.post_logout_redirect_uris ?? [],
    authMethod: meta.token_endpoint_auth_method ?? 'client_secret_basic',
    minimumAcr: meta.minimum_acr ?? null,
    refreshGraceSeconds: meta.refresh_grace_seconds ?? null,
    jwksUri: meta.jwks_uri ?? null,
    jwks: meta.jwks ?? null,
    hasSecret: Boolean(row.secret_env || row.secret_sealed),
    managedBy: fromFile ? `tenants/${slug}.yaml` : 'admin API',
    readOnly: fromFile,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** The stored metadata (the tenant file's shape, as src/oidc/clients.ts loads it). */
function metadataOf(settings: z.output<typeof clientSettings>): StoredMetadata & Record<string, unknown> {
  return {
    client_name: settings.name,
    redirect_uris: settings.redirectUris,
    post_logout_redirect_uris: settings.postLogoutRedirectUris,
    grant_types: settings.grantTypes,
    token_endpoint_auth_method: settings.authMethod,
    ...(settings.minimumAcr ? { minimum_acr: settings.minimumAcr } : {}),
    ...(settings.refreshGraceSeconds !== null ? { refresh_grace_seconds: settings.refreshGraceSeconds } : {}),
    ...(settings.jwksUri ? { jwks_uri: settings.jwksUri } : {}),
    ...(settings.jwks ? { jwks: settings.jwks } : {}),
    resources: [],
  };
}

const fieldProblem = (status: number, code: string, pointer: string, detail: string) =>
  new HttpError(status, code, status === 409 ? 'Conflict' : 'Invalid parameters', detail, { extensions: { errors: [{ in: 'body', pointer, detail }] } });

export function registerClientsApi(router: Router, { config, db, guard, checkResponses }: { config: Config; db: Db; guard: Middleware[]; checkResponses: boolean }): void {
  const runtimeOf = (ctx: Context) => ctx.state.tenant as TenantRuntime;
  const options = { checkResponses };
  const mount = ({ spec, handle }: GuardedRoute) => router[spec.method](`/admin/api${spec.path}`, ...guard, handle);
  const facts = (ctx: Context, clientId: string) => ({ actor: String(ctx.state.adminActor ?? 'admin'), clientId, ip: ctx.ip, userAgent: ctx.get('user-agent') || null });

  const builtIn = (runtime: TenantRuntime): ClientView => ({
    clientId: CONSOLE_CLIENT_ID,
    name: 'Facet console',
    firstParty: true,
    grantTypes: ['authorization_code'],
    redirectUris: [`${config.publicUrl}${runtime.basePath}/console/callback`],
    postLogoutRedirectUris: [],
    authMethod: 'none',
    minimumAcr: null,
    refreshGraceSeconds: null,
    jwksUri: null,
    jwks: null,
    hasSecret: false,
    managedBy: 'built in',
    readOnly: true,
    createdAt: null,
    updatedAt: null,
  });

  /** The minimum acr must be a value of this tenant's vocabulary. */
  const checkAcr = (runtime: TenantRuntime, acr: string | null) => {
    if (acr && !runtime.acrPolicy.values[acr]) {
      throw fieldProblem(400, 'invalid_parameters', '#/minimumAcr', `${acr} is not an acr value of this tenant (known: ${Object.keys(runtime.acrPolicy.values).join(', ')})`);
    }
  };

  /** The client, writable here (404 when absent; 409 when a tenant file or Facet itself owns it). */
  const writable = async (trx: TenantDb, runtime: TenantRuntime, id: string): Promise<ClientRecord> => {
    if (id === CONSOLE_CLIENT_ID) throw new HttpError(409, 'built_in_client', 'Conflict', 'The console client is built in: it cannot be changed or deleted.');
    const row = await findClientRecord(trx, id, { forUpdate: true });
    if (!row) throw notFound(`no client ${id} in this tenant`);
    if (row.source === 'file') {
      throw new HttpError(409, 'managed_by_file', 'Conflict', `tenants/${runtime.tenant.slug}.yaml manages ${id}: change the file and apply it (facet tenant apply).`);
    }
    return row;
  };

  mount(
    route(
      CLIENT_ROUTES.listClients,
      async (ctx) => {
        const runtime = runtimeOf(ctx);
        const rows = await withTenant(db, runtime.tenant, (trx) => listClientRecords(trx));
        const clients = rows.filter((r) => r.client_id !== CONSOLE_CLIENT_ID).map((r) => viewOf(r, runtime.tenant.slug));
        return { status: 200, body: { clients: [builtIn(runtime), ...clients] } };
      },
      options,
    ),
  );

  mount(
    route(
      CLIENT_ROUTES.getClient,
      async (ctx, { params: { id } }) => {
        const runtime = runtimeOf(ctx);
        if (id === CONSOLE_CLIENT_ID) return { status: 200, body: { client: builtIn(runtime) } };
        const row = await withTenant(db, runtime.tenant, (trx) => findClientRecord(trx, id));
        if (!row) throw notFound(`no client ${id} in this tenant`);
        return { status: 200, body: { client: viewOf(row, runtime.tenant.slug) } };
      },
      options,
    ),
  );

  mount(
    route(
      CLIENT_ROUTES.createClient,
      async (ctx, { body }) => {
        const runtime = runtimeOf(ctx);
        const { clientId: asked, ...settings } = body;
        checkAcr(runtime, settings.minimumAcr);
        const clientId = asked ?? `app-${randomBytes(6).toString('hex')}`;
        if (clientId === CONSOLE_CLIENT_ID) throw fieldProblem(409, 'client_exists', '#/clientId', `${CONSOLE_CLIENT_ID} is reserved for the built-in console client`);
        const secret = confidential(settings.authMethod) ? newSecret() : null;
        const slug = runtime.tenant.slug;
        const row = await withTenant(db, runtime.tenant, async (trx) => {
          if (await clientExists(trx, clientId)) {
            throw fieldProblem(409, 'client_exists', '#/clientId', `A client with the id ${clientId} exists already; choose another id.`);
          }
          const inserted = await insertClientRecord(trx, clientId, {
            metadata: metadataOf(settings),
            firstParty: settings.firstParty,
            source: 'admin',
            secretSealed: secret ? sealClientSecret(config.kek, slug, clientId, secret) : null,
          });
          await appendAudit(trx, { type: 'client.created', ...facts(ctx, clientId), data: { fields: Object.keys(settings) } });
          return inserted;
        });
        await bumpConfigVersion(db, slug);
        return { status: 201, body: { client: viewOf(row, slug), secret } };
      },
      options,
    ),
  );

  mount(
    route(
      CLIENT_ROUTES.replaceClient,
      async (ctx, { params: { id }, body: settings }) => {
        const runtime = runtimeOf(ctx);
        checkAcr(runtime, settings.minimumAcr);
        const slug = runtime.tenant.slug;
        const { row, secret } = await withTenant(db, runtime.tenant, async (trx) => {
          const current = await writable(trx, runtime, id);
          const before = viewOf(current, slug);
          // A client that becomes confidential gets a secret; one that becomes public loses it.
          const secret = confidential(settings.authMethod) && !current.secret_sealed ? newSecret() : null;
          const sealed = confidential(settings.authMethod) ? (secret ? sealClientSecret(config.kek, slug, id, secret) : current.secret_sealed) : null;
          const updated = await updateClientRecord(trx, id, { metadata: metadataOf(settings), firstParty: settings.firstParty, secretSealed: sealed });
          const after = viewOf(updated, slug);
          const fields = (Object.keys(settings) as Array<keyof typeof settings>).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
          await appendAudit(trx, { type: 'client.updated', ...facts(ctx, id), data: { fields } });
          return { row: updated, secret };
        });
        await bumpConfigVersion(db, slug);
        return { status: 200, body: { client: viewOf(row, slug), secret } };
      },
      options,
    ),
  );

  mount(
    route(
      CLIENT_ROUTES.rotateClientSecret,
      async (ctx, { params: { id } }) => {
        const runtime = runtimeOf(ctx);
        const slug = runtime.tenant.slug;
        const secret = newSecret();
        await withTenant(db, runtime.tenant, async (trx) => {
          const current = await writable(trx, runtime, id);
          if (!confidential(viewOf(current, slug).authMethod)) {
            throw new HttpError(400, 'public_client', 'Bad request', `${id} is a public client (no authentication at the token endpoint): it has no secret to rotate.`);
          }
          await setClientSecret(trx, id, sealClientSecret(config.kek, slug, id, secret));
          await appendAudit(trx, { type: 'client.secret_rotated', ...facts(ctx, id) });
        });
        await bumpConfigVersion(db, slug);
        return { status: 200, body: { clientId: id, secret } };
      },
      options,
    ),
  );

  mount(
    route(
      CLIENT_ROUTES.deleteClient,
      async (ctx, { params: { id } }) => {
        const runtime = runtimeOf(ctx);
        await withTenant(db, runtime.tenant, async (trx) => {
          await writable(trx, runtime, id);
          await deleteClientRecord(trx, id);
          await appendAudit(trx, { type: 'client.deleted', ...facts(ctx, id) });
        });
        await bumpConfigVersion(db, runtime.tenant.slug);
        return { status: 204 };
      },
      options,
    ),
  );
}
