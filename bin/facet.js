#!/usr/bin/env node
// The `facet` command. Facet is TypeScript run directly by Node's type stripping (Node >= 22.18).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`facet: Node ${process.versions.node} is too old; Node 22.18 or newer (24 LTS recommended) is required\n`);
  process.exit(1);
}
await import('../src/tsx-hooks.ts'); // the pages under ui/ are TSX (compiled by esbuild as they load)
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
