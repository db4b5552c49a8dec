// Telling "the database is not there right now" apart from every other database error. An outage
// (restart, failover, stop, network) is answered 503 with Retry-After; it is never a 500 and never
// a reason for the process to end.
import { FacetError } from '../errors/facet-error.ts';

/** SQLSTATEs meaning the server went away or is not accepting sessions (not a bad query). */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: terminated by a fast shutdown or restart
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '53300', // too_many_connections
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
]);

const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

// pg reports a dropped or dead connection by message only.
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^Postgres connection has been discarded/,
  /^Query read timeout/,
];

/** Whether `error` (or anything in its cause chain) is the database being unreachable. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; depth += 1) {
    if (current instanceof DatabaseUnavailableError) return true;
    const { code, message, errors } = current as { code?: unknown; message?: unknown; errors?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
    // Connecting to a name with several addresses fails with an AggregateError of the attempts.
    if (Array.isArray(errors) && errors.length > 0 && errors.every((e) => isDatabaseUnavailable(e))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * The outage as one error. Its shape is also what oidc-provider renders as an OAuth error
 * (`error` = message, `expose`, `statusCode`), so the OAuth endpoints answer
 * `503 {"error":"temporarily_unavailable"}` (RFC 6749 §4.1.2.1) and the authorization endpoint
 * redirects with that code; Facet's own responder turns it into problem+json or a page.
 */
export class DatabaseUnavailableError extends FacetError {
  readonly code = 'temporarily_unavailable';
  readonly statusCode = 503;
  readonly allow_redirect = true;
  readonly error = 'temporarily_unavailable';
  readonly error_description = 'The service is briefly unavailable. Try again in a few seconds.';
  readonly retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS;
  constructor(cause: unknown) {
    super('temporarily_unavailable', {
      cause,
      status: 503,
      expose: true,
      title: 'Temporarily unavailable',
      detail: `The service is briefly unavailable. Try again in ${DATABASE_RETRY_AFTER_SECONDS} seconds.`,
      headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
    });
    this.name = 'DatabaseUnavailableError';
  }
}

/** Returns the outage error for an outage, the error itself otherwise. */
export function classifyDatabaseError(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError || !isDatabaseUnavailable(error)) return error;
  return new DatabaseUnavailableError(error);
}
