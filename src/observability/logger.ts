// The process logger: pino, JSON lines on stdout (or a given stream), with secrets redacted twice
// over — pino's path redaction for headers, and a key-name scrub at any depth for everything else.
import pino, { type DestinationStream, type Logger } from 'pino';
import { CENSOR, REDACT_PATHS, scrub } from './redact.ts';

export interface LoggerOptions {
  /** 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'. */
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream to capture them. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Added to every line, e.g. `{ service: 'facet-worker' }`. */
  base?: Record<string, unknown>;
}

export function createLogger({ level = 'info', destination, base = { service: 'facet' } }: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { ...base, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrub(object),
      bindings: (bindings) => scrub(bindings),
    },
    serializers: {
      err: (error: unknown) => scrub(pino.stdSerializers.err(error as Error)),
    },
  };
  return destination ? pino(options, destination as DestinationStream) : pino(options);
}

export type { Logger };
