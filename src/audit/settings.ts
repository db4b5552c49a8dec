// The audit trail's settings, from the environment (README: Configuration).
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
});

export interface AuditSettings {
  exportDir: string;
  exportTtlMs: number;
  checkpointEveryMs: number;
  checkpointDir?: string;
  checkpointUrl?: string;
}

export function auditSettings(source: Record<string, string | undefined>): AuditSettings {
  const parsed = schema.safeParse(source);
  if (!parsed.success) throw new Error(`invalid audit configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const env = parsed.data;
  return {
    exportDir: env.FACET_AUDIT_EXPORT_DIR ?? path.join(tmpdir(), 'facet-audit-exports'),
    exportTtlMs: env.FACET_AUDIT_EXPORT_TTL_HOURS * 3_600_000,
    checkpointEveryMs: env.FACET_AUDIT_CHECKPOINT_MINUTES * 60_000,
    ...(env.FACET_AUDIT_CHECKPOINT_DIR ? { checkpointDir: env.FACET_AUDIT_CHECKPOINT_DIR } : {}),
    ...(env.FACET_AUDIT_CHECKPOINT_URL ? { checkpointUrl: env.FACET_AUDIT_CHECKPOINT_URL } : {}),
  };
}
