// Discovery and JWKS from precomputed bytes (issue 16). Both are static per tenant and key set:
// the tenant's provider renders each once, through its own routes (so whatever its discovery
// returns — configuration changes included — is what is served), and the bytes, an ETag and the
// headers are kept with the tenant's runtime. The pool rebuilds the runtime when the tenant or its
// keys change (config_version), and the documents with it. After that a request costs a map
// lookup and one write; `If-None-Match` with the current ETag answers 304 without a body.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface Rendered {
  /** The stored headers with ETag, Cache-Control and Content-Length, as writeHead's flat list. */
  ok: string[];
  /** The same for a 304: no Content-Type, no Content-Length. */
  notModified: string[];
  /** The body as a string when it is valid UTF-8: Node then sends headers and body in one write, not a writev of two. */
  body: string | Buffer;
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
export async function servePublicDocument(runtime: DocumentSource, key: string | undefined, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const hit = key === undefined ? undefined : stored.get(runtime)?.get(key);
  if (hit) {
    send(hit, req, res, requestId);
    return;
  }
  res.setHeader('X-Request-Id', requestId);
  const captured = capture(res);
  await runtime.handle(req, res);
  const rendered = captured();
  if (key === undefined || !rendered) return;
  let documents = stored.get(runtime);
  if (!documents) stored.set(runtime, (documents = new Map()));
  documents.set(key, rendered);
}

function send(document: Rendered, req: IncomingMessage, res: ServerResponse, requestId: string): void {
  // oidc-provider's CORS for these documents answers the caller's Origin (or *).
  const origin = req.headers.origin;
  const allowOrigin = typeof origin === 'string' && origin ? origin : '*';
  // Every header in one writeHead list, nothing set before: Node takes its fast path (no header map).
  if (matches(req.headers['if-none-match'], document.etag)) {
    res.writeHead(304, [...document.notModified, 'X-Request-Id', requestId, 'Access-Control-Allow-Origin', allowOrigin]);
    res.end();
    return;
  }
  res.writeHead(200, [...document.ok, 'X-Request-Id', requestId, 'Access-Control-Allow-Origin', allowOrigin]);
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
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    const headers: string[] = [];
    for (const [name, value] of Object.entries(res.getHeaders())) {
      if (value === undefined || NOT_STORED.has(name)) continue;
      for (const one of Array.isArray(value) ? value : [value]) headers.push(name, String(one));
    }
    const common = [...headers, 'ETag', etag, 'Cache-Control', CACHE_CONTROL];
    const notModified: string[] = [];
    for (let i = 0; i < headers.length; i += 2) if (headers[i] !== 'content-type') notModified.push(headers[i]!, headers[i + 1]!);
    const text = body.toString('utf8');
    return {
      ok: [...common, 'Content-Length', String(body.length)],
      notModified: [...notModified, 'ETag', etag, 'Cache-Control', CACHE_CONTROL],
      body: Buffer.byteLength(text) === body.length && Buffer.from(text).equals(body) ? text : body,
      etag,
    };
  };
}
