// The audit trail's settings, from the environment (README: Configuration).
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  /** Where export archives are written; with Redis, a directory the app and the workers share. */
  FACET_AUDIT_EXPORT_DIR: z.string().min(1).optional(),
  /** How long a finished export can be downloaded. */
  FACET_AUDIT_EXPORT_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24),
  /** How often the chain head is signed (minutes). */
  FACET_AUDIT_CHECKPOINT_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(60),
  /** Optional sinks receiving each checkpoint as it is made. */
  FACET_AUDIT_CHECKPOINT_DIR: z.string().min(1).optional(),
  FACET_AUDIT_CHECKPOINT_URL: z.url().optional(),
  /** A bearer token the HTTP sink sends (Authorization: Bearer …), or a file holding it (a mounted secret). */
  FACET_AUDIT_CHECKPOINT_TOKEN: z.string().optional(),
  FACET_AUDIT_CHECKPOINT_TOKEN_FILE: z.string().min(1).optional(),
  NODE_ENV: z.string().optional(),
});

/** RFC 6750 b64token: what may follow "Bearer " in an Authorization header. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export interface AuditSettings {
  exportDir: string;
  exportTtlMs: number;
  checkpointEveryMs: number;
  checkpointDir?: string;
  checkpointUrl?: string;
  /** Sent by the HTTP sink as a bearer token; never logged (the key name is redacted) nor put in messages. */
  checkpointToken?: string;
}

/**
 * The HTTP sink's bearer token from FACET_AUDIT_CHECKPOINT_TOKEN or _TOKEN_FILE. Problems are named
 * without the value.
 */
function checkpointToken(env: z.infer<typeof schema>): string | undefined {
  const { FACET_AUDIT_CHECKPOINT_TOKEN: inline, FACET_AUDIT_CHECKPOINT_TOKEN_FILE: file } = env;
  if (inline === undefined && file === undefined) return undefined;
  if (inline !== undefined && file !== undefined) throw new Error('invalid audit configuration: set FACET_AUDIT_CHECKPOINT_TOKEN or FACET_AUDIT_CHECKPOINT_TOKEN_FILE, not both');
  const name = inline !== undefined ? 'FACET_AUDIT_CHECKPOINT_TOKEN' : `FACET_AUDIT_CHECKPOINT_TOKEN_FILE (${file})`;
  let token: string;
  if (inline !== undefined) token = inline.trim();
  else {
    try {
      token = readFileSync(file!, 'utf8').trim();
    } catch (error) {
      throw new Error(`invalid audit configuration: ${name} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (!token) throw new Error(`invalid audit configuration: ${name} is empty`);
  if (!BEARER_TOKEN.test(token)) throw new Error(`invalid audit configuration: ${name} is not a bearer token (letters, digits and - . _ ~ + / only, = at the end)`);
  if (!env.FACET_AUDIT_CHECKPOINT_URL) throw new Error(`invalid audit configuration: ${name} is set but FACET_AUDIT_CHECKPOINT_URL is not`);
  if (env.NODE_ENV === 'production' && !env.FACET_AUDIT_CHECKPOINT_URL.startsWith('https://')) {
    throw new Error('invalid audit configuration: FACET_AUDIT_CHECKPOINT_URL must be https:// in production when a token is sent (it would cross the network in clear)');
  }
  return token;
}

export function auditSettings(source: Record<string, string | undefined>): AuditSettings {
  const parsed = schema.safeParse(source);
  if (!parsed.success) throw new Error(`invalid audit configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const env = parsed.data;
  const token = checkpointToken(env);
  return {
    exportDir: env.FACET_AUDIT_EXPORT_DIR ?? path.join(tmpdir(), 'facet-audit-exports'),
    exportTtlMs: env.FACET_AUDIT_EXPORT_TTL_HOURS * 3_600_000,
    checkpointEveryMs: env.FACET_AUDIT_CHECKPOINT_MINUTES * 60_000,
    ...(env.FACET_AUDIT_CHECKPOINT_DIR ? { checkpointDir: env.FACET_AUDIT_CHECKPOINT_DIR } : {}),
    ...(env.FACET_AUDIT_CHECKPOINT_URL ? { checkpointUrl: env.FACET_AUDIT_CHECKPOINT_URL } : {}),
    ...(token ? { checkpointToken: token } : {}),
  };
}
