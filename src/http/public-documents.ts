// Discovery and JWKS from precomputed bytes (issue 16). Both are static per tenant and key set:
// the tenant's provider renders each once, through its own routes (so whatever its discovery
// returns — configuration changes included — is what is served), and the bytes, an ETag and the
// headers are kept with the tenant's runtime. The pool rebuilds the runtime when the tenant or its
// keys change (config_version), and the documents with it. After that a request costs a map
// lookup and one write; `If-None-Match` with the current ETag answers 304 without a body.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface Rendered {
  headers: Array<[string, string | number | string[]]>;
  body: Buffer;
  etag: string;
}

export interface DocumentSource {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** Per request, or about the connection: never replayed from the stored copy. */
const NOT_STORED = new Set(['x-request-id', 'access-control-allow-origin', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'etag', 'cache-control']);
/** Clients revalidate every use (cheap: 304), so a key rotation is seen at once. */
const CACHE_CONTROL = 'public, no-cache';

const stored = new WeakMap<DocumentSource, Map<string, Rendered>>();

/**
 * Answers a GET for a public document of `runtime`. `key` names the document (its path without a
 * query); undefined means "do not store" (a request with a query string goes to the provider).
 */
export async function servePublicDocument(runtime: DocumentSource, key: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const hit = key === undefined ? undefined : stored.get(runtime)?.get(key);
  if (hit) {
    send(hit, req, res);
    return;
  }
  const captured = capture(res);
  await runtime.handle(req, res);
  const rendered = captured();
  if (key === undefined || !rendered) return;
  let documents = stored.get(runtime);
  if (!documents) stored.set(runtime, (documents = new Map()));
  documents.set(key, rendered);
}

function send(document: Rendered, req: IncomingMessage, res: ServerResponse): void {
  for (const [name, value] of document.headers) res.setHeader(name, value);
  // oidc-provider's CORS for these documents answers the caller's Origin (or *).
  const origin = req.headers.origin;
  res.setHeader('Access-Control-Allow-Origin', typeof origin === 'string' && origin ? origin : '*');
  res.setHeader('ETag', document.etag);
  res.setHeader('Cache-Control', CACHE_CONTROL);
  if (matches(req.headers['if-none-match'], document.etag)) {
    res.removeHeader('Content-Type');
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Length', document.body.length);
  res.end(document.body);
}

/** RFC 9110 §13.1.2: weak comparison; `*` matches any current representation. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === etag);
}

/** Watches the provider's answer; returns it once sent, if it can be stored (a 200 without cookies). */
function capture(res: ServerResponse): () => Rendered | undefined {
  const chunks: Buffer[] = [];
  const write = res.write;
  const end = res.end;
  const keep = (chunk: unknown, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
  };
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;
  return () => {
    res.write = write;
    res.end = end;
    if (res.statusCode !== 200 || res.getHeader('set-cookie') !== undefined || !res.writableEnded) return undefined;
    const body = Buffer.concat(chunks);
    const headers = Object.entries(res.getHeaders()).filter(([name, value]) => value !== undefined && !NOT_STORED.has(name)) as Rendered['headers'];
    return { headers, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` };
  };
}
