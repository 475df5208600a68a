// The status renderer and the CLI paths that print a status (status, --json, --wait, --watch,
// start --wait, list), on every recorded history in test/fixtures/histories/ (read from the
// directory, so new recordings are covered) and on statuses no recording holds yet: non-finite and
// null values, fields older versions did not write, Error measurements, compare runs without a score,
// skipped and failed undos, releases that ended before their first stage, and plain garbage.
// Assertions are on what an operator looks for: outcome, reason, the failing run and its values,
// the rollback, and the exit code CI sees.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/client/cli.js';
import { exitCodeOf, renderList, renderStatus, summarizeAnalyses, type Loose } from '../../src/client/render.js';
import { exitCodeFor, upgradeStatus, type AnalysisRun, type ReleaseResult, type ReleaseStatus } from '../../src/core/status.js';
import { formatValue } from '../../src/core/values.js';
import { clusterReleaseId, isClusterReleaseId } from '../../src/core/ids.js';
import { tempDir } from '../../devkit/testing/servers.js';
import { fakeClient, historyFiles, loadRecorded, type FakeRelease } from '../cli/support/recorded.js';
import { waveStatuses as waves } from './support/wave-statuses.js';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function cli(releases: Record<string, FakeRelease>, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const client = fakeClient(releases);
  const code = await runCli(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { TIDEGATE_USER: 'carol' },
    connect: async () => ({ client, close: async () => undefined }),
    pollMs: 1,
  });
  return { code, stdout, stderr };
}

/** What an operator must find in the text of a run that did not pass: its id, phase, reason and last values. */
function expectRunShown(text: string, run: AnalysisRun): void {
  const line = text.split('\n').find((l) => l.includes(` ${run.id} `));
  expect(line).toBeDefined();
  expect(line).toContain(run.phase);
  if (run.phase === 'Successful') return;
  if (run.reason) expect(text).toContain(run.kind === 'compare' ? (run.reason.split(' — ')[0] ?? run.reason) : run.reason);
  if (run.kind === 'threshold') {
    for (const m of run.measurements.slice(-5)) {
      if ('value' in m) expect(line).toContain(m.value === null ? 'null' : formatValue(m.value));
    }
    const lastBad = [...run.measurements].reverse().find((m) => m.phase !== 'Successful');
    if (lastBad?.message) expect(text).toContain(`last ${lastBad.phase}`);
    if (lastBad?.message) expect(text).toContain(lastBad.message);
  }
  for (const metric of run.compare?.metrics ?? []) {
    const metricLine = text.split('\n').find((l) => l.trimStart().startsWith(`${metric.name} `));
    expect(metricLine).toContain(metric.classification);
    if (metric.verdict === 'Fail') expect(metricLine).toContain('→ Fail');
    if (metric.pValue !== undefined) expect(metricLine).toMatch(/p[<=]\d/);
    if (metric.shift) expect(metricLine).toContain(`[${formatValue(metric.shift.lower)}, ${formatValue(metric.shift.upper)}]`);
  }
}

describe('every recorded history renders with what an operator looks for', () => {
  const files = historyFiles();

  test('the fixtures directory holds the histories this suite iterates over', () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
    expect(files).toEqual(expect.arrayContaining(['nan-as-null-failed.json', 'compare-judged.json', 'released.json']));
  });

  test.each(files)('%s: text has outcome, reason, exit code, every run and every undo', (file) => {
    const { result } = loadRecorded(file);
    const s = result.status;
    const text = renderStatus(s);
    const [first] = text.split('\n');
    expect(first).toBe(`${s.releaseId}  ${s.outcome}${s.reason ? `: ${s.reason}` : ''}`);
    expect(text).toContain(`--wait exits ${exitCodeFor(result)}`);
    if (s.cause) expect(text).toContain(`cause ${s.cause}`);
    for (const run of s.analyses) expectRunShown(text, run);
    for (const c of s.compensations) expect(text).toMatch(new RegExp(`${c.status === 'failed' ? 'FAILED' : c.status} +${escape(c.label)}${c.note ? ` .*${escape(c.note)}` : ''}`));
    for (const svc of s.services) expect(text).toContain(`${svc.service} ${svc.version} ${svc.image}`);
  });

  test.each(files)('%s: status, --json, --wait, --wait --json and list through the CLI', async (file) => {
    const { result } = loadRecorded(file);
    const id = result.releaseId;
    const releases = { [id]: { result } };

    const text = await cli(releases, 'status', id);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toBe(`${renderStatus(result.status)}\n`);

    const json = await cli(releases, 'status', id, '--json');
    expect(json.code).toBe(0);
    // the recorded status, with the codes its events and pause had before codes existed (upgradeStatus)
    const upgraded = upgradeStatus(result.status);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(upgraded)));
    expect(upgraded.timeline.filter((t) => t.code === 'unknown')).toEqual([]);

    const waited = await cli(releases, 'status', id, '--wait');
    expect(waited.code).toBe(exitCodeFor(result));
    expect(waited.stdout.split('\n')[0]).toBe(`${id}  ${result.outcome}${result.reason ? `: ${result.reason}` : ''}`);

    const waitedJson = await cli(releases, 'status', id, '--wait', '--json');
    expect(waitedJson.code).toBe(exitCodeFor(result));
    expect(JSON.parse(waitedJson.stdout)).toEqual(JSON.parse(JSON.stringify({ ...result, status: upgraded })));

    const list = await cli(releases, 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${escape(id)} +${result.outcome} `));
  });
});

test('a canary whose NaN arrived as null (recorded): status shows the failure and its values, --wait exits 10', async () => {
  const { result } = loadRecorded('nan-as-null-failed.json');
  const text = renderStatus(result.status);
  expect(text).toContain('rolled-back: analysis success-rate failed at canary step 2 of checkout: 2 failed measurements (limit 1)');
  expect(text).toContain('outcome rolled-back, cause analysis (--wait exits 10)');
  expect(text).toMatch(/✗ checkout\/canary\/1\/success-rate +Failed +2 measurements \[null null\] — 2 failed measurements \(limit 1\)/);
  expect(text).toContain('last Failed null: null does not meet ">= 0.99"');
  expect(text).toContain('done    return checkout traffic to blue');
  const id = result.releaseId;
  expect((await cli({ [id]: { result } }, 'status', id, '--wait')).code).toBe(10);
});

test('a compare run that failed (recorded): score, and the metric with its medians, effect, shift and p-value', () => {
  const { result } = loadRecorded('compare-judged.json');
  const text = renderStatus(result.status);
  expect(text).toMatch(/✗ checkout\/canary\/1\/latency +Failed +compare, score 0, canary 9, baseline 9 samples — score 0 < marginal score 75 \(failed: latency\)$/m);
  expect(text).toMatch(/^ +latency +High → Fail +canary 0\.4 vs baseline 0\.06 \(\+567%\) +shift \+0\.34 \[0\.34, 0\.34\] +p<0\.0001$/m);
  expect(summarizeAnalyses(result.status.analyses)).toBe('success-rate@staging ok · latency@canary:2 Failed score 0');
});

test('start --wait of a release that rolled back exits 10 and prints why (a retried start finds it ended)', async () => {
  const { result } = loadRecorded('nan-as-null-failed.json');
  const dir = tempDir('render');
  const spec = join(dir, 'checkout.json');
  writeFileSync(
    spec,
    JSON.stringify({
      service: 'checkout',
      version: result.status.version,
      image: `registry.local/checkout:${result.status.version}`,
      production: { namespace: 'prod', blueGreen: { activeService: 'checkout', deploymentPrefix: 'checkout' } },
    }),
  );
  const r = await cli({ [result.releaseId]: { result } }, 'start', '-f', spec, '--wait');
  expect(r.code).toBe(10);
  expect(r.stderr).toContain(`${result.releaseId} already ended (rolled-back)`);
  expect(r.stdout).toContain('2 failed measurements (limit 1)');
});

// ---- statuses no recording holds ------------------------------------------------------------

const base = {
  releaseId: 'checkout@2.0.0',
  name: 'checkout',
  version: '2.0.0',
  initiator: 'dave',
  startedAt: '2026-11-25T10:00:00.000Z',
  stage: 'done',
  services: [
    {
      service: 'checkout',
      version: '2.0.0',
      image: 'registry.local/checkout:2.0.0',
      stages: { build: 'skipped', staging: 'done', canary: 'failed', approval: 'pending', switch: 'pending', monitor: 'pending' },
      activeColor: 'blue',
      newColor: 'green',
      canaryWeight: 0,
      approvals: [],
    },
  ],
  analyses: [],
  compensations: [],
  timeline: [],
} satisfies Loose<ReleaseStatus>;

const nonFinite: Loose<ReleaseStatus> = {
  ...base,
  outcome: 'rolled-back',
  cause: 'analysis',
  reason: 'analysis latency-p99 failed at canary step 2 of checkout: 2 failed measurements (limit 1)',
  analyses: [
    {
      id: 'checkout/canary/1/latency-p99',
      analysis: 'latency-p99',
      kind: 'threshold',
      service: 'checkout',
      stage: 'canary',
      step: 1,
      color: 'green',
      query: 'q',
      phase: 'Failed',
      reason: '2 failed measurements (limit 1)',
      measurements: [
        { at: '2026-11-25T10:01:00.000Z', phase: 'Inconclusive', value: 'NaN', message: 'the query returned NaN (no requests in its window?)' },
        { at: '2026-11-25T10:01:01.000Z', phase: 'Failed', value: '+Inf', message: '+Inf meets failure "> 0.5"' },
        { at: '2026-11-25T10:01:02.000Z', phase: 'Successful', value: '-Inf' },
        { at: '2026-11-25T10:01:03.000Z', phase: 'Error', message: 'Prometheus unreachable' },
        { at: '2026-11-25T10:01:04.000Z', phase: 'Inconclusive', message: 'no data' },
        { at: '2026-11-25T10:01:05.000Z', phase: 'Failed', value: 0.51234, message: '0.51234 meets failure "> 0.5"' },
      ],
    },
  ],
};

/** Written by an older version: no kind, no compare summary, null values, undos without attempts or errors, no timeline. */
const older = {
  releaseId: 'checkout@0.9.0',
  name: 'checkout',
  version: '0.9.0',
  startedAt: '2025-01-01T00:00:00.000Z',
  stage: 'done',
  outcome: 'rolled-back',
  cause: null,
  reason: 'analysis success-rate failed',
  services: [{ service: 'checkout', version: '0.9.0', image: null, stages: { staging: 'done', canary: 'failed' }, canaryWeight: null }],
  analyses: [
    { id: 'checkout/canary/success-rate', analysis: 'success-rate', phase: 'Failed', measurements: [{ at: '2025-01-01T00:00:01.000Z', phase: 'Failed', value: null }, null] },
    { analysis: 'latency', stage: 'monitor', phase: 'Inconclusive', compare: { score: null, metrics: [{ name: 'latency', classification: 'High', verdict: 'Fail', pValue: null, shift: { estimate: null, lower: null, upper: null }, medians: null }] } },
  ],
  compensations: [{ label: 'return checkout traffic to blue', status: 'done' }, null],
};

const compareNoData: Loose<ReleaseStatus> = {
  ...base,
  stage: 'canary',
  service: 'checkout',
  pausedFor: 'analysis latency inconclusive at canary step 2 of checkout: no data for any metric — promote to continue, abort to roll back',
  analyses: [
    {
      id: 'checkout/canary/1/latency',
      analysis: 'latency',
      kind: 'compare',
      service: 'checkout',
      stage: 'canary',
      step: 1,
      color: 'green',
      query: 'q',
      phase: 'Inconclusive',
      reason: 'no data for any metric (no data: p95, errors) — p95: too few usable values: canary 2, baseline 8 (need at least 3 each; dropped 6 non-finite values); errors: metrics backend failing after 5 attempts: Prometheus unreachable',
      measurements: [
        { at: '2026-11-25T10:01:00.000Z', phase: 'Successful', metric: 'p95', value: 'NaN' },
        { at: '2026-11-25T10:01:00.000Z', phase: 'Successful', metric: 'p95', baseline: 0.06 },
        { at: '2026-11-25T10:01:00.000Z', phase: 'Inconclusive', metric: 'p95', message: 'canary: no data' },
        { at: '2026-11-25T10:01:00.000Z', phase: 'Error', metric: 'errors', message: 'canary: Prometheus unreachable' },
      ],
      compare: {
        windows: { canary: { color: 'green', start: 'a', end: 'b' }, baseline: { color: 'blue', start: 'a', end: 'b' } },
        metrics: [
          { name: 'p95', weight: 1, critical: false, classification: 'NoData', verdict: 'NoData', reason: 'too few usable values: canary 2, baseline 8 (need at least 3 each; dropped 6 non-finite values)' },
          { name: 'errors', weight: 2, critical: true, classification: 'NoData', verdict: 'NoData', reason: 'metrics backend failing after 5 attempts: Prometheus unreachable' },
        ],
      },
    },
  ],
};

const undos: Loose<ReleaseStatus> = {
  ...base,
  outcome: 'failed',
  cause: 'error',
  reason: 'rollback incomplete: restore checkout-blue/-green to their snapshot failed after 6 attempts',
  compensations: [
    { label: 'return checkout traffic to blue', service: 'checkout', status: 'skipped', attempts: 0, errors: [], note: 'the HTTPRoute was changed outside this release (weights 50/50); left alone' },
    { label: 'restore checkout-blue/-green to their snapshot', service: 'checkout', status: 'failed', attempts: 6, errors: ['409 conflict', 'deployments.apps "checkout-green" is forbidden'] },
    { label: 'restore staging staging/checkout', service: 'checkout', status: 'done', attempts: 2, errors: ['timeout'] },
  ],
};

const locked: Loose<ReleaseStatus> = {
  ...base,
  outcome: 'failed',
  cause: 'locked',
  stage: 'lock',
  reason: 'checkout is being released by checkout@1.9.0',
  services: [{ ...base.services[0], stages: { build: 'skipped', staging: 'pending', canary: 'pending', approval: 'pending', switch: 'pending', monitor: 'pending' }, activeColor: undefined, newColor: undefined }],
};

const buildFailed: Loose<ReleaseStatus> = {
  ...base,
  outcome: 'failed',
  cause: 'error',
  stage: 'build',
  reason: 'build gate: required check "test" concluded failure on 3f2c9e1',
  services: [{ ...base.services[0], stages: { build: 'failed', staging: 'pending', canary: 'pending', approval: 'pending', switch: 'pending', monitor: 'pending' } }],
  timeline: [{ at: '2026-11-25T10:00:03.000Z', stage: 'build', event: 'required check "test" failed' }],
};

describe('statuses no recording holds', () => {
  test('non-finite values, Errors and no-data are shown as such', () => {
    const text = renderStatus(nonFinite);
    expect(text).toMatch(/✗ checkout\/canary\/1\/latency-p99 +Failed +6 measurements \[\+Inf -Inf Error no-data 0\.5123\] — 2 failed measurements \(limit 1\)/);
    expect(text).toContain('last Failed 0.5123: 0.51234 meets failure "> 0.5" (at 2026-11-25T10:01:05.000Z)');
    expect(text).toContain('outcome rolled-back, cause analysis (--wait exits 10)');
  });

  test('a status written by an older version (null values, absent fields) renders without guessing', () => {
    const text = renderStatus(older);
    expect(text.split('\n')[0]).toBe('checkout@0.9.0  rolled-back: analysis success-rate failed');
    expect(text).toContain('started 2025-01-01T00:00:00.000Z by —');
    expect(text).toContain('outcome rolled-back (--wait exits 1)');
    expect(text).toContain('checkout 0.9.0 —');
    expect(text).toMatch(/✗ checkout\/canary\/success-rate +Failed +1 measurement \[null\]$/m);
    expect(text).toContain('last Failed null');
    expect(text).toMatch(/\? monitor\/latency +Inconclusive +compare, no score, canary 0, baseline 0 samples$/m);
    expect(text).toMatch(/latency +High → Fail +shift — \[—, —\] +p=—/);
    expect(text).toMatch(/done {4}return checkout traffic to blue$/m);
    expect(exitCodeOf({ outcome: 'rolled-back', cause: null, status: older })).toBe(1);
  });

  test('a compare run with NoData metrics and no score, paused: the metrics and why they had no data', () => {
    const text = renderStatus(compareNoData);
    expect(text.split('\n')[0]).toBe('checkout@2.0.0  stage canary (checkout)');
    expect(text).toContain('PAUSED: analysis latency inconclusive at canary step 2 of checkout: no data for any metric');
    expect(text).toContain('compare, no score, canary 1, baseline 1 samples, 1 empty, 1 errors — no data for any metric (no data: p95, errors)');
    expect(text).toMatch(/p95 +NoData +too few usable values: canary 2, baseline 8/);
    expect(text).toMatch(/errors +NoData +metrics backend failing after 5 attempts: Prometheus unreachable +weight 2 +critical/);
    expect(text).toContain('last Error: canary: Prometheus unreachable');
    expect(text).not.toContain('--wait exits');
  });

  test('skipped and failed undos show their notes, attempts and last errors', () => {
    const text = renderStatus(undos);
    expect(text).toContain('skipped return checkout traffic to blue — the HTTPRoute was changed outside this release (weights 50/50); left alone');
    expect(text).toContain('FAILED  restore checkout-blue/-green to their snapshot (6 attempts) — deployments.apps "checkout-green" is forbidden');
    expect(text).toContain('done    restore staging staging/checkout (2 attempts) — after timeout');
    expect(text).toContain('outcome failed, cause error (--wait exits 1)');
  });

  test('a release refused its lock, or failed at the build gate: no stage ran, and why', () => {
    const lockText = renderStatus(locked);
    expect(lockText.split('\n')[0]).toBe('checkout@2.0.0  failed: checkout is being released by checkout@1.9.0');
    expect(lockText).toContain('outcome failed, cause locked (--wait exits 3)');
    expect(lockText).toContain('no stage ran: the release ended before its first stage');
    expect(lockText).not.toContain('analyses:');

    const buildText = renderStatus(buildFailed);
    expect(buildText).toContain('failed: build gate: required check "test" concluded failure on 3f2c9e1');
    expect(buildText).toContain('✗ build  · staging  · canary');
    expect(buildText).not.toContain('no stage ran');
    expect(buildText).toContain('10:00:03  required check "test" failed');
  });

  test.each([
    ['null', null],
    ['an empty object', {}],
    ['wrong types everywhere', { releaseId: 7, services: 'x', analyses: [null, 5, 'a', { measurements: 'none', compare: 3 }], compensations: {}, timeline: [null, { at: 5 }] }],
    ['a corrupt measurement list', { ...base, analyses: [{ id: 'x', phase: 'Failed', kind: 'compare', measurements: [1, 'two', null, { value: {} }], compare: { metrics: [null, { name: 3 }] } }] }],
  ])('%s renders without throwing', (_name, status) => {
    const text = renderStatus(status as Loose<ReleaseStatus>);
    expect(text.split('\n')[0]).toMatch(/ {2}stage /);
    expect(summarizeAnalyses((status as { analyses?: Loose<AnalysisRun[]> } | null)?.analyses)).toEqual(expect.any(String));
  });

  test('--json never goes through the renderer; --wait exits by the result even when the text is garbage', async () => {
    const garbage = { ...nonFinite, services: [{ service: 'checkout', stages: 'x' }], analyses: [null] } as unknown as ReleaseStatus;
    const result = { releaseId: 'checkout@2.0.0', outcome: 'rolled-back', cause: 'analysis', status: garbage } as unknown as ReleaseResult;
    const releases = { 'checkout@2.0.0': { result } };
    const json = await cli(releases, 'status', 'checkout@2.0.0', '--json');
    expect(JSON.parse(json.stdout)).toEqual(garbage);
    const waited = await cli(releases, 'status', 'checkout@2.0.0', '--wait');
    expect(waited.code).toBe(10);
    expect(waited.stdout).toContain('checkout@2.0.0  rolled-back: analysis latency-p99 failed');
  });

  test('--watch prints each new frame of a live release and exits with its code', async () => {
    const running = { ...compareNoData, analyses: [] } as unknown as ReleaseStatus;
    const paused = compareNoData as unknown as ReleaseStatus;
    const ended = { ...nonFinite } as unknown as ReleaseStatus;
    const result = { releaseId: 'checkout@2.0.0', outcome: 'rolled-back', cause: 'analysis', reason: ended.reason, status: ended } as ReleaseResult;
    const r = await cli({ 'checkout@2.0.0': { live: [running, running, paused, ended], result } }, 'status', 'checkout@2.0.0', '--watch');
    expect(r.code).toBe(10);
    const frames = r.stdout.split('\n\n');
    expect(frames.filter((f) => f.startsWith('checkout@2.0.0  stage canary (checkout)'))).toHaveLength(2);
    expect(r.stdout).toContain('compare, no score');
    expect(r.stdout).toContain('checkout@2.0.0  rolled-back: analysis latency-p99 failed');
  });
});

describe('summarizeAnalyses (the demo summary line)', () => {
  test.each<[string, Loose<AnalysisRun[]>, number, string]>([
    ['none', [], 80, 'none'],
    ['absent', undefined, 80, 'none'],
    ['threshold failure with its last value', nonFinite?.analyses, 80, 'latency-p99@canary:2 Failed 0.5123'],
    ['compare without score', compareNoData?.analyses, 80, 'latency@canary:2 Inconclusive'],
    ['older status', older.analyses as Loose<AnalysisRun[]>, 80, 'success-rate@— Failed null · latency@monitor Inconclusive'],
    ['cut to the width', older.analyses as Loose<AnalysisRun[]>, 20, 'success-rate@— Fail…'],
  ])('%s', (_name, analyses, max, expected) => {
    expect(summarizeAnalyses(analyses, max)).toBe(expected);
  });

  test.each(historyFiles())('%s: one entry per run, failures with their values', (file) => {
    const { result } = loadRecorded(file);
    const line = summarizeAnalyses(result.status.analyses, 1000);
    expect(line.split(' · ')).toHaveLength(Math.max(1, result.status.analyses.length));
    for (const a of result.status.analyses) expect(line).toContain(`${a.analysis}@${a.stage}`);
    const failed = result.status.analyses.find((a) => a.phase === 'Failed' && a.kind === 'threshold');
    const last = failed?.measurements.at(-1);
    if (last && 'value' in last) expect(line).toContain(`Failed ${last.value === null ? 'null' : formatValue(last.value)}`);
  });
});

test('renderList: running releases show their stage, ended ones their outcome, and odd rows do not throw', () => {
  expect(renderList([])).toBe('no releases');
  const text = renderList([
    { releaseId: 'cart@1.1.0', service: 'cart', version: '1.1.0', stage: 'approval', running: true, startedAt: '2026-11-25T10:00:00.000Z' },
    { releaseId: 'cart@1.0.0', service: 'cart', version: '1.0.0', stage: 'done', outcome: 'rolled-back', running: false, startedAt: '2026-11-24T10:00:00.000Z' },
    { releaseId: 'cart@0.9.0', service: 'cart', version: '0.9.0', stage: '', running: false, startedAt: '2026-11-23T10:00:00.000Z' },
  ]);
  expect(text.split('\n')).toEqual([
    'cart@1.1.0                   approval     2026-11-25T10:00:00.000Z',
    'cart@1.0.0                   rolled-back  2026-11-24T10:00:00.000Z',
    'cart@0.9.0                   closed       2026-11-23T10:00:00.000Z',
  ]);
  expect(renderList([null, { releaseId: null }] as unknown as Loose<never[]>)).toContain('—');
});

describe('a release across clusters: its waves after the services, a cluster’s release naming its parent', () => {
  const block = (text: string): string[] => {
    const lines = text.split('\n');
    const start = lines.indexOf('  waves:');
    if (start < 0) return [];
    const end = lines.findIndex((l, i) => i > start && !l.startsWith('    '));
    return lines.slice(start, end < 0 ? undefined : end);
  };

  test('in progress: the baked wave, the releasing one with each cluster where it is', () => {
    expect(block(renderStatus(waves.inProgress))).toEqual([
      '  waves:',
      '    1 canary (bake 30m): baked 30m',
      '      ✓ eu-1  released',
      '    2 rest (2 at once): releasing',
      '      ✓ eu-2  released',
      '      ▶ us-1  canary 2/4 20%',
      '      · us-2  not started',
    ]);
    expect(renderStatus(waves.inProgress).split('\n')[0]).toBe('checkout@2.0.0  stage waves');
  });

  test('baking: until when, and the next wave waiting', () => {
    const text = renderStatus(waves.baking);
    expect(text.split('\n')[0]).toBe('checkout@2.0.0  stage bake');
    expect(block(text)).toEqual([
      '  waves:',
      '    1 canary (bake 30m): baking until 2026-12-05T12:40:00.000Z',
      '      ✓ eu-1  released',
      '    2 rest (2 at once): waiting',
      '      · eu-2  not started',
      '      · us-1  not started',
      '      · us-2  not started',
    ]);
  });

  test('rolling back: what is undone and what is still to undo, newest first', () => {
    expect(block(renderStatus(waves.rollingBack)).slice(-1)).toEqual(['    rollback, newest first: us-1 rolled itself back, then eu-2 undone, eu-1 to undo']);
  });

  test('rolled back: the failed cluster and why, the undone ones newest first, the one never started; --wait exits 10', async () => {
    const text = renderStatus(waves.rolledBack);
    expect(text.split('\n').slice(0, 3)).toEqual([
      'checkout@2.0.0  rolled-back: cluster us-1: analysis error-rate failed at canary step 2 of checkout: 3 failed measurements (limit 2)',
      '  started 2026-12-05T12:00:00.000Z by dave, ended 2026-12-05T13:05:00.000Z',
      '  outcome rolled-back, cause analysis (--wait exits 10)',
    ]);
    expect(block(text)).toEqual([
      '  waves:',
      '    1 canary (bake 30m): rolled back',
      '      ↩ eu-1  undone: us-1 failed',
      '    2 rest (2 at once): rolled back, us-1 failed',
      '      ↩ eu-2  undone: us-1 failed',
      '      ✗ us-1  rolled back: analysis error-rate failed at canary step 2 of checkout: 3 failed measurements (limit 2)',
      '      · us-2  not started',
      '    rollback, newest first: us-1 rolled itself back, then eu-2 undone, eu-1 undone',
    ]);
    // its stages ran in the clusters' releases
    expect(text).not.toContain('no stage ran');
    expect(text).toContain('13:04:00  cluster eu-1 undone: us-1 failed');
    const result = { releaseId: 'checkout@2.0.0', outcome: 'rolled-back', cause: 'analysis', reason: waves.rolledBack.reason, status: waves.rolledBack } as ReleaseResult;
    const waited = await cli({ 'checkout@2.0.0': { result } }, 'status', 'checkout@2.0.0', '--wait');
    expect(waited.code).toBe(10);
    expect(waited.stdout).toContain('    rollback, newest first: us-1 rolled itself back, then eu-2 undone, eu-1 undone');
  });

  test('a cluster’s release: its cluster, context, wave and parent under the header; no waves block', () => {
    const text = renderStatus(waves.child);
    expect(text.split('\n').slice(0, 2)).toEqual([
      'checkout@2.0.0/us-1  rolled-back: analysis error-rate failed at canary step 2 of checkout: 3 failed measurements (limit 2)',
      '  cluster us-1 (context gke-us-1) in wave 2 of checkout@2.0.0',
    ]);
    expect(block(text)).toEqual([]);
    expect(text).toContain('done    return checkout traffic to blue');
  });

  test.each(historyFiles())('%s (no waves): no waves block, no cluster line', (file) => {
    const text = renderStatus(loadRecorded(file).result.status);
    expect(text).not.toMatch(/^ {2}(waves:|cluster )/m);
  });

  test('a status with an empty or corrupt waves field renders as without it', () => {
    const { waves: _none, ...plain } = waves.inProgress;
    expect(renderStatus({ ...plain, waves: [] })).toBe(renderStatus(plain));
    expect(renderStatus({ ...plain, waves: null, cluster: null } as unknown as Loose<ReleaseStatus>)).toBe(renderStatus(plain));
    expect(() => renderStatus({ ...plain, waves: [{ clusters: [{ phase: {} }] }], cluster: { wave: 'x' } } as unknown as Loose<ReleaseStatus>)).not.toThrow();
  });
});

test('list leaves out the clusters’ releases (`<parent>/<cluster>`): their parent lists them in its status, and is the one to act on', async () => {
  const ended = (status: ReleaseStatus): FakeRelease => ({ result: { releaseId: status.releaseId, outcome: 'rolled-back', cause: 'analysis', status } });
  const releases = {
    'checkout@2.0.0': ended(waves.rolledBack),
    [clusterReleaseId('checkout@2.0.0', 'us-1')]: ended(waves.child),
    [clusterReleaseId('checkout@2.0.0', 'eu-2')]: ended({ ...waves.child, releaseId: 'checkout@2.0.0/eu-2' }),
  };
  const list = await cli(releases, 'list');
  expect(list.code).toBe(0);
  expect(list.stdout.trimEnd().split('\n')).toEqual(['checkout@2.0.0               rolled-back  2026-12-05T12:00:00.000Z']);
  const json = JSON.parse((await cli(releases, 'list', '--json')).stdout) as { releaseId: string }[];
  expect(json.map((r) => r.releaseId)).toEqual(['checkout@2.0.0']);
  // still there for whoever asks by id
  expect((await cli(releases, 'status', 'checkout@2.0.0/us-1')).stdout).toContain('  cluster us-1 (context gke-us-1) in wave 2 of checkout@2.0.0');
  expect([isClusterReleaseId('checkout@2.0.0/us-1'), isClusterReleaseId('checkout@2.0.0'), isClusterReleaseId('checkout@2.0.0-rc.1+build.5')]).toEqual([true, false, false]);
});
