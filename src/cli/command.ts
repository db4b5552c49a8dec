// The shape of one `facet` command, shared by the command tables (commands.ts and the admin and
// audit groups it includes), so the groups need not import the table that imports them.
import type { ParseArgsConfig } from 'node:util';

export interface CommandContext {
  positionals: string[];
  values: Record<string, any>;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export interface Command {
  summary: string;
  usage: string;
  positionals?: number;
  options?: ParseArgsConfig['options'];
  run(ctx: CommandContext): Promise<number | void>;
}
