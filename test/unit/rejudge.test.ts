// Re-judging recorded analysis runs (src/core/rejudge.ts), table-driven: every run of every recorded
// history (test/fixtures/histories/, read from the directory) re-judged under its own recorded spec
// gives its recorded verdict; constructed threshold and compare runs under stricter and looser
// configs; what cannot be decided from the recorded samples is Undecided, with the reason.
import type { Measurement } from '../../src/core/analysis.js';
import { normaliseAnalysis } from '../../src/core/release-input.js';
import {
  configChanges,
  judgeConfigFor,
  rejudgeRun,
  releaseRejudged,
  wasCutShort,
  BEFORE_COMPARE_JUDGE,
  type JudgeConfig,
  type Rejudged,
} from '../../src/core/rejudge.js';
import type { AnalysisRun } from '../../src/core/status.js';
import type { MetricValue } from '../../src/core/values.js';
import { formatProblem, validateSpec, type AnalysisSpec, type ReleaseSpec } from '../../src/spec/index.js';
import { historyFiles, loadRecorded } from '../cli/support/recorded.js';

/** A release spec of checkout with these analyses (validated by the real schema), and a monitor window when given. */
function specWith(analyses: Record<string, Record<string, unknown>>, monitor?: string): ReleaseSpec {
  const r = validateSpec({
    service: 'checkout',
    version: '1.0.0',
    image: 'registry.local/checkout:1.0.0',
    production: {
      namespace: 'prod',
      blueGreen: { activeService: 'checkout', deploymentPrefix: 'checkout' },
      ...(monitor ? { monitor: { duration: monitor, analyses: Object.keys(analyses) } } : {}),
    },
    analyses,
  });
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('; '));
  return r.spec;
}

const SUCCESS_RATE = { query: 'ok{service="{{service}}",color="{{color}}"}', successCondition: '>= 0.99', count: 4, failureLimit: 1 };

/** The config of analysis `name` in a spec with just that analysis. */
function config(name: string, analysis: Record<string, unknown>, monitor?: string): JudgeConfig {
  return judgeConfigFor(specWith({ [name]: analysis }, monitor), { analysis: name, service: 'checkout' });
}

const at = (i: number): string => new Date(Date.UTC(2026, 10, 25, 10, 0, i)).toISOString();

type Step = MetricValue | null | 'error' | 'empty';

/** A recorded threshold run: each step a value (with the recorded phase), an Error, or no data. */
function thresholdRun(steps: [Step, Measurement['phase']?][], phase: AnalysisRun['phase'], extra: Partial<AnalysisRun> = {}): AnalysisRun {
  return {
    id: `checkout/${extra.stage ?? 'canary'}/1/success-rate`,
    analysis: 'success-rate',
    kind: 'threshold',
    service: 'checkout',
    stage: 'canary',
    step: 1,
    color: 'green',
    query: 'ok{service="checkout",color="green"}',
    phase,
    measurements: steps.map(([step, recorded], i): Measurement => {
      if (step === 'error') return { at: at(i), phase: 'Error', message: 'Prometheus unreachable' };
      if (step === 'empty') return { at: at(i), phase: 'Inconclusive', message: 'no data' };
      return { at: at(i), phase: recorded ?? 'Successful', value: step as MetricValue };
    }),
    ...extra,
  };
}

const healthy = thresholdRun([[0.999], [0.999], [0.999], [0.999]], 'Successful');
const failed = thresholdRun([[0.8, 'Failed'], [0.8, 'Failed']], 'Failed', { reason: '2 failed measurements (limit 1)' });
const own = config('success-rate', SUCCESS_RATE);

describe('threshold runs', () => {
  test.each<[string, AnalysisRun, JudgeConfig, Partial<Rejudged>]>([
    ['a healthy run under its own config', healthy, own, { phase: 'Successful', reason: '4 of 4 measurements: 4 successful' }],
    [
      'a healthy run under a stricter condition fails at its first measurement',
      healthy,
      config('success-rate', { ...SUCCESS_RATE, successCondition: '>= 0.9995', failureLimit: 0 }),
      { phase: 'Failed', reason: '1 failed measurements (limit 0)', changes: ['successCondition ">= 0.99" → ">= 0.9995"', 'failureLimit 1 → 0'] },
    ],
    ['a healthy run under a bigger count is undecided', healthy, config('success-rate', { ...SUCCESS_RATE, count: 6 }), { phase: 'Undecided', reason: 'needs 6 measurements, 4 recorded' }],
    ['a healthy run under a smaller count passes sooner', healthy, config('success-rate', { ...SUCCESS_RATE, count: 2 }), { phase: 'Successful', reason: '2 of 2 measurements: 2 successful' }],
    ['a failed run under its own config', failed, own, { phase: 'Failed', reason: '2 failed measurements (limit 1)', changes: [] }],
    ['a failed run under a looser condition and count 2 passes', failed, config('success-rate', { ...SUCCESS_RATE, successCondition: '>= 0.5', count: 2 }), { phase: 'Successful' }],
    [
      'a failed run under a looser condition but the same count is undecided (it stopped after 2)',
      failed,
      config('success-rate', { ...SUCCESS_RATE, successCondition: '>= 0.5' }),
      { phase: 'Undecided', reason: 'needs 4 measurements, 2 recorded' },
    ],
    ['a failed run under a higher failureLimit is undecided', failed, config('success-rate', { ...SUCCESS_RATE, failureLimit: 3 }), { phase: 'Undecided', reason: 'needs 4 measurements, 2 recorded' }],
  ])('%s', (_name, run, cfg, expected) => {
    expect(rejudgeRun(run, cfg, { recorded: own })).toMatchObject(expected);
  });

  test('Errors and no-data stay as recorded; the values are classified again', () => {
    const run = thresholdRun([['error'], [0.999], ['empty'], [0.95, 'Failed'], [0.999], [0.999]], 'Successful');
    const anything = config('success-rate', { ...SUCCESS_RATE, successCondition: '>= 0', inconclusiveLimit: 1 });
    expect(rejudgeRun(run, anything, { recorded: own })).toMatchObject({
      phase: 'Successful',
      reason: '4 of 4 measurements: 3 successful, 1 inconclusive, 1 errors',
      threshold: { phases: ['Error', 'Successful', 'Inconclusive', 'Successful', 'Successful', 'Successful'], count: 4, tally: { Successful: 3, Inconclusive: 1, Error: 1, Failed: 0 }, decidedAfter: 5 },
    });
    // no-data stays Inconclusive even under a condition every value meets
    expect(rejudgeRun(run, config('success-rate', { ...SUCCESS_RATE, successCondition: '>= 0' }), { recorded: own })).toMatchObject({
      phase: 'Inconclusive',
      reason: '1 inconclusive measurements (limit 0)',
    });
    expect(rejudgeRun(run, config('success-rate', { ...SUCCESS_RATE, consecutiveErrorLimit: 0 }), { recorded: own })).toMatchObject({
      phase: 'Inconclusive',
      reason: '1 consecutive errors from the metrics backend (limit 0)',
    });
  });

  test.each<[string, Step, Record<string, unknown>, Measurement['phase']]>([
    ['NaN is Inconclusive', 'NaN', { successCondition: '>= 0.99' }, 'Inconclusive'],
    ['+Inf meets "> 0.5"', '+Inf', { successCondition: undefined, failureCondition: '> 0.5' }, 'Failed'],
    ['-Inf does not meet ">= 0.99"', '-Inf', { successCondition: '>= 0.99' }, 'Failed'],
    ['a finite value', 0.995, { successCondition: '>= 0.99' }, 'Successful'],
  ])('non-finite values as recorded: %s', (_name, value, conditions, phase) => {
    const run = thresholdRun([[value]], 'Running');
    const { successCondition: _s, ...rest } = SUCCESS_RATE;
    const analysis = { ...rest, ...Object.fromEntries(Object.entries(conditions).filter(([, v]) => v !== undefined)) };
    expect(rejudgeRun(run, config('success-rate', analysis)).threshold?.phases).toEqual([phase]);
  });

  test('values recorded as null: NaN today (Inconclusive, said so); judged like 0 with legacyNull, as when recorded', () => {
    const run = thresholdRun([[null, 'Failed'], [null, 'Failed']], 'Failed', { reason: '2 failed measurements (limit 1)' });
    const today = rejudgeRun(run, own);
    expect(today).toMatchObject({ phase: 'Inconclusive', reason: '1 inconclusive measurements (limit 0)', legacyNulls: 2 });
    expect(today.notes).toContain('2 values recorded as null: a NaN from a worker before values were spelled out, judged like 0 when recorded and as NaN (Inconclusive) now');
    expect(rejudgeRun(run, own, { legacyNull: true })).toMatchObject({ phase: 'Failed', reason: '2 failed measurements (limit 1)', legacyNulls: 2 });
  });

  describe('monitor windows: count = window / interval', () => {
    const monitorSpec = { ...SUCCESS_RATE, interval: '30s' };
    const recorded = config('success-rate', monitorSpec, '30m'); // 60 measurements
    const short = thresholdRun(Array.from({ length: 50 }, (): [Step] => [0.999]), 'Inconclusive', { stage: 'monitor', reason: 'the window ended with 50 of 60 measurements' });
    const full = thresholdRun(Array.from({ length: 60 }, (): [Step] => [0.999]), 'Successful', { stage: 'monitor' });
    test.each<[string, AnalysisRun, JudgeConfig, Partial<Rejudged>]>([
      ['a window that ended short, own config', short, recorded, { phase: 'Inconclusive', reason: 'the window ended with 50 of 60 measurements' }],
      ['a full window, own config', full, recorded, { phase: 'Successful', reason: '60 of 60 measurements: 60 successful' }],
      ['a longer window cannot be judged', full, config('success-rate', monitorSpec, '1h'), { phase: 'Undecided', reason: 'needs 120 measurements, 60 recorded' }],
      ['a shorter window passes after its 20', short, config('success-rate', monitorSpec, '10m'), { phase: 'Successful', reason: '20 of 20 measurements: 20 successful', threshold: expect.objectContaining({ decidedAfter: 20 }) as never }],
    ])('%s', (_name, run, cfg, expected) => {
      expect(rejudgeRun(run, cfg, { recorded })).toMatchObject(expected);
    });
  });

  test('a run cut short is said to be; undecided unless what was recorded decides it', () => {
    const cut = thresholdRun([[0.999]], 'Inconclusive', { reason: 'cut short: another analysis of this step decided the rollback' });
    expect(wasCutShort(cut)).toBe(true);
    expect(rejudgeRun(cut, own)).toMatchObject({ phase: 'Undecided', reason: 'needs 4 measurements, 1 recorded', cutShort: true });
    expect(rejudgeRun(cut, config('success-rate', { ...SUCCESS_RATE, successCondition: '>= 0.9995', failureLimit: 0 }), { recorded: own })).toMatchObject({
      phase: 'Failed',
      cutShort: true,
    });
    expect(rejudgeRun({ ...cut, phase: 'Running', reason: undefined }, own)).toMatchObject({ phase: 'Undecided', cutShort: true });
  });

  test('what the config lacks, or defines otherwise, is said', () => {
    const elsewhere = judgeConfigFor(specWith({ latency: SUCCESS_RATE }), healthy);
    expect(rejudgeRun(healthy, elsewhere, { recorded: own })).toEqual({
      phase: 'NotComparable',
      reason: 'this config has no analysis success-rate',
      notes: [],
      changes: [],
    });
    expect(rejudgeRun(healthy, config('success-rate', { kind: 'compare', query: 'q' }), { recorded: own })).toMatchObject({
      phase: 'NotComparable',
      reason: "kinds differ: the recorded run is a threshold analysis, this config's success-rate is compare",
    });
    const other = rejudgeRun(healthy, config('success-rate', { ...SUCCESS_RATE, query: 'other_metric', interval: '1m' }), { recorded: own });
    expect(other.notes).toEqual([
      'the query differs from the recorded one: these are the samples of the recorded query',
      'interval 30s → 1m: the samples were taken every 30s',
    ]);
    // whitespace a YAML folded scalar adds is not a different query
    const folded = rejudgeRun(healthy, config('success-rate', { ...SUCCESS_RATE, query: `  ok{service="{{service}}",color="{{color}}"}\n` }), { recorded: own });
    expect(folded.notes).toEqual([]);
  });
});

// ---- compare runs ----------------------------------------------------------------------------

const CANARY = [0.4, 0.41, 0.39, 0.42, 0.38, 0.4, 0.43, 0.37];
const BASELINE = [0.06, 0.061, 0.059, 0.062, 0.058, 0.063, 0.057, 0.064];
const SAME = [0.06, 0.062, 0.058, 0.061, 0.059, 0.063, 0.057, 0.0605];

interface Side {
  canary?: (MetricValue | null)[];
  baseline?: (MetricValue | null)[];
  canaryErrors?: number;
  baselineErrors?: number;
}

/** A recorded compare run; `metrics` by recorded metric name, tagged when there are several. */
function compareRun(metrics: Record<string, Side>, phase: AnalysisRun['phase'] = 'Failed', extra: Partial<AnalysisRun> = {}): AnalysisRun {
  const names = Object.keys(metrics);
  const measurements: Measurement[] = [];
  for (const [name, side] of Object.entries(metrics)) {
    const tag = names.length > 1 ? { metric: name } : {};
    for (let i = 0; i < (side.canaryErrors ?? 0); i++) measurements.push({ at: at(i), phase: 'Error', ...tag, message: `canary: Prometheus unreachable (${i + 1})` });
    for (let i = 0; i < (side.baselineErrors ?? 0); i++) measurements.push({ at: at(i), phase: 'Error', ...tag, message: `baseline: Prometheus unreachable (${i + 1})` });
    (side.canary ?? []).forEach((v, i) => measurements.push({ at: at(i), phase: 'Successful', ...tag, value: v as MetricValue }));
    (side.baseline ?? []).forEach((v, i) => measurements.push({ at: at(i), phase: 'Successful', ...tag, baseline: v as MetricValue }));
  }
  return {
    id: 'checkout/canary/1/latency',
    analysis: 'latency',
    kind: 'compare',
    service: 'checkout',
    stage: 'canary',
    step: 1,
    color: 'green',
    query: 'latency{service="checkout",color="green"}',
    phase,
    measurements,
    compare: { windows: { canary: { color: 'green', start: at(0), end: at(9) }, baseline: { color: 'blue', start: at(0), end: at(9) } }, metrics: [] },
    ...extra,
  };
}

const LATENCY = { kind: 'compare', query: 'latency{service="{{service}}",color="{{color}}"}', interval: '15s', count: 8 };
const TWO = {
  kind: 'compare',
  interval: '15s',
  count: 8,
  metrics: [
    { name: 'p95', query: 'p95{color="{{color}}"}', weight: 3 },
    { name: 'errors', query: 'errors{color="{{color}}"}', weight: 1 },
  ],
};
const ownLatency = config('latency', LATENCY);
const ownTwo = config('latency', TWO);

describe('compare runs', () => {
  const slower = compareRun({ value: { canary: CANARY, baseline: BASELINE } });

  test.each<[string, AnalysisRun, JudgeConfig, JudgeConfig, Partial<Rejudged>, string]>([
    [
      'a slower canary under its own config is High',
      slower,
      ownLatency,
      ownLatency,
      { phase: 'Failed', compare: { score: 0, metrics: [expect.objectContaining({ name: 'latency', classification: 'High', verdict: 'Fail' }) as never] } },
      'canary median 0.4 vs baseline 0.0605 (+561%',
    ],
    ['the same samples when a decrease is what is bad', slower, config('latency', { ...LATENCY, direction: 'decrease' }), ownLatency, { phase: 'Successful', reason: 'score 100 ≥ pass score 95', changes: ['direction increase → decrease'] }, '"verdict":"Pass"'],
    ['the same samples under a minimum effect of 1000%', slower, config('latency', { ...LATENCY, minEffect: 10 }), ownLatency, { phase: 'Successful' }, 'within the 1000% minimum effect'],
    ['an identical canary passes', compareRun({ value: { canary: SAME, baseline: BASELINE } }, 'Successful'), ownLatency, ownLatency, { phase: 'Successful', reason: 'score 100 ≥ pass score 95' }, '"classification":"Pass"'],
    [
      'non-finite samples are dropped',
      compareRun({ value: { canary: [...CANARY.slice(0, 6), 'NaN', null], baseline: BASELINE } }),
      ownLatency,
      ownLatency,
      { phase: 'Failed' },
      'dropped 2 non-finite values',
    ],
    ['too few samples are NoData: Inconclusive', compareRun({ value: { canary: [0.4, 'NaN'], baseline: BASELINE } }), ownLatency, ownLatency, { phase: 'Inconclusive' }, 'too few usable values: canary 1, baseline 8'],
  ])('%s', (_name, run, cfg, recorded, expected, inReason) => {
    const r = rejudgeRun(run, cfg, { recorded });
    expect(r).toMatchObject(expected);
    expect(JSON.stringify(r.compare)).toContain(inReason);
  });

  describe('several metrics, weighted', () => {
    const run = compareRun({ p95: { canary: CANARY, baseline: BASELINE }, errors: { canary: SAME, baseline: BASELINE } });
    const withMetrics = (metrics: Record<string, unknown>[], over: Record<string, unknown> = {}): JudgeConfig => config('latency', { ...TWO, ...over, metrics });
    test.each<[string, JudgeConfig, Partial<Rejudged>]>([
      ['own config: p95 fails, weight 3 of 4', ownTwo, { phase: 'Failed', reason: expect.stringMatching(/^score 25 < marginal score 75 \(failed: p95\) — p95: canary median/) as never, compare: expect.objectContaining({ score: 25 }) as never }],
      ['p95 weighted 1 of 4: marginal', withMetrics([{ name: 'p95', query: 'p95{color="{{color}}"}', weight: 1 }, { name: 'errors', query: 'errors{color="{{color}}"}', weight: 3 }]), { phase: 'Inconclusive', compare: expect.objectContaining({ score: 75 }) as never }],
      ['p95 critical', withMetrics([{ name: 'p95', query: 'p95{color="{{color}}"}', weight: 1, critical: true }, { name: 'errors', query: 'errors{color="{{color}}"}', weight: 9 }]), { phase: 'Failed', compare: expect.objectContaining({ score: 0 }) as never }],
      ['without p95', withMetrics([{ name: 'errors', query: 'errors{color="{{color}}"}' }]), { phase: 'Successful', notes: ['recorded metric p95 is not in this config (left out of the score)'] }],
      ['with a metric that was never recorded', withMetrics([...TWO.metrics, { name: 'p99', query: 'p99{color="{{color}}"}' }]), { phase: 'Undecided', reason: 'metric p99 was not recorded (recorded: p95, errors)' }],
      ['a metric renamed but with the recorded query', withMetrics([{ name: 'latency-p95', query: 'p95{color="{{color}}"}', weight: 3 }, TWO.metrics[1] ?? {}]), { phase: 'Failed', compare: expect.objectContaining({ score: 25 }) as never }],
    ])('%s', (_name, cfg, expected) => {
      expect(rejudgeRun(run, cfg, { recorded: ownTwo })).toMatchObject(expected);
    });
  });

  describe('a metrics backend that failed', () => {
    const down = compareRun({ p95: { canary: SAME, baseline: BASELINE }, errors: { canaryErrors: 5, baseline: BASELINE } }, 'Inconclusive');
    const recovered = compareRun({ value: { canaryErrors: 2, canary: CANARY, baseline: BASELINE } });
    test.each<[string, AnalysisRun, JudgeConfig, JudgeConfig, Partial<Rejudged>]>([
      [
        'down for one metric: a pass of the rest is Inconclusive',
        down,
        ownTwo,
        ownTwo,
        { phase: 'Inconclusive', reason: 'the metrics backend failed for errors; score 100 ≥ pass score 95 (no data: errors)' },
      ],
      ['a config that gives up sooner says so after its attempts', down, config('latency', { ...TWO, consecutiveErrorLimit: 2 }), ownTwo, { phase: 'Inconclusive', compare: expect.objectContaining({ metrics: expect.arrayContaining([expect.objectContaining({ name: 'errors', reason: 'metrics backend failing after 3 attempts: Prometheus unreachable (3)' })]) }) as never }],
      ['a config that retries longer cannot be judged', down, config('latency', { ...TWO, consecutiveErrorLimit: 6 }), ownTwo, { phase: 'Undecided', reason: expect.stringContaining('errors: canary: the metrics backend failed 5 times and the recording gave up; under consecutiveErrorLimit 6') as never }],
      ['recovered after 2 errors: judged on its samples', recovered, ownLatency, ownLatency, { phase: 'Failed' }],
      ['recovered after 2 errors, under consecutiveErrorLimit 1: down', recovered, config('latency', { ...LATENCY, consecutiveErrorLimit: 1 }), ownLatency, { phase: 'Inconclusive', reason: 'no data for any metric (no data: latency) — latency: metrics backend failing after 2 attempts: Prometheus unreachable (2)' }],
    ])('%s', (_name, run, cfg, recorded, expected) => {
      expect(rejudgeRun(run, cfg, { recorded })).toMatchObject(expected);
    });
  });

  test('a run recorded before the compare judge, or cut short', () => {
    const legacy = compareRun({}, 'Inconclusive', { reason: 'the compare judge is not implemented yet' });
    delete legacy.compare;
    // it took no samples: today's judge cannot decide it (its verdict then was a fixed Inconclusive)
    expect(rejudgeRun(legacy, ownLatency)).toMatchObject({ phase: 'Undecided', reason: 'recorded before the compare judge existed: it took no samples', notes: [] });
    const empty = compareRun({}, 'Inconclusive', { reason: 'no data' });
    delete empty.compare;
    expect(rejudgeRun(empty, ownLatency)).toMatchObject({ phase: 'Inconclusive', reason: expect.stringMatching(/^no data for any metric/) as never, notes: ['no samples were recorded for this run'] });
    const cut = compareRun({ value: { canary: CANARY.slice(0, 3) } }, 'Inconclusive', { reason: 'cut short: another analysis of this step decided the rollback' });
    expect(rejudgeRun(cut, ownLatency)).toMatchObject({ phase: 'Undecided', cutShort: true, reason: 'cut short before its samples were complete' });
  });
});

// ---- recorded histories ------------------------------------------------------------------------

describe('every recorded run, re-judged under its own recorded spec, gives its recorded verdict', () => {
  const files = historyFiles();
  const seen = { threshold: 0, compare: 0, failed: 0, cutShort: 0 };

  test.each(files)('%s', (file) => {
    const { input, result } = loadRecorded(file);
    let legacy = false;
    let beforeJudge = false;
    for (const run of result.status.analyses) {
      const cfg = judgeConfigFor(input.spec, run);
      const r = rejudgeRun(run, cfg);
      if (wasCutShort(run)) {
        seen.cutShort++;
        expect(r.cutShort).toBe(true);
        expect(r.notes.some((n) => n.startsWith('the recorded run was cut short'))).toBe(true);
        continue;
      }
      if (run.reason === BEFORE_COMPARE_JUDGE) {
        // a compare run from before the judge existed took no samples: there is nothing to re-judge
        expect({ id: run.id, phase: r.phase, reason: r.reason }).toEqual({ id: run.id, phase: 'Undecided', reason: 'recorded before the compare judge existed: it took no samples' });
        beforeJudge = true;
        continue;
      }
      if (r.legacyNulls) {
        // null values were judged like 0 then: the judge of that time reproduces the verdict, today's says why it differs
        legacy = true;
        expect({ id: run.id, ...rejudgeRun(run, cfg, { legacyNull: true }) }).toMatchObject({ id: run.id, phase: run.phase, ...(run.reason ? { reason: run.reason } : {}) });
        expect(r.notes.some((n) => n.includes('recorded as null'))).toBe(true);
        continue;
      }
      seen[run.kind]++;
      if (run.phase === 'Failed') seen.failed++;
      expect({ id: run.id, phase: r.phase }).toEqual({ id: run.id, phase: run.phase });
      if (run.reason) expect({ id: run.id, reason: r.reason }).toEqual({ id: run.id, reason: run.reason });
      expect(r.changes).toEqual([]);
      expect(r.notes).toEqual([]);
    }
    // and the release-level answer matches how the release ended
    const verdict = releaseRejudged(
      result.status.analyses.map((run) => ({
        id: run.id,
        rejudged: rejudgeRun(run, judgeConfigFor(input.spec, run), { legacyNull: true }),
        onInconclusive: input.spec.analyses[run.analysis]?.onInconclusive ?? 'pause',
      })),
    );
    if (beforeJudge) expect(verdict.action).toBe('undecided');
    else if (result.cause === 'analysis') expect(verdict.action).toBe('rollback');
    else expect(['pass', 'pause']).toContain(verdict.action);
    if (result.cause === 'analysis' && !legacy) expect(result.reason).toContain(verdict.at?.split('/').at(-1));
  });

  test('the recorded runs above covered both judges, failures and a cut-short run', () => {
    expect(seen.threshold).toBeGreaterThan(5);
    expect(seen.compare).toBeGreaterThanOrEqual(1);
    expect(seen.failed).toBeGreaterThanOrEqual(2);
    expect(seen.cutShort).toBeGreaterThanOrEqual(1);
  });
});

describe('release-level verdicts, recorded specs', () => {
  const run = (id: string, phase: Rejudged['phase'], onInconclusive: 'pause' | 'rollback' = 'pause') => ({ id, rejudged: { phase, reason: `${phase} reason`, notes: [], changes: [] } as Rejudged, onInconclusive });
  test.each([
    ['all pass', [run('a', 'Successful'), run('b', 'Successful')], 'pass', 'every recorded run passes (2)'],
    ['a failure', [run('a', 'Successful'), run('b', 'Failed')], 'rollback', 'rolls back at b: Failed reason'],
    ['inconclusive, pause, then a pass', [run('a', 'Inconclusive'), run('b', 'Successful')], 'pause', 'pauses for a human at a (inconclusive: Inconclusive reason); every other run passes'],
    ['inconclusive, pause, then a failure', [run('a', 'Inconclusive'), run('b', 'Failed')], 'rollback', 'pauses for a human at a (inconclusive: Inconclusive reason); then rolls back at b: Failed reason'],
    ['inconclusive under rollback', [run('a', 'Inconclusive', 'rollback')], 'rollback', 'rolls back at a (inconclusive, onInconclusive: rollback): Inconclusive reason'],
    ['undecided before a failure', [run('a', 'Undecided'), run('b', 'Failed')], 'undecided', 'cannot tell at a: Undecided reason'],
    ['runs the config lacks are skipped', [run('a', 'NotComparable'), run('b', 'Successful')], 'pass', 'every recorded run passes (1)'],
    ['nothing', [], 'pass', 'no recorded run to judge'],
  ])('%s', (_name, runs, action, summary) => {
    expect(releaseRejudged(runs)).toMatchObject({ action, summary });
  });
});

describe('recorded specs in older shapes', () => {
  test('a compare analysis of the query: era gets its one metric; missing fields get the schema defaults', () => {
    expect(normaliseAnalysis({ kind: 'compare', query: 'q', direction: 'decrease' })).toEqual({
      kind: 'compare',
      direction: 'decrease',
      interval: 15_000,
      count: 8,
      confidence: 0.95,
      minEffect: 0.1,
      passScore: 95,
      marginalScore: 75,
      outliers: 'keep',
      consecutiveErrorLimit: 4,
      onInconclusive: 'pause',
      metrics: [{ name: 'value', query: 'q', weight: 1, critical: false, direction: 'decrease' }],
    });
    expect(normaliseAnalysis({ query: 'q', successCondition: { op: '>=', value: 0.99, text: '>= 0.99' } })).toMatchObject({ kind: 'threshold', count: 4, consecutiveErrorLimit: 4 });
    expect(normaliseAnalysis(null)).toBeUndefined();
    expect(normaliseAnalysis({ kind: 'other' })).toBeUndefined();
  });

  test('configChanges lists what the judge decides with', () => {
    const a = specWith({ x: SUCCESS_RATE }).analyses.x as AnalysisSpec;
    const b = specWith({ x: { ...SUCCESS_RATE, successCondition: '>= 0.5', failureLimit: 3, onInconclusive: 'rollback' } }).analyses.x as AnalysisSpec;
    expect(configChanges(a, b)).toEqual(['successCondition ">= 0.99" → ">= 0.5"', 'failureLimit 1 → 3', 'onInconclusive pause → rollback']);
    expect(configChanges(a, a)).toEqual([]);
  });
});
