// An analysis step of the release workflow, replayed offline against a real Prometheus at the times
// the workflow would have measured (src/workflows/analysis.ts, analysis-threshold.ts, analysis-compare.ts,
// analysis-window.ts), judged by the real judges of src/core. Recording traffic once and
// replaying thousands of analyses over it is what makes hundreds of independent runs per config
// affordable: live, 300 analyses of 9 minutes are 45 hours.
//
// Timing, as the workflow does it in a canary step, with C the step's last traffic change:
//   every analysis starts with the step, `pauseMs` after C, and waits until C + initialDelay
//   (default: its query's longest range window), so its first measurement is at
//   first = C + max(pauseMs, delay);
//   threshold: an instant query at first, first + interval, …, judged (judgeRun) after each, until
//   the run is decided; a compare analysis: one range query per side over [first, first + count ×
//   interval] with step = interval (count + 1 samples), the baseline being the stable color over
//   the same window, judged once at the end (classifyMetric per metric, scoreMetrics).
//   The step rolls back at the first verdict that rolls back (Failed, or Inconclusive under
//   onInconclusive: rollback); otherwise it pauses if any analysis was Inconclusive, else passes.
// Instant queries at a past time are range queries with start = end (Prometheus evaluates each
// step of a range query as an instant query at that time).
import { classify, judgeRun, type Measurement, type RunPhase } from '../../src/core/analysis.js';
import { classifyMetric, scoreMetrics, type Classification, type MetricVerdict } from '../../src/core/compare.js';
import { longestWindowMs, waitBeforeMeasuringMs } from '../../src/core/promql.js';
import { renderQuery } from '../../src/core/template.js';
import { toNumber } from '../../src/core/values.js';
import type { MeasureRequest, TimedObservation } from '../../src/activities/types.js';
import type { AnalysisSpec, CompareAnalysisSpec, ThresholdAnalysisSpec } from '../../src/spec/index.js';

export type Measure = (request: MeasureRequest) => Promise<TimedObservation[]>;

/** One analysis of a step, as the step runs it. */
export interface StepAnalysis {
  name: string;
  spec: AnalysisSpec;
}

/** A canary analysis step: its weight, how long after the weight change it starts, its analyses. */
export interface StepShape {
  weight: number;
  /** From the traffic change (setWeight) to the step's start: the pauses between them. */
  pauseMs: number;
  analyses: StepAnalysis[];
}

export type Verdict = 'pass' | 'rollback' | 'pause';

export interface AnalysisOutcome {
  name: string;
  kind: 'threshold' | 'compare';
  phase: Exclude<RunPhase, 'Running'>;
  verdict: Verdict;
  /** When the verdict was reached (ms since the epoch). */
  at: number;
  reason?: string;
  /** Threshold runs: the measured values and their phases. */
  measurements?: { at: number; value?: number; phase: Measurement['phase'] }[];
  /** Compare runs: per metric, what the judge saw. */
  compare?: {
    metric: string;
    classification: Classification;
    verdict: MetricVerdict;
    pValue?: number;
    relativeEffect?: number;
    medians?: { canary: number; baseline: number };
    n: { canary: number; baseline: number };
  }[];
}

export interface StepOutcome {
  verdict: Verdict;
  /** The first rollback's time, else when the last analysis ended. */
  at: number;
  analyses: AnalysisOutcome[];
}

/** The delay before an analysis's first measurement: initialDelay, by default its longest range window. */
export function delayOf(spec: AnalysisSpec): number {
  const queries = spec.kind === 'threshold' ? [spec.query] : spec.metrics.map((m) => m.query);
  return spec.initialDelay ?? longestWindowMs(queries);
}

/** The longest range window of an analysis's queries. */
export function windowOf(spec: AnalysisSpec): number {
  return longestWindowMs(spec.kind === 'threshold' ? [spec.query] : spec.metrics.map((m) => m.query));
}

/**
 * First measurement of an analysis, relative to the traffic change (ms): the step starts `pauseMs`
 * after it and waits as the workflow's waitForWindow does, max(pauseMs, delay).
 */
export function firstAtOf(step: Pick<StepShape, 'pauseMs'>, spec: AnalysisSpec): number {
  return step.pauseMs + waitBeforeMeasuringMs({ delayMs: delayOf(spec), changedAt: 0, now: step.pauseMs });
}

/** The last time an analysis may measure, relative to the traffic change, if it runs to the end. */
export function lastAtOf(step: Pick<StepShape, 'pauseMs'>, spec: AnalysisSpec): number {
  const first = firstAtOf(step, spec);
  return spec.kind === 'threshold' ? first + (spec.count - 1) * spec.interval : first + spec.count * spec.interval;
}

/**
 * The stretch of recorded time a step run reads, relative to its traffic change: from the start of
 * its earliest window to its last possible measurement. Runs whose stretches do not overlap read
 * disjoint requests.
 */
export function spanOf(step: StepShape): { from: number; to: number } {
  const from = Math.min(...step.analyses.map((a) => firstAtOf(step, a.spec) - windowOf(a.spec)));
  const to = Math.max(...step.analyses.map((a) => lastAtOf(step, a.spec)));
  return { from, to };
}

const iso = (ms: number): string => new Date(ms).toISOString();

function verdictOf(spec: AnalysisSpec, phase: Exclude<RunPhase, 'Running'>): Verdict {
  if (phase === 'Failed') return 'rollback';
  if (phase === 'Inconclusive') return spec.onInconclusive === 'rollback' ? 'rollback' : 'pause';
  return 'pass';
}

export interface Target {
  service: string;
  canary: 'blue' | 'green';
  baseline: 'blue' | 'green';
  namespace: string;
  version: string;
}

function render(template: string, target: Target, color: string): string {
  return renderQuery(template, { service: target.service, version: target.version, color, baselineColor: target.baseline, namespace: target.namespace });
}

async function replayThreshold(measure: Measure, name: string, spec: ThresholdAnalysisSpec, target: Target, first: number): Promise<AnalysisOutcome> {
  const query = render(spec.query, target, target.canary);
  const measurements: { at: number; value?: number; phase: Measurement['phase'] }[] = [];
  for (let at = first; ; at += spec.interval) {
    const observations = await measure({ query, range: { start: iso(at), end: iso(at), stepMs: spec.interval } });
    for (const { observation } of observations) {
      const c = classify(spec, observation);
      measurements.push({ at, phase: c.phase, ...(observation.kind === 'value' ? { value: toNumber(observation.value) } : {}) });
    }
    const verdict = judgeRun(spec, measurements);
    if (verdict.phase !== 'Running') {
      return { name, kind: 'threshold', phase: verdict.phase, verdict: verdictOf(spec, verdict.phase), at, ...(verdict.reason ? { reason: verdict.reason } : {}), measurements };
    }
  }
}

async function replayCompare(measure: Measure, name: string, spec: CompareAnalysisSpec, target: Target, first: number): Promise<AnalysisOutcome> {
  const end = first + spec.count * spec.interval;
  const start = end - spec.count * spec.interval;
  const values = async (query: string): Promise<number[]> => {
    const observations = await measure({ query, range: { start: iso(start), end: iso(end), stepMs: spec.interval } });
    const out: number[] = [];
    for (const { observation } of observations) {
      if (observation.kind === 'error') throw new Error(`Prometheus failed during the replay: ${observation.message}`);
      if (observation.kind === 'value') out.push(toNumber(observation.value));
    }
    return out;
  };
  const results = await Promise.all(
    spec.metrics.map(async (metric) => {
      const [canary, baseline] = await Promise.all([values(render(metric.query, target, target.canary)), values(render(metric.query, target, target.baseline))]);
      const judged = classifyMetric({ canary, baseline }, { direction: metric.direction, confidence: spec.confidence, minEffect: spec.minEffect, outliers: spec.outliers });
      return {
        scored: { name: spec.metrics.length === 1 ? name : metric.name, weight: metric.weight, critical: metric.critical, verdict: judged.verdict },
        seen: {
          metric: metric.name,
          classification: judged.classification,
          verdict: judged.verdict,
          ...(judged.test ? { pValue: judged.test.pValue } : {}),
          ...(judged.relativeEffect !== undefined ? { relativeEffect: judged.relativeEffect } : {}),
          ...(judged.medians ? { medians: judged.medians } : {}),
          n: { canary: canary.length, baseline: baseline.length },
        },
        reason: judged.reason,
      };
    }),
  );
  const scored = scoreMetrics(
    results.map((r) => r.scored),
    { passScore: spec.passScore, marginalScore: spec.marginalScore },
  );
  const phase = scored.phase;
  const reason = phase === 'Successful' ? scored.reason : `${scored.reason} — ${results.filter((r) => r.seen.verdict !== 'Pass').map((r) => `${r.scored.name}: ${r.reason}`).join('; ')}`;
  return { name, kind: 'compare', phase, verdict: verdictOf(spec, phase), at: end, reason, compare: results.map((r) => r.seen) };
}

/** One analysis of a step whose traffic changed at `changedAt`, to its verdict. */
export function replayAnalysis(measure: Measure, step: Pick<StepShape, 'pauseMs'>, analysis: StepAnalysis, target: Target, changedAt: number): Promise<AnalysisOutcome> {
  const first = changedAt + firstAtOf(step, analysis.spec);
  return analysis.spec.kind === 'threshold'
    ? replayThreshold(measure, analysis.name, analysis.spec, target, first)
    : replayCompare(measure, analysis.name, analysis.spec, target, first);
}

/**
 * A whole step. Every analysis is replayed to its own verdict (the per-judge figures need them);
 * the step's verdict is what the workflow's fail-fast does with them.
 */
export async function replayStep(measure: Measure, step: StepShape, target: Target, changedAt: number): Promise<StepOutcome> {
  const analyses = await Promise.all(step.analyses.map((a) => replayAnalysis(measure, step, a, target, changedAt)));
  return { ...stepVerdict(analyses), analyses };
}

/**
 * The step's verdict from its analyses' verdicts: the earliest rollback wins (the others are cut
 * short); with none, a pause if any was Inconclusive under "pause", else a pass when the last ends.
 *
 *   [{rollback at 90}, {rollback at 60}, {pass at 600}] → rollback at 60
 *   [{pause at 30}, {pass at 600}]                      → pause at 600
 */
export function stepVerdict(analyses: readonly Pick<AnalysisOutcome, 'verdict' | 'at'>[]): { verdict: Verdict; at: number } {
  const rollbacks = analyses.filter((a) => a.verdict === 'rollback').map((a) => a.at);
  if (rollbacks.length > 0) return { verdict: 'rollback', at: Math.min(...rollbacks) };
  const at = Math.max(...analyses.map((a) => a.at));
  return { verdict: analyses.some((a) => a.verdict === 'pause') ? 'pause' : 'pass', at };
}
