// Given examples/ci/release.yml, the GitHub Actions workflow the README shows CI teams, when it is
// read as GitHub would read it, then it is triggered by version tags, every tidegate command line in
// it passes the CLI's own argument parser (a renamed flag or command breaks this test, not
// someone's release job), and the exit codes it turns into the job's outcome are exactly the CLI's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseInvocation } from '../../src/client/cli.js';
import { EXIT_CODES } from '../../src/core/status.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';

interface Step {
  name?: string;
  run?: string;
  uses?: string;
}
interface Workflow {
  on: { push?: { tags?: string[] } };
  jobs: Record<string, { steps: Step[]; env?: Record<string, string> }>;
}

const text = readFileSync(join(repoRoot, 'examples', 'ci', 'release.yml'), 'utf8');
const workflow = parse(text) as Workflow;
const scripts = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((s) => (s.run ? [s.run] : [])));

/** Shell words of one line: quotes removed, parameter expansions replaced by a sample value. */
function words(line: string): string[] {
  const expanded = line.replace(/\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*/g, 'x1');
  return [...expanded.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** Each tidegate invocation: the arguments after bin/tidegate.js. */
const invocations = scripts
  .flatMap((s) => s.split('\n'))
  .map((l) => l.trim())
  .filter((l) => !l.startsWith('#') && /bin\/tidegate\.js\s/.test(l))
  .map((l) => {
    const w = words(l);
    return w.slice(w.findIndex((x) => x.endsWith('bin/tidegate.js')) + 1);
  });

test('it runs on version tags and calls tidegate validate, then start --wait', () => {
  expect(workflow.on.push?.tags).toEqual(['v*.*.*']);
  expect(invocations.map((argv) => argv[0])).toEqual(['validate', 'start']);
  const start = invocations.find((argv) => argv[0] === 'start') ?? [];
  expect(start).toEqual(expect.arrayContaining(['--wait', '--version', '--image', '--sha', '-f']));
});

test('every tidegate command line in it passes the CLI parser', () => {
  expect(invocations.length).toBeGreaterThan(0);
  for (const argv of invocations) expect(() => parseInvocation(argv)).not.toThrow();
  // and the parser is the CLI's: a flag it does not know is refused, as the CLI would refuse it (exit 2)
  expect(() => parseInvocation(['start', '-f', 'release.yaml', '--wiat'])).toThrow(/Unknown option '--wiat'/);
  expect(() => parseInvocation(['stat', 'checkout@1.0.0'])).toThrow(/unknown command "stat"/);
});

test('the exit codes it maps to the job outcome are the CLI’s, each with its meaning', () => {
  const script = scripts.find((s) => s.includes('case $code in')) ?? '';
  const handled = Object.fromEntries([...script.matchAll(/^\s*(\d+)\)\s*echo "([^"]*)"/gm)].map((m) => [Number(m[1]), m[2] ?? '']));
  const expected: Record<number, RegExp> = {
    [EXIT_CODES.released]: /released/,
    [EXIT_CODES.invalid]: /invalid/,
    [EXIT_CODES.refused]: /refused/,
    [EXIT_CODES.rolledBackByAnalysis]: /rolled back/,
    [EXIT_CODES.rejected]: /rejected/,
    [EXIT_CODES.aborted]: /aborted/,
    [EXIT_CODES.timedOut]: /timed out/,
  };
  expect(Object.keys(handled).map(Number).sort((a, b) => a - b)).toEqual(Object.keys(expected).map(Number).sort((a, b) => a - b));
  for (const [code, meaning] of Object.entries(expected)) expect(handled[Number(code)]).toMatch(meaning);
  // the job fails exactly when the release did not end released
  expect(script).toMatch(/exit \$code\s*$/);
});

test('secrets come from the repository settings, never from the spec or the command line', () => {
  const env = Object.values(workflow.jobs)[0]?.env ?? {};
  expect(env.TEMPORAL_API_KEY).toBe('${{ secrets.TEMPORAL_API_KEY }}');
  expect(invocations.flat().join(' ')).not.toMatch(/secret|token|api.?key/i);
});
