// The address a request came from. X-Forwarded-For is only believed when Facet is told it sits
// behind proxies (TRUST_PROXY); otherwise any client could pick its own rate-limit bucket.
import { isIP } from 'node:net';
import type { Context } from 'koa';

export interface ClientIpOptions {
  /**
   * false (default): the socket's peer address. A number n: n proxies in front of Facet append to
   * X-Forwarded-For, so the client is the n-th address from the right. true: trust the whole
   * header and take the leftmost address (only when every hop is yours).
   */
  trustProxy?: boolean | number;
}

export function clientIp(ctx: Pick<Context, 'get' | 'req'>, { trustProxy = false }: ClientIpOptions = {}): string {
  const peer = peerAddress(ctx.req.socket);
  if (trustProxy === false || trustProxy === 0) return peer;
  const forwarded = ctx
    .get('x-forwarded-for')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (forwarded.length === 0) return peer;
  if (trustProxy === true) return normalize(forwarded[0]) ?? peer;
  // The peer is the last proxy; each trusted hop vouches for the address to its left.
  const chain = [...forwarded, peer];
  const index = Math.max(0, chain.length - 1 - trustProxy);
  return normalize(chain[index]) ?? peer;
}

/** Reads TRUST_PROXY: unset/"false"/"0" → false, "true" → true, "2" → 2. */
export function parseTrustProxy(value: string | undefined): boolean | number {
  if (value === undefined || value.trim() === '') return false;
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  const n = Number(v);
  if (Number.isInteger(n) && n >= 0) return n;
  throw new Error(`TRUST_PROXY must be true, false or a number of proxy hops, not ${JSON.stringify(value)}`);
}

/**
 * The normalized peer address of a connection, worked out once per socket (a kept-alive
 * connection carries many requests; its peer never changes).
 */
const peers = new WeakMap<object, string>();
function peerAddress(socket: { remoteAddress?: string | undefined } | undefined | null): string {
  if (!socket) return 'unknown';
  let peer = peers.get(socket);
  if (peer !== undefined) return peer;
  peer = normalize(socket.remoteAddress) ?? 'unknown';
  // A destroyed socket no longer knows its address: not remembered.
  if (socket.remoteAddress) peers.set(socket, peer);
  return peer;
}

function normalize(address: string | undefined): string | undefined {
  if (!address) return undefined;
  // "::ffff:10.0.0.1" and "10.0.0.1" are one client; brackets and ports appear from some proxies.
  let a = address.replace(/^\[(.*)\](?::\d+)?$/, '$1');
  if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return isIP(a) ? a.toLowerCase() : undefined;
}
