// Given the repository's layout (README "Layout and conventions"), what ships stays apart from the
// development kit and the code keeps one direction of dependency: src/ imports nothing outside src/,
// no module takes part in an import cycle, and the areas of src/ depend on each other only the way
// docs/architecture.md draws them. `import type` is left out of the graph: it is erased from the
// JavaScript that runs (verbatimModuleSyntax), so it cannot make a cycle at load time.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { repoRoot } from '../../devkit/toolchain/tools.js';

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(repoRoot, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(repoRoot, path)).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const STATIC = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The relative imports of a file, resolved to repository paths (`x.js` is the source `x.ts`). */
export function importsOf(file: string, text: string): Edge[] {
  const resolve = (spec: string): string => {
    const path = normalize(join(dirname(file), spec));
    return path.endsWith('.js') ? path.replace(/\.js$/, '.ts') : path.endsWith('.ts') ? path : `${path}.ts`;
  };
  return [
    ...[...text.matchAll(STATIC)].map((m) => ({ from: file, to: resolve(m[2] ?? ''), typeOnly: m[1] !== undefined })),
    ...[...text.matchAll(DYNAMIC)].map((m) => ({ from: file, to: resolve(m[1] ?? ''), typeOnly: false })),
  ];
}

function cycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) component.push(w);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** src/core, src/spec, …; devkit/stack, …; a file at the top of its tree is its own area. */
const areaOf = (file: string): string => file.split('/').slice(0, 2).join('/').replace(/\.ts$/, '');

const TREES = ['src', 'devkit', 'test', 'bench', 'scripts'];
// This file's own examples are not imports.
const files = TREES.flatMap(tsFiles).filter((f) => f !== 'test/unit/layout.test.ts');
const edges = files.flatMap((f) => importsOf(f, readFileSync(join(repoRoot, f), 'utf8')));
const runtime = edges.filter((e) => !e.typeOnly);

test('the import scanner sees static, re-exported, side-effect, dynamic and type-only imports', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b/b.js';",
    "import {\n  c,\n  type C,\n} from './c.js';",
    "export { d } from './d.js';",
    "export type { E } from './e.js';",
    "import './f.js';",
    "const g = await import('./g.js');",
    "import { h } from '@temporalio/workflow';",
  ].join('\n');
  expect(importsOf('src/x/file.ts', text)).toEqual([
    { from: 'src/x/file.ts', to: 'src/x/a.ts', typeOnly: false },
    { from: 'src/x/file.ts', to: 'src/b/b.ts', typeOnly: true },
    { from: 'src/x/file.ts', to: 'src/x/c.ts', typeOnly: false },
    { from: 'src/x/file.ts', to: 'src/x/d.ts', typeOnly: false },
    { from: 'src/x/file.ts', to: 'src/x/e.ts', typeOnly: true },
    { from: 'src/x/file.ts', to: 'src/x/f.ts', typeOnly: false },
    { from: 'src/x/file.ts', to: 'src/x/g.ts', typeOnly: false },
  ]);
  expect(cycles([
    { from: 'a', to: 'b', typeOnly: false },
    { from: 'b', to: 'c', typeOnly: false },
    { from: 'c', to: 'a', typeOnly: false },
    { from: 'c', to: 'd', typeOnly: false },
  ])).toEqual([['a', 'b', 'c']]);
});

test('every relative import names a file that exists', () => {
  const missing = edges.filter((e) => !files.includes(e.to)).map((e) => `${e.from} → ${e.to}`);
  expect(missing).toEqual([]);
});

test('what ships (src/) imports nothing from the development kit, tests, benchmarks or scripts', () => {
  const outside = edges.filter((e) => e.from.startsWith('src/') && !e.to.startsWith('src/')).map((e) => `${e.from} → ${e.to}`);
  expect(outside).toEqual([]);
});

test('no module takes part in an import cycle (src/, devkit/, test/, bench/, scripts/)', () => {
  expect(cycles(runtime)).toEqual([]);
});

test('the areas of src/ depend on each other in one direction, as docs/architecture.md draws them', () => {
  // What each area of src/ may load at run time. Workflows see activities only as types (lint rule);
  // the CLI's `worker` command loads the worker.
  const allowed: Record<string, string[]> = {
    'src/core': [],
    'src/spec': ['src/core'],
    'src/temporal': ['src/core'],
    'src/signing': ['src/core'],
    'src/activities': ['src/core', 'src/spec', 'src/temporal', 'src/signing'],
    'src/workflows': ['src/core', 'src/spec'],
    'src/workers': ['src/activities', 'src/core', 'src/spec', 'src/temporal'],
    'src/client': ['src/core', 'src/spec', 'src/temporal', 'src/workers', 'src/workflows', 'src/signing'],
  };
  const actual = new Map<string, Set<string>>();
  for (const e of runtime.filter((r) => r.from.startsWith('src/'))) {
    const [from, to] = [areaOf(e.from), areaOf(e.to)];
    if (from !== to) actual.set(from, (actual.get(from) ?? new Set()).add(to));
  }
  const unexpected = [...actual].flatMap(([from, tos]) => [...tos].filter((to) => !(allowed[from] ?? []).includes(to)).map((to) => `${from} → ${to}`));
  expect(unexpected).toEqual([]);
  expect(Object.keys(allowed).sort()).toEqual(expect.arrayContaining([...actual.keys()].sort()));
});

test('the development kit never reaches into the tests, and relative paths in it stay inside the repository', () => {
  const intoTests = edges.filter((e) => e.from.startsWith('devkit/') && /^(test|bench|scripts)\//.test(e.to)).map((e) => `${e.from} → ${e.to}`);
  expect(intoTests).toEqual([]);
  expect(edges.filter((e) => relative(repoRoot, join(repoRoot, e.to)).startsWith('..'))).toEqual([]);
});
