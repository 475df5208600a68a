// Re-judging a recorded analysis run (`tidegate analysis replay`), pure: a finished release's
// history holds every sample its analyses took, so "would this config have rolled back yesterday's
// release?" and "does this judge change alter real verdicts?" can be answered from that data without
// measuring anything again. The same judges decide as in the workflow (`classify` + `judgeRun`,
// `classifyMetric`, `compareRunVerdict`): the same run-level rule, so re-judging under the
// recorded config reproduces the recorded verdict; what a re-judge cannot know (measurements that
// were never taken, a query that was not the recorded one) is said, not guessed.
import { classify, judgeRun, type Measurement, type MeasurementPhase, type RunPhase, type RunVerdict } from './analysis.js';
import { classifyMetric, compareRunVerdict, metricRecord, type Direction } from './compare.js';
import type { AnalysisRun, CompareMetricResult } from './status.js';
import { formatValue, toNumber, type MetricValue } from './values.js';
import { formatDuration } from './duration.js';
import { isObject, normaliseAnalysis } from './release-input.js';
import type { AnalysisSpec, CompareAnalysisSpec, ReleaseSpec, ThresholdAnalysisSpec } from './release-spec.js';

/** What a config says about one recorded run. */
export interface JudgeConfig {
  /** The config's analysis of the run's name; undefined when the config has no such analysis. */
  analysis: AnalysisSpec | undefined;
  /** The service's monitor window in this config: a monitor run needs window / interval measurements. */
  monitorWindowMs?: number;
}

export type RejudgedPhase = Exclude<RunPhase, 'Running'> | 'Undecided' | 'NotComparable';

export interface Rejudged {
  /**
   * The verdict under the config; 'Undecided' when the recorded samples cannot decide it (more
   * measurements needed than were taken, a run cut short, a metric that was not recorded);
   * 'NotComparable' when the config has no such analysis or one of another kind.
   */
  phase: RejudgedPhase;
  reason?: string;
  /** What to know about this re-judge: a query or interval other than the recorded one, null values, … */
  notes: string[];
  /** The judge's settings that differ from the recorded config (`failureLimit 1 → 3`). */
  changes: string[];
  /** The recorded run never reached its own verdict (cut short by another analysis, or the release ended). */
  cutShort?: boolean;
  /** Threshold runs: values recorded as null (a NaN written by a worker before values were spelled out). */
  legacyNulls?: number;
  threshold?: {
    /** Each recorded measurement's phase under this config (Errors and no-data as recorded). */
    phases: MeasurementPhase[];
    /** Measurements (not Errors) a Successful run needs under this config. */
    count: number;
    tally: Record<MeasurementPhase, number>;
    /** The verdict came after this many of the recorded measurements (the rest would not have been taken). */
    decidedAfter?: number;
    /** How many measurements were recorded. */
    recorded: number;
  };
  compare?: { score?: number; metrics: CompareMetricResult[] };
}



/** The config of one run in a release spec: the analysis of its name, and its service's monitor window. */
export function judgeConfigFor(spec: Pick<ReleaseSpec, 'analyses' | 'services'>, run: Pick<AnalysisRun, 'analysis' | 'service'>): JudgeConfig {
  const analyses: Record<string, unknown> = isObject(spec.analyses) ? spec.analyses : {};
  const services = Array.isArray(spec.services) ? spec.services : [];
  const service = services.find((s) => s.service === run.service) ?? (services.length === 1 ? services[0] : undefined);
  const windowMs = service?.production?.monitor?.duration;
  return {
    analysis: Object.hasOwn(analyses, run.analysis) ? normaliseAnalysis(analyses[run.analysis]) : undefined,
    ...(typeof windowMs === 'number' ? { monitorWindowMs: windowMs } : {}),
  };
}

/** Queries that differ only in whitespace (YAML's folded scalars) are the same query. */
export function sameQuery(a: string, b: string): boolean {
  return a.replace(/\s+/g, ' ').trim() === b.replace(/\s+/g, ' ').trim();
}

function durationText(ms: number): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? formatDuration(ms) : formatValue(ms);
}

/**
 * The judge's settings that differ between two configs of one analysis, for people.
 *
 *   configChanges({successCondition '>= 0.99', failureLimit 1, …}, {successCondition '>= 0.5', failureLimit 3, …})
 *     → ['successCondition ">= 0.99" → ">= 0.5"', 'failureLimit 1 → 3']
 */
export function configChanges(recorded: AnalysisSpec, config: AnalysisSpec): string[] {
  const changes: string[] = [];
  const cond = (c: ThresholdAnalysisSpec['successCondition']): string => (c ? `"${c.text}"` : 'none');
  const num = (name: string, a: unknown, b: unknown, show: (v: unknown) => string = (v) => formatValue(v)): void => {
    if (a !== b) changes.push(`${name} ${show(a)} → ${show(b)}`);
  };
  if (recorded.kind === 'threshold' && config.kind === 'threshold') {
    if (cond(recorded.successCondition) !== cond(config.successCondition)) changes.push(`successCondition ${cond(recorded.successCondition)} → ${cond(config.successCondition)}`);
    if (cond(recorded.failureCondition) !== cond(config.failureCondition)) changes.push(`failureCondition ${cond(recorded.failureCondition)} → ${cond(config.failureCondition)}`);
    num('count', recorded.count, config.count);
    num('failureLimit', recorded.failureLimit, config.failureLimit);
    num('inconclusiveLimit', recorded.inconclusiveLimit, config.inconclusiveLimit);
    num('consecutiveErrorLimit', recorded.consecutiveErrorLimit, config.consecutiveErrorLimit);
  }
  if (recorded.kind === 'compare' && config.kind === 'compare') {
    num('confidence', recorded.confidence, config.confidence);
    num('minEffect', recorded.minEffect, config.minEffect);
    num('passScore', recorded.passScore, config.passScore);
    num('marginalScore', recorded.marginalScore, config.marginalScore);
    num('outliers', recorded.outliers, config.outliers, String);
    num('consecutiveErrorLimit', recorded.consecutiveErrorLimit, config.consecutiveErrorLimit);
    for (const m of config.metrics) {
      const r = recorded.metrics.find((x) => x.name === m.name);
      if (!r) continue;
      const label = config.metrics.length > 1 ? `${m.name}.` : '';
      num(`${label}direction`, r.direction, m.direction, String);
      num(`${label}weight`, r.weight, m.weight);
      num(`${label}critical`, r.critical, m.critical, String);
    }
  }
  num('onInconclusive', recorded.onInconclusive, config.onInconclusive, String);
  return changes;
}

/** Caveats of judging the recorded samples under `config`: they are of the recorded query, interval and count. */
function sampleNotes(recorded: AnalysisSpec | undefined, config: AnalysisSpec): string[] {
  if (!recorded || recorded.kind !== config.kind) return [];
  const notes: string[] = [];
  if (recorded.kind === 'threshold' && config.kind === 'threshold' && !sameQuery(recorded.query, config.query)) {
    notes.push('the query differs from the recorded one: these are the samples of the recorded query');
  }
  if (recorded.kind === 'compare' && config.kind === 'compare') {
    for (const m of config.metrics) {
      const r = matchMetric(recorded, config, m);
      if (r && !sameQuery(r.query, m.query)) {
        notes.push(`${config.metrics.length > 1 ? `metric ${m.name}: ` : ''}the query differs from the recorded one: these are the samples of the recorded query`);
      }
    }
    for (const r of recorded.metrics) {
      if (!config.metrics.some((m) => matchMetric(recorded, config, m) === r)) notes.push(`recorded metric ${r.name} is not in this config (left out of the score)`);
    }
    if (recorded.count !== config.count) notes.push(`count ${recorded.count} → ${config.count}: the samples are the recorded ones (up to ${recorded.count} a side)`);
  }
  if (recorded.interval !== config.interval) {
    notes.push(`interval ${durationText(recorded.interval)} → ${durationText(config.interval)}: the samples were taken every ${durationText(recorded.interval)}`);
  }
  return notes;
}

/** Whether a recorded run never reached its own verdict. */
export function wasCutShort(run: Pick<AnalysisRun, 'phase' | 'reason'>): boolean {
  return run.phase === 'Running' || (typeof run.reason === 'string' && run.reason.startsWith('cut short'));
}

const EMPTY_TALLY = (): Record<MeasurementPhase, number> => ({ Successful: 0, Failed: 0, Inconclusive: 0, Error: 0 });

function tallyText(t: Record<MeasurementPhase, number>): string {
  const parts = (['Successful', 'Failed', 'Inconclusive', 'Error'] as const).filter((p) => t[p] > 0).map((p) => `${t[p]} ${p === 'Error' ? 'errors' : p.toLowerCase()}`);
  return parts.length ? parts.join(', ') : 'no measurements';
}

/**
 * A threshold run under `config`: each recorded measurement that has a value is classified again
 * with the config's conditions (Errors and no-data stay as recorded; a value recorded as null is
 * NaN, or judged like 0 as it was then with `legacyNull`), then `judgeRun` with the config's limits
 * measurement by measurement, the first verdict ending the run as it would have ended the workflow's.
 * A monitor run needs window / interval measurements; a window that ended short of them is
 * Inconclusive (as in the workflow) when it is the recorded window, and Undecided when the config's
 * window is longer than the recorded one.
 *
 *   recorded [0.999, 0.999, 0.999, 0.999] (count 4), config successCondition ">= 0.9995", failureLimit 0
 *     → Failed: "1 failed measurements (limit 0)", decidedAfter 1
 *   recorded [0.8, 0.8] Failed under ">= 0.99" (failureLimit 1), config ">= 0.5"
 *     → Undecided: "needs 4 measurements, 2 recorded"
 *   same, config ">= 0.99" with failureLimit 3 → Undecided (2 failed ≤ 3, and only 2 of 4 measured)
 */
function rejudgeThreshold(run: AnalysisRun, spec: ThresholdAnalysisSpec, config: JudgeConfig, recorded: JudgeConfig, legacyNull: boolean): Omit<Rejudged, 'notes' | 'changes'> & { notes: string[] } {
  const notes: string[] = [];
  let legacyNulls = 0;
  const measurements: readonly Measurement[] = Array.isArray(run.measurements) ? run.measurements : [];
  const phases = measurements.map((m): MeasurementPhase => {
    if (m.phase === 'Error' || !Object.hasOwn(m, 'value')) return m.phase;
    const raw = m.value as MetricValue | null | undefined;
    if (raw === null) legacyNulls++;
    // classify reads null as NaN unless told to judge it as releases of that time did
    return classify(spec, { kind: 'value', value: raw as MetricValue }, { legacyNull: raw === null && legacyNull }).phase;
  });
  if (legacyNulls > 0) {
    notes.push(
      legacyNull
        ? `${legacyNulls} values recorded as null (a NaN from a worker before values were spelled out) judged like 0, as when recorded`
        : `${legacyNulls} values recorded as null: a NaN from a worker before values were spelled out, judged like 0 when recorded and as NaN (Inconclusive) now`,
    );
  }
  const monitor = run.stage === 'monitor';
  const countFor = (c: JudgeConfig, a: ThresholdAnalysisSpec): number =>
    monitor && c.monitorWindowMs !== undefined ? Math.max(1, Math.floor(c.monitorWindowMs / a.interval)) : a.count;
  const count = countFor(config, spec);
  if (monitor && config.monitorWindowMs === undefined) notes.push(`this config has no monitor window for ${run.service}: judged with count ${spec.count}`);
  const limits = { ...spec, count };

  let verdict: RunVerdict = { phase: 'Running' };
  let decidedAfter: number | undefined;
  for (let i = 1; i <= phases.length; i++) {
    verdict = judgeRun(limits, phases.slice(0, i).map((phase) => ({ phase })));
    if (verdict.phase !== 'Running') {
      decidedAfter = i;
      break;
    }
  }
  const tally = EMPTY_TALLY();
  for (const p of phases.slice(0, decidedAfter ?? phases.length)) tally[p]++;
  const counted = phases.filter((p) => p !== 'Error').length;
  const threshold = { phases, count, tally, recorded: phases.length, ...(decidedAfter !== undefined && decidedAfter < phases.length ? { decidedAfter } : {}) };
  if (decidedAfter !== undefined && decidedAfter < phases.length) {
    const all = judgeRun(limits, phases.map((phase) => ({ phase })));
    if (all.phase !== verdict.phase) notes.push(`all ${phases.length} recorded measurements together: ${all.phase}${all.reason ? ` (${all.reason})` : ''}`);
  }
  const extra = { threshold, ...(legacyNulls > 0 ? { legacyNulls } : {}) };

  if (verdict.phase === 'Successful') return { phase: 'Successful', reason: `${tally.Successful + tally.Failed + tally.Inconclusive} of ${count} measurements: ${tallyText(tally)}`, notes, ...extra };
  if (verdict.phase !== 'Running') return { phase: verdict.phase, ...(verdict.reason ? { reason: verdict.reason } : {}), notes, ...extra };
  // Still running after every recorded measurement.
  const recordedSpec = recorded.analysis?.kind === 'threshold' ? recorded.analysis : spec;
  if (monitor && !wasCutShort(run) && count <= countFor(recorded, recordedSpec)) {
    return { phase: 'Inconclusive', reason: `the window ended with ${counted} of ${count} measurements`, notes, ...extra };
  }
  return { phase: 'Undecided', reason: `needs ${count} measurements, ${counted} recorded`, notes, ...extra };
}

/** The recorded metric whose samples stand for `m` of `config`: same name, else same query, else the only one. */
function matchMetric(recorded: CompareAnalysisSpec, config: CompareAnalysisSpec, m: CompareAnalysisSpec['metrics'][number]): CompareAnalysisSpec['metrics'][number] | undefined {
  return (
    recorded.metrics.find((r) => r.name === m.name) ??
    recorded.metrics.find((r) => sameQuery(r.query, m.query)) ??
    (recorded.metrics.length === 1 && config.metrics.length === 1 ? recorded.metrics[0] : undefined)
  );
}

type SideSamples = { values: number[] } | { error: string } | { undecided: string };

/**
 * One side of one metric as the workflow's sampler would have returned it under `limit`: a failed
 * query is retried until it has failed limit + 1 times (then the backend is down), so a side that
 * failed more often than the config allows is down, and a side the recording gave up on that the
 * config would have retried further cannot be known.
 */
function sideSamples(ms: readonly Measurement[], side: 'canary' | 'baseline', limit: number, recordedLimit: number): SideSamples {
  const errors = ms.filter((m) => m.phase === 'Error' && typeof m.message === 'string' && m.message.startsWith(`${side}:`));
  if (errors.length > limit) return { error: (errors[limit]?.message ?? '').slice(side.length + 2) };
  if (errors.length > recordedLimit) {
    return { undecided: `${side}: the metrics backend failed ${errors.length} times and the recording gave up; under consecutiveErrorLimit ${limit} the judge would have retried` };
  }
  const key = side === 'canary' ? 'value' : 'baseline';
  return { values: ms.filter((m) => Object.hasOwn(m, key)).map((m) => toNumber((side === 'canary' ? m.value : m.baseline) as MetricValue | null)) };
}

/** The reason a compare run recorded before the compare judge existed carries (its verdict was always Inconclusive). */
export const BEFORE_COMPARE_JUDGE = 'the compare judge is not implemented yet';

/**
 * A compare run under `config`: each metric's canary and baseline samples rebuilt from the recorded
 * measurements (canary samples carry `value`, baseline ones `baseline`, tagged with `metric` when the
 * analysis had several), classified again with the config's direction, confidence, minEffect and
 * outliers, then scored with its weights, critical flags and scores; a metric whose backend was
 * down is NoData, and a run that passes only because of that is Inconclusive — as in the workflow.
 *
 *   recorded canary [0.4 ×8] vs baseline [0.06 ×8] → latency High → score 0 → Failed
 *   same samples, direction 'decrease'            → Pass → score 100 → Successful
 */
function rejudgeCompare(run: AnalysisRun, spec: CompareAnalysisSpec, recordedSpec: CompareAnalysisSpec): Omit<Rejudged, 'changes'> {
  const notes: string[] = [];
  const measurements: readonly Measurement[] = Array.isArray(run.measurements) ? run.measurements : [];
  if (!run.compare && measurements.length === 0) {
    // Releases started before the compare judge existed took no samples and recorded a fixed verdict.
    if (run.reason === BEFORE_COMPARE_JUDGE) return { phase: 'Undecided', reason: 'recorded before the compare judge existed: it took no samples', notes };
    notes.push('no samples were recorded for this run');
  }
  const results: (CompareMetricResult & { backendDown: boolean })[] = [];
  const undecided: string[] = [];
  for (const metric of spec.metrics) {
    const name = spec.metrics.length === 1 ? run.analysis : metric.name;
    const source = matchMetric(recordedSpec, spec, metric);
    if (!source) {
      undecided.push(`metric ${metric.name} was not recorded (recorded: ${recordedSpec.metrics.map((m) => m.name).join(', ')})`);
      continue;
    }
    const tag = recordedSpec.metrics.length > 1 ? source.name : undefined;
    const ms = measurements.filter((m) => (tag === undefined ? m.metric === undefined : m.metric === tag));
    const canary = sideSamples(ms, 'canary', spec.consecutiveErrorLimit, recordedSpec.consecutiveErrorLimit);
    const baseline = sideSamples(ms, 'baseline', spec.consecutiveErrorLimit, recordedSpec.consecutiveErrorLimit);
    const base = { name, weight: metric.weight, critical: metric.critical };
    if ('error' in canary || 'error' in baseline) {
      const why = 'error' in canary ? canary.error : 'error' in baseline ? baseline.error : '';
      results.push({ ...base, classification: 'NoData', verdict: 'NoData', reason: `metrics backend failing after ${spec.consecutiveErrorLimit + 1} attempts: ${why}`, backendDown: true });
      continue;
    }
    if ('undecided' in canary || 'undecided' in baseline) {
      undecided.push(`${name}: ${'undecided' in canary ? canary.undecided : 'undecided' in baseline ? baseline.undecided : ''}`);
      continue;
    }
    const direction: Direction = metric.direction ?? spec.direction;
    const judged = classifyMetric({ canary: canary.values, baseline: baseline.values }, { direction, confidence: spec.confidence, minEffect: spec.minEffect, outliers: spec.outliers });
    results.push({ ...base, ...metricRecord(judged), backendDown: false });
  }
  const metrics = results.map(({ backendDown: _, ...r }) => r);
  if (undecided.length > 0) return { phase: 'Undecided', reason: undecided.join('; '), notes, compare: { metrics } };
  const verdict = compareRunVerdict(results, { passScore: spec.passScore, marginalScore: spec.marginalScore });
  const compare = { ...(verdict.score !== undefined ? { score: verdict.score } : {}), metrics };
  return { phase: verdict.phase, reason: verdict.reason, notes, compare };
}

/**
 * Re-judges a recorded run under `config` (by default, as the recorded config: pass `recorded` when
 * `config` is another one, so that differences in query, interval, monitor window and error retries
 * are accounted for). Never measures: it decides from what was recorded, and says Undecided when
 * that is not enough.
 *
 *   threshold run Failed [0.8, 0.8] under ">= 0.99", failureLimit 1:
 *     config = recorded                → Failed "2 failed measurements (limit 1)"
 *     successCondition ">= 0.5"        → Undecided "needs 4 measurements, 2 recorded"
 *   threshold run Successful [0.999 ×4] (failureLimit 1):
 *     successCondition ">= 0.9995"     → Failed "2 failed measurements (limit 1)", decidedAfter 2 (of 4)
 *   compare run Failed (latency High):
 *     direction 'decrease'             → Successful "score 100 ≥ pass score 95"
 *   analysis absent from the config    → NotComparable "this config has no analysis latency"
 *   cut-short run                      → cutShort: true, and Undecided unless the recorded part decides
 */
export function rejudgeRun(run: AnalysisRun, config: JudgeConfig, options: { recorded?: JudgeConfig; legacyNull?: boolean } = {}): Rejudged {
  const recorded = options.recorded ?? config;
  const cutShort = wasCutShort(run);
  const flags = cutShort ? { cutShort: true } : {};
  const spec = config.analysis;
  if (!spec) return { phase: 'NotComparable', reason: `this config has no analysis ${run.analysis}`, notes: [], changes: [], ...flags };
  if (spec.kind !== run.kind) {
    return { phase: 'NotComparable', reason: `kinds differ: the recorded run is a ${run.kind} analysis, this config's ${run.analysis} is ${spec.kind}`, notes: [], changes: [], ...flags };
  }
  const notes = sampleNotes(recorded.analysis, spec);
  const changes = recorded.analysis && recorded.analysis.kind === spec.kind ? configChanges(recorded.analysis, spec) : [];
  if (cutShort) notes.push(run.phase === 'Running' ? 'the recorded run was still measuring when the release ended' : `the recorded run was ${run.reason ?? 'cut short'}`);
  if (spec.kind === 'threshold') {
    const judged = rejudgeThreshold(run, spec, config, recorded, options.legacyNull ?? false);
    return { ...judged, notes: [...notes, ...judged.notes], changes, ...flags };
  }
  const recordedSpec = recorded.analysis?.kind === 'compare' ? recorded.analysis : spec;
  if (cutShort) {
    return { phase: 'Undecided', reason: 'cut short before its samples were complete', notes, changes, ...flags };
  }
  const judged = rejudgeCompare(run, spec, recordedSpec);
  return { ...judged, notes: [...notes, ...judged.notes], changes };
}

/** What a config would have done with a release's recorded runs, in the order they ran. */
export interface ReleaseRejudged {
  /**
   * 'rollback' at the first Failed run (or Inconclusive under onInconclusive rollback); 'undecided'
   * when a run before that cannot be decided; 'pause' when a run would have waited for a human (the
   * runs after it are judged as if the human let it go on); 'pass' when every run passes.
   */
  action: 'pass' | 'rollback' | 'pause' | 'undecided';
  /** The run that decides it (the first pause, when the action is 'pause'). */
  at?: string;
  summary: string;
}

/**
 * The release-level answer: would this config have rolled the release back, paused it, or let
 * every recorded run pass? Runs the config does not have are skipped (they would not have run).
 *
 *   [staging ✓, canary Failed]                  → rollback: "rolls back at checkout/canary/2/success-rate: …"
 *   [canary Inconclusive (pause), monitor ✓]    → pause: "pauses for a human at … (inconclusive: …); every other run passes"
 *   [canary Inconclusive (pause), monitor ✗]    → rollback: "pauses for a human at …; then rolls back at …"
 *   [staging ✓, canary Undecided]               → undecided: "cannot tell at …"
 *   [staging ✓, canary ✓]                       → pass: "every recorded run passes (2)"
 */
export function releaseRejudged(runs: readonly { id: string; rejudged: Rejudged; onInconclusive?: 'pause' | 'rollback' }[]): ReleaseRejudged {
  const pauses: string[] = [];
  const before = (): string => (pauses.length ? `pauses for a human at ${pauses.join(', ')}; then ` : '');
  for (const { id, rejudged, onInconclusive } of runs) {
    const why = rejudged.reason ? `: ${rejudged.reason}` : '';
    if (rejudged.phase === 'Failed') return { action: 'rollback', at: id, summary: `${before()}rolls back at ${id}${why}` };
    if (rejudged.phase === 'Inconclusive' && onInconclusive === 'rollback') {
      return { action: 'rollback', at: id, summary: `${before()}rolls back at ${id} (inconclusive, onInconclusive: rollback)${why}` };
    }
    if (rejudged.phase === 'Undecided') return { action: 'undecided', at: id, summary: `${before()}cannot tell at ${id}${why}` };
    if (rejudged.phase === 'Inconclusive') pauses.push(`${id} (inconclusive${why})`);
  }
  const judged = runs.filter((r) => r.rejudged.phase !== 'NotComparable').length;
  const first = runs.find((r) => r.rejudged.phase === 'Inconclusive');
  if (first) return { action: 'pause', at: first.id, summary: `pauses for a human at ${pauses.join(', ')}; every other run passes` };
  return { action: 'pass', summary: judged ? `every recorded run passes (${judged})` : 'no recorded run to judge' };
}
