// The threshold judge (Argo Rollouts' measurement phases and limits), pure. A measurement
// is a fact (a value, no data, or the backend failing); the judge gives each one a phase and the run
// a verdict. "No data" and "backend down" never count as healthy — nor as bad.
import { holds } from './condition.js';
import { toNumber, type MetricValue } from './values.js';
import type { ThresholdAnalysisSpec } from './release-spec.js';

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';
export type RunPhase = 'Running' | 'Successful' | 'Failed' | 'Inconclusive';

/**
 * What a metrics provider observed: facts only, no judgement. A value that is not a finite number
 * is spelled as Prometheus spells it ('NaN', '+Inf', '-Inf'), so that it survives the payload
 * converter (src/core/values.ts).
 */
export type Observation =
  | { kind: 'value'; value: MetricValue }
  | { kind: 'empty'; message: string }
  | { kind: 'error'; message: string };

export interface Measurement {
  /** ISO workflow time. */
  at: string;
  phase: MeasurementPhase;
  value?: MetricValue;
  message?: string;
  /** Present for compare analyses: the baseline's value. */
  baseline?: MetricValue;
  /** Compare analyses with several metrics: which one. */
  metric?: string;
}

/**
 * Phase of one measurement, as Argo Rollouts defines it:
 *   both conditions: success → Successful, failure → Failed, neither → Inconclusive;
 *   only successCondition: met → Successful, else Failed;
 *   only failureCondition: met → Failed, else Successful.
 * No data or NaN → Inconclusive (a ratio over a window without requests is 0/0: not a bad canary);
 * ±Inf is compared like any number (a latency quantile in the +Inf bucket is very slow); a provider
 * error → Error.
 *
 *   classify({successCondition: '>= 0.99'}, value 0.995) → Successful
 *   classify({successCondition: '>= 0.99'}, value 0.8)   → Failed
 *   classify({successCondition: '>= 0.99'}, value 'NaN') → Inconclusive
 *   classify({failureCondition: '> 0.5'},   value '+Inf') → Failed
 *   classify(any, empty)                                  → Inconclusive
 *
 * `legacyNull` reproduces how releases recorded before non-finite values were spelled out judged a
 * NaN that reached them as null (JavaScript's comparisons with null), so that their histories replay.
 */
export function classify(
  spec: Pick<ThresholdAnalysisSpec, 'successCondition' | 'failureCondition'>,
  obs: Observation,
  options: { legacyNull?: boolean } = {},
): { phase: MeasurementPhase; message?: string } {
  if (obs.kind === 'error') return { phase: 'Error', message: obs.message };
  if (obs.kind === 'empty') return { phase: 'Inconclusive', message: obs.message };
  if ((obs.value as MetricValue | null) === null && options.legacyNull) return classifyLegacyNull(spec);
  const value = toNumber(obs.value);
  if (Number.isNaN(value)) return { phase: 'Inconclusive', message: 'the query returned NaN (no requests in its window?)' };
  const shown = Number.isFinite(value) ? String(value) : String(obs.value);
  const { successCondition: ok, failureCondition: bad } = spec;
  if (ok && bad) {
    if (holds(ok, value)) return { phase: 'Successful' };
    if (holds(bad, value)) return { phase: 'Failed', message: `${shown} ${bad.text}` };
    return { phase: 'Inconclusive', message: `${shown} meets neither "${ok.text}" nor "${bad.text}"` };
  }
  if (ok) return holds(ok, value) ? { phase: 'Successful' } : { phase: 'Failed', message: `${shown} does not meet "${ok.text}"` };
  if (bad) return holds(bad, value) ? { phase: 'Failed', message: `${shown} meets failure "${bad.text}"` } : { phase: 'Successful' };
  return { phase: 'Inconclusive', message: 'no condition' };
}

/** A null compared as JavaScript did before: like 0 for <, <=, >, >=; equal to no number. */
function classifyLegacyNull(spec: Pick<ThresholdAnalysisSpec, 'successCondition' | 'failureCondition'>): { phase: MeasurementPhase; message?: string } {
  const holdsNull = (c: NonNullable<ThresholdAnalysisSpec['successCondition']>): boolean => (c.op === '==' ? false : c.op === '!=' ? true : holds(c, 0));
  const { successCondition: ok, failureCondition: bad } = spec;
  if (ok && bad) {
    if (holdsNull(ok)) return { phase: 'Successful' };
    if (holdsNull(bad)) return { phase: 'Failed', message: `null ${bad.text}` };
    return { phase: 'Inconclusive', message: `null meets neither "${ok.text}" nor "${bad.text}"` };
  }
  if (ok) return holdsNull(ok) ? { phase: 'Successful' } : { phase: 'Failed', message: `null does not meet "${ok.text}"` };
  if (bad) return holdsNull(bad) ? { phase: 'Failed', message: `null meets failure "${bad.text}"` } : { phase: 'Successful' };
  return { phase: 'Inconclusive', message: 'no condition' };
}

export interface RunVerdict {
  phase: RunPhase;
  reason?: string;
}

type Limits = Pick<ThresholdAnalysisSpec, 'count' | 'failureLimit' | 'inconclusiveLimit' | 'consecutiveErrorLimit'>;

/**
 * What the judge remembers of a run's measurements so far: four counts. A run can be judged in
 * parts with it — a watch over a monitor batch is handed the tally of the batches before, never
 * their measurements — and `judgeRun` is the fold of `judgeNext` over every measurement.
 */
export interface Tally {
  failed: number;
  inconclusive: number;
  consecutiveErrors: number;
  /** Measurements that were not Error. */
  counted: number;
}

export const EMPTY_TALLY: Tally = { failed: 0, inconclusive: 0, consecutiveErrors: 0, counted: 0 };

/**
 * One more measurement: the new tally, and the verdict if this measurement decided the run (a limit
 * crossed). Success is decided only by `judgeRun`, once `count` measurements are in.
 *
 *   limits {failureLimit 1}: tally {failed 1, counted 2} + Failed → decided Failed (2 failed > limit 1)
 *   limits {consecutiveErrorLimit 2}: tally {consecutiveErrors 2} + Error → decided Inconclusive
 *   any tally {consecutiveErrors 2} + Successful → consecutiveErrors 0, not decided
 */
export function judgeNext(limits: Limits, tally: Tally, phase: MeasurementPhase): { tally: Tally; decided?: RunVerdict } {
  if (phase === 'Error') {
    const next = { ...tally, consecutiveErrors: tally.consecutiveErrors + 1 };
    if (next.consecutiveErrors > limits.consecutiveErrorLimit) {
      return { tally: next, decided: { phase: 'Inconclusive', reason: `${next.consecutiveErrors} consecutive errors from the metrics backend (limit ${limits.consecutiveErrorLimit})` } };
    }
    return { tally: next };
  }
  const next: Tally = {
    failed: tally.failed + (phase === 'Failed' ? 1 : 0),
    inconclusive: tally.inconclusive + (phase === 'Inconclusive' ? 1 : 0),
    consecutiveErrors: 0,
    counted: tally.counted + 1,
  };
  if (next.failed > limits.failureLimit) return { tally: next, decided: { phase: 'Failed', reason: `${next.failed} failed measurements (limit ${limits.failureLimit})` } };
  if (next.inconclusive > limits.inconclusiveLimit) {
    return { tally: next, decided: { phase: 'Inconclusive', reason: `${next.inconclusive} inconclusive measurements (limit ${limits.inconclusiveLimit})` } };
  }
  return { tally: next };
}

/** What a batch of a run is judged with: the analysis's conditions and limits, and the run's tally before the batch. */
export interface BatchJudge {
  conditions: Pick<ThresholdAnalysisSpec, 'successCondition' | 'failureCondition'>;
  limits: Limits;
  tally: Tally;
}

/**
 * The verdict on a batch's observations, on top of the run's tally before the batch: the verdict
 * of the first observation that decides the run, or the tally so far.
 *
 *   limits {failureLimit 1}, tally {failed 1}: [S, F, S] → decided Failed at the second (2 failed > 1)
 *   limits {failureLimit 1}, tally {failed 0}: [S, F, S] → undecided, tally {failed 1, counted +3}
 */
export function judgeBatch(judge: BatchJudge, observations: readonly { observation: Observation }[]): { tally: Tally; decided?: RunVerdict } {
  let tally = judge.tally;
  for (const { observation } of observations) {
    const step = judgeNext(judge.limits, tally, classify(judge.conditions, observation).phase);
    if (step.decided) return step;
    tally = step.tally;
  }
  return { tally };
}

/**
 * Verdict of a run so far. Errors do not count towards `count`: a backend that is down can never
 * complete a run as Successful; beyond consecutiveErrorLimit it makes the run Inconclusive.
 *
 *   limits {count 4, failureLimit 1}: [S, F, S]    → Running
 *                                    [S, F, F]    → Failed (2 failed > limit 1)
 *                                    [S, F, S, S] → Successful
 *   limits {consecutiveErrorLimit 2}: [E, E, E]   → Inconclusive
 */
export function judgeRun(limits: Limits, measurements: readonly Pick<Measurement, 'phase'>[]): RunVerdict {
  let tally = EMPTY_TALLY;
  for (const m of measurements) {
    const step = judgeNext(limits, tally, m.phase);
    if (step.decided) return step.decided;
    tally = step.tally;
  }
  return tally.counted >= limits.count ? { phase: 'Successful' } : { phase: 'Running' };
}

/** The tally of measurements (as `judgeRun` counts them up to its verdict). */
export function tallyOf(limits: Limits, measurements: readonly Pick<Measurement, 'phase'>[]): Tally {
  let tally = EMPTY_TALLY;
  for (const m of measurements) tally = judgeNext(limits, tally, m.phase).tally;
  return tally;
}
