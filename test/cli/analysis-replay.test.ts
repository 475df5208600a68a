// `tidegate analysis replay` on recorded histories: offline with --history (test/fixtures/histories/,
// read from the directory) and through the client path (fetchHistory) with an in-memory client, with
// other configs from test/cli/specs/. The real dev server is exercised in cli.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/client/cli.js';
import type { ReplayReport } from '../../src/client/analysis-replay.js';
import { tempDir } from '../../devkit/testing/servers.js';
import { fakeClient, fixtureKeysFile, historiesDir, historyFiles, loadRecorded, type FakeRelease } from './support/recorded.js';

const specs = fileURLToPath(new URL('./specs/', import.meta.url));
const history = (name: string): string => join(historiesDir, name);
const dir = tempDir('replay');

async function cli(argv: string[], releases: Record<string, FakeRelease> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  let connected = false;
  const code = await runCli(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    // the encrypted fixtures are read with their key, as a user's CLI reads with theirs
    env: { TIDEGATE_PAYLOAD_KEYS_FILE: fixtureKeysFile },
    connect: async () => {
      connected = true;
      return { client: fakeClient(releases), close: async () => undefined };
    },
  });
  // --history never needs a server
  if (argv.includes('--history')) expect(connected).toBe(false);
  return { code, stdout, stderr };
}

/** The table row of a run: its cells. */
function row(stdout: string, id: string): string[] | undefined {
  return stdout
    .split('\n')
    .find((l) => l.startsWith(`${id} `))
    ?.split(/ {3,}/)
    .map((c) => c.trim());
}

test('a stricter config would have rolled back a recorded healthy release, at staging', async () => {
  const r = await cli(['analysis', 'replay', 'checkout@1.4.2', '--history', history('released.json'), '-f', join(specs, 'checkout-stricter.yaml')]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout.split('\n')[0]).toBe('checkout@1.4.2  released');
  expect(r.stdout).toMatch(/^run +recorded verdict +re-judged: own config +re-judged: checkout-stricter\.yaml$/m);
  expect(row(r.stdout, 'checkout/staging/success-rate')).toEqual(['checkout/staging/success-rate', 'Successful', 'Successful', 'Failed']);
  expect(row(r.stdout, 'checkout/canary/2/success-rate')).toEqual(['checkout/canary/2/success-rate', 'Successful', 'Successful', 'Failed']);
  expect(row(r.stdout, 'checkout/monitor/success-rate')).toEqual(['checkout/monitor/success-rate', 'Successful', 'Successful', 'Failed']);
  expect(r.stdout).toContain(
    'checkout-stricter.yaml: Successful → Failed: 1 failed measurements (limit 0), after 1 of 4 recorded measurements (successCondition ">= 0.99" → ">= 0.9995", failureLimit 1 → 0)',
  );
  expect(r.stdout).toContain('own config: every recorded run passes (3)');
  expect(r.stdout).toContain('checkout-stricter.yaml: rolls back at checkout/staging/success-rate: 1 failed measurements (limit 0)');
});

test('a looser config would have passed recorded failures: a threshold run and a compare run', async () => {
  const threshold = await cli(['analysis', 'replay', '--history', history('rolled-back-by-analysis.json'), '-f', join(specs, 'checkout-looser.yaml')]);
  expect(threshold.code).toBe(0);
  expect(row(threshold.stdout, 'checkout/canary/2/success-rate')).toEqual(['checkout/canary/2/success-rate', 'Failed', 'Failed', 'Successful']);
  expect(threshold.stdout).toContain('checkout-looser.yaml: Failed → Successful: 2 of 2 measurements: 2 successful (successCondition ">= 0.99" → ">= 0.5", count 4 → 2)');
  expect(threshold.stdout).toContain('checkout-looser.yaml: every recorded run passes (2)');

  const compare = await cli(['analysis', 'replay', '--history', history('compare-judged.json'), '-f', join(specs, 'checkout-looser.yaml')]);
  expect(compare.code).toBe(0);
  expect(row(compare.stdout, 'checkout/canary/1/latency')).toEqual(['checkout/canary/1/latency', 'Failed', 'Failed', 'Successful']);
  expect(compare.stdout).toContain('checkout-looser.yaml: Failed → Successful: score 100 ≥ pass score 95 (minEffect 0.1 → 10)');
  expect(compare.stdout).toContain('own config: rolls back at checkout/canary/1/latency: score 0 < marginal score 75 (failed: latency)');
});

test('a config with another query, and without an analysis the release ran, says so', async () => {
  const r = await cli(['analysis', 'replay', '--history', history('failed-fast.json'), '-f', join(specs, 'checkout-other-query.yaml')]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('checkout-other-query.yaml: the query differs from the recorded one: these are the samples of the recorded query');
  expect(row(r.stdout, 'checkout/canary/1/latency')).toEqual(['checkout/canary/1/latency', 'Inconclusive', 'cut short', 'n/a']);
  expect(r.stdout).toContain('own config: the recorded run was cut short: another analysis of this step decided the rollback');
  expect(r.stdout).toContain('checkout-other-query.yaml: Inconclusive → NotComparable: this config has no analysis latency');
});

test('--json: the report for machines', async () => {
  const r = await cli(['analysis', 'replay', '--history', history('rolled-back-by-analysis.json'), '-f', join(specs, 'checkout-stricter.yaml'), '--json']);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout) as ReplayReport;
  expect(report).toMatchObject({ releaseId: 'checkout@1.4.3', outcome: 'rolled-back', cause: 'analysis', configs: { recorded: 'own config', other: 'checkout-stricter.yaml' } });
  expect(report.runs.map((x) => [x.id, x.recorded.phase, x.asRecorded.phase, x.other?.phase])).toEqual([
    ['checkout/staging/success-rate', 'Successful', 'Successful', 'Failed'],
    ['checkout/canary/2/success-rate', 'Failed', 'Failed', 'Failed'],
  ]);
  expect(report.release).toMatchObject({ asRecorded: { action: 'rollback', at: 'checkout/canary/2/success-rate' }, other: { action: 'rollback', at: 'checkout/staging/success-rate' } });
});

test.each(historyFiles())('%s: replayed under its own config, every run keeps its verdict (or says why not)', async (file) => {
  const { result } = loadRecorded(file);
  const r = await cli(['analysis', 'replay', '--history', history(file), '--json']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const report = JSON.parse(r.stdout) as ReplayReport;
  expect(report.releaseId).toBe(result.releaseId);
  expect(report.runs.map((x) => x.id)).toEqual(result.status.analyses.map((a) => a.id));
  for (const run of report.runs) {
    if (run.asRecorded.phase === run.recorded.phase) continue;
    // a different verdict under the same config is explained: cut short, a null judged like 0 back
    // then, or a compare run from before the compare judge existed (it took no samples)
    const explained = Boolean(run.asRecorded.cutShort) || (run.asRecorded.legacyNulls ?? 0) > 0 || run.asRecorded.reason === 'recorded before the compare judge existed: it took no samples';
    expect({ id: run.id, explained }).toEqual({ id: run.id, explained: true });
  }
  const text = await cli(['analysis', 'replay', '--history', history(file)]);
  expect(text.code).toBe(0);
  for (const run of report.runs) expect(row(text.stdout, run.id)?.[1]).toBe(run.recorded.phase);
});

test('the server path: the history of a closed release through the client; running and unknown releases', async () => {
  const recorded = loadRecorded('compare-judged.json');
  const releases: Record<string, FakeRelease> = {
    'checkout@1.4.7': { result: recorded.result, history: recorded.history },
    'checkout@9.0.0': { live: [{ ...recorded.result.status, outcome: undefined, stage: 'canary' }] },
    'tidegate-lock/checkout@1': { result: recorded.result, type: 'lock' },
  };
  const viaServer = await cli(['analysis', 'replay', 'checkout@1.4.7', '-f', join(specs, 'checkout-looser.yaml')], releases);
  const offline = await cli(['analysis', 'replay', '--history', history('compare-judged.json'), '-f', join(specs, 'checkout-looser.yaml')]);
  expect(viaServer).toEqual(offline);
  expect(row(viaServer.stdout, 'checkout/canary/1/latency')).toEqual(['checkout/canary/1/latency', 'Failed', 'Failed', 'Successful']);

  expect(await cli(['analysis', 'replay', 'checkout@9.0.0'], releases)).toMatchObject({
    code: 3,
    stderr: 'refused: checkout@9.0.0 is still running; replay re-judges finished releases (its runs may still be measuring) — see `tidegate status checkout@9.0.0`\n',
  });
  expect(await cli(['analysis', 'replay', 'checkout@0.0.1'], releases)).toMatchObject({ code: 2, stderr: expect.stringContaining('no release checkout@0.0.1') as string });
  expect(await cli(['analysis', 'replay', 'tidegate-lock/checkout@1'], releases)).toMatchObject({ code: 2, stderr: 'error: tidegate-lock/checkout@1 is not a release (workflow type "lock")\n' });
});

describe('bad input exits 2 naming the problem; a history that has not ended exits 3', () => {
  const raw = JSON.parse(readFileSync(history('rejected.json'), 'utf8')) as { events: { eventType: string; workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }[] };
  const write = (name: string, content: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const running = write('running.json', { events: raw.events.slice(0, -1) });
  const lock = write('lock.json', {
    events: raw.events.map((e) => (e.workflowExecutionStartedEventAttributes ? { ...e, workflowExecutionStartedEventAttributes: { ...e.workflowExecutionStartedEventAttributes, workflowType: { name: 'lock' } } } : e)),
  });
  const invalidSpec = write('invalid.yaml', [
    'service: checkout',
    'version: "1"',
    'image: x',
    'production: { namespace: prod, blueGreen: { activeService: checkout, deploymentPrefix: checkout } }',
    'analyses: { success-rate: { query: q, successCondition: "about 1" } }',
  ].join('\n'));

  test.each<[string, string[], number, string | RegExp]>([
    ['no subcommand', ['analysis'], 2, 'error: analysis needs a command: analysis replay RELEASE\n'],
    ['an unknown subcommand', ['analysis', 'rerun', 'checkout@1'], 2, 'error: unknown analysis command "rerun" (expected: analysis replay RELEASE)\n'],
    ['no release and no history', ['analysis', 'replay'], 2, 'error: analysis replay needs a release id, like checkout@1.4.2 (or --history FILE)\n'],
    ['a malformed release id', ['analysis', 'replay', 'checkout'], 2, 'error: "checkout" is not a release id (expected <service>@<version>)\n'],
    ['a missing history file', ['analysis', 'replay', '--history', join(dir, 'nope.json')], 2, `error: cannot read ${join(dir, 'nope.json')}: ENOENT\n`],
    ['a file that is not JSON', ['analysis', 'replay', '--history', join(specs, 'checkout-looser.yaml')], 2, /^error: .*checkout-looser\.yaml is not JSON: /],
    ['JSON that is not a history', ['analysis', 'replay', '--history', write('empty.json', { hello: 1 })], 2, /is not a workflow history \(expected \{"events": \[…\]\}/],
    ['a history of another workflow', ['analysis', 'replay', '--history', lock], 2, `error: ${lock} is not a release (workflow type "lock")\n`],
    ['the history of another release', ['analysis', 'replay', 'checkout@9.9.9', '--history', history('rejected.json')], 2, `error: ${history('rejected.json')} is the history of checkout@1.4.4, not checkout@9.9.9\n`],
    ['a missing -f file', ['analysis', 'replay', '--history', history('rejected.json'), '-f', join(dir, 'nope.yaml')], 2, `error: cannot read ${join(dir, 'nope.yaml')}: ENOENT\n`],
    ['an invalid -f spec', ['analysis', 'replay', '--history', history('rejected.json'), '-f', invalidSpec], 2, /^error: .*invalid\.yaml is not a valid release spec:\n {2}analyses\.success-rate\.successCondition: must be a comparison like ">= 0\.99" or "< 500" \(got "about 1"\)\n$/],
    ['a history that has not ended', ['analysis', 'replay', '--history', running], 3, 'refused: checkout@1.4.4 is still running (its history has not ended); replay re-judges finished releases — see `tidegate status checkout@1.4.4`\n'],
  ])('%s', async (_name, argv, code, stderr) => {
    const r = await cli(argv);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    if (typeof stderr === 'string') expect(r.stderr).toBe(stderr);
    else expect(r.stderr).toMatch(stderr);
  });
});
