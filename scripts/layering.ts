// The shape of src/ (../shared/DESIGN.md, issue "a middle layer the console can stand on"), as
// rules a test can prove fire: the import graph has no cycle; only src/oidc/ imports oidc-provider
// or reads its stored payload shapes; the core (factors, stepup, face, crypto, db) imports nothing
// from the HTTP edge or the views; src/ never imports migrations/; no service locator on ctx.state;
// no untyped database handle (`Kysely<any>`) outside src/db/; a module that handles HTTP (imports
// Koa) writes no query: routes call query modules per entity (routes → libraries → queries).
import { readFileSync, globSync } from 'node:fs';
import path from 'node:path';

const CORE = ['src/factors/', 'src/stepup/', 'src/face/', 'src/crypto/', 'src/db/'];
const EDGE = ['src/http/', 'src/interaction/', 'src/account/', 'src/admin/', 'src/console/', 'views/', 'ui/'];

/** A query written in place: a Kysely query builder or a raw `sql` template. */
const QUERY = /\.(?:selectFrom|insertInto|updateTable|deleteFrom)\(|\bsql(?:<[^>]*>)?`/;
const IMPORTS_KOA = /from\s+['"](?:koa|@koa\/router)['"]/;

/** Relative imports of a file, resolved to paths from the root (type-only imports included: they couple too). */
function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
    found.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]!)));
  }
  for (const match of text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    found.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]!)));
  }
  return found;
}

/** Every cycle's files (strongly connected components of more than one file, or a self-import). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return cycles;
}

export function layeringViolations(root: string): string[] {
  const failures: string[] = [];
  const graph = new Map<string, string[]>();
  for (const file of globSync('{src,views,ui}/**/*.{ts,tsx}', { cwd: root }).map((f) => f.split(path.sep).join('/'))) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const imports = importsOf(file, text);
    if (file.startsWith('src/')) graph.set(file, imports);
    if (!file.startsWith('src/')) continue;
    if (!file.startsWith('src/oidc/')) {
      if (/from\s+['"]oidc-provider['"]/.test(text)) failures.push(`${file}: imports oidc-provider, which only src/oidc/ may (use src/oidc/facade.ts)`);
      if (/payload\s*->>?/.test(text)) failures.push(`${file}: reads oidc-provider's stored payload shapes, which only src/oidc/ may`);
    }
    if (CORE.some((dir) => file.startsWith(dir))) {
      for (const target of imports) if (EDGE.some((dir) => target.startsWith(dir))) failures.push(`${file}: imports ${target} (the core imports nothing from the HTTP edge or the views)`);
      if (/from\s+['"](?:koa|@koa\/router)['"]/.test(text)) failures.push(`${file}: imports Koa (the core is free of HTTP)`);
    }
    for (const target of imports) if (target.startsWith('migrations/')) failures.push(`${file}: imports ${target} (src/ never imports migrations/)`);
    if (/\bctx\.state\.services\b/.test(text)) failures.push(`${file}: ctx.state.services (handlers get their services with their deps)`);
    if (!file.startsWith('src/db/') && /\bKysely<any>/.test(text)) failures.push(`${file}: Kysely<any> outside src/db/ (use TenantKysely / RootDb)`);
    if (IMPORTS_KOA.test(text) && QUERY.test(text)) {
      failures.push(`${file}: handles HTTP and writes a query (move it into a query module per entity)`);
    }
  }
  for (const cycle of importCycles(graph)) failures.push(`import cycle: ${cycle.join(' → ')}`);
  return failures;
}
