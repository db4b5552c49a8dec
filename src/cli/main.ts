// `facet <command>`: operate an installation from the shell. Each command is a small function in
// cli/commands/; this file only parses arguments and prints usage. The TSX module hook comes first
// (src/tsx-hooks.ts): commands that start the server import the pages under ui/ when they run.
import '../tsx-hooks.ts';
import { parseArgs } from 'node:util';
import { FacetError } from '../errors/facet-error.ts';
import { ConfigError } from '../config/index.ts';
import { commands, type Command } from './commands.ts';

export class UsageError extends FacetError {
  override name = 'UsageError';
  readonly code = 'usage';
}

function usage(): string {
  const lines = Object.values(commands).map((command) => `  facet ${command.usage.padEnd(46)} ${command.summary}`);
  return `Usage:\n${lines.join('\n')}\n\nConfiguration comes from the environment (see README: Configuration).`;
}

export async function runCli(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const words = argv.filter((a) => !a.startsWith('-'));
  // Longest command name that matches the leading words: "tenant create", "keys rotate", "start".
  let command: Command | undefined;
  let consumed = 0;
  for (let n = Math.min(2, words.length); n >= 1; n -= 1) {
    const name = words.slice(0, n).join(' ');
    if (commands[name] && argv.slice(0, n).join(' ') === name) {
      command = commands[name];
      consumed = n;
      break;
    }
  }
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    out.write(`${usage()}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  if (!command) {
    err.write(`facet: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${usage()}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv.slice(consumed), options: command.options ?? {}, allowPositionals: true, strict: true });
  } catch (error) {
    err.write(`facet: ${(error as Error).message}\n  usage: facet ${command.usage}\n`);
    return 2;
  }
  if (parsed.positionals.length < (command.positionals ?? 0)) {
    err.write(`facet: missing argument\n  usage: facet ${command.usage}\n`);
    return 2;
  }
  try {
    return (await command.run({ positionals: parsed.positionals, values: parsed.values as Record<string, any>, out, err })) ?? 0;
  } catch (error) {
    const e = error as Error & { code?: string };
    if (error instanceof UsageError) {
      err.write(`facet: ${e.message}\n  usage: facet ${command.usage}\n`);
      return 2;
    }
    if (error instanceof ConfigError || e.code) {
      err.write(`facet: ${e.message}\n`);
      return 1;
    }
    err.write(`facet: ${e.stack ?? e}\n`);
    return 1;
  }
}

if (import.meta.main) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
