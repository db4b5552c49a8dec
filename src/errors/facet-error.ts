// The one error family. Every error Facet throws extends FacetError: a stable `code` (the reason,
// for programs, logs and tests; never parse `message`), the HTTP `status` it stands for, and
// whether its message may be shown to the caller (`expose`). Domain errors keep the defaults
// (500, not exposed): a handler that knows better maps them to a user-facing answer; one that
// escapes is an internal error. The HTTP edge (src/http/error-responder.ts) is the one place that
// turns an error into OAuth JSON, problem+json or a page.
export interface FacetErrorOptions extends ErrorOptions {
  /** HTTP status this error stands for (default 500). */
  status?: number;
  /** Whether `detail` (or the message) may be shown to the caller (default: status < 500). */
  expose?: boolean;
  /** Short human title (problem+json `title`, page heading). */
  title?: string;
  /** Text for the caller; defaults to the message when exposed. */
  detail?: string;
  /** Response headers that belong to the answer (Retry-After, WWW-Authenticate). */
  headers?: Readonly<Record<string, string>>;
}

export abstract class FacetError extends Error {
  /** Stable machine-readable reason, snake_case. */
  abstract readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  constructor(message: string, { status = 500, expose, title, detail, headers = {}, ...options }: FacetErrorOptions = {}) {
    super(message, options);
    this.name = new.target.name;
    this.status = status;
    this.expose = expose ?? status < 500;
    this.title = title;
    this.detail = detail;
    this.headers = headers;
  }
}

export function isFacetError(error: unknown): error is FacetError {
  return error instanceof FacetError;
}
