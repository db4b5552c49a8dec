// Shared by the ops tests: a log sink that captures pino's JSON lines, and unique names.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export function captureStream() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, any>) };
}

/** A logger-shaped recorder for modules that take `{ warn, info, error }`. */
export function recordingLogger() {
  const entries: Array<{ level: string; obj: object; msg: string }> = [];
  const at = (level: string) => (obj: object, msg: string) => void entries.push({ level, obj, msg });
  return { entries, warn: at('warn'), info: at('info'), error: at('error'), debug: at('debug') };
}
