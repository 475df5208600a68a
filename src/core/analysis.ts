// The threshold judge (DESIGN §7, Argo Rollouts' measurement phases and limits), pure. A measurement
// is a fact (a value, no data, or the backend failing); the judge gives each one a phase and the run
// a verdict. "No data" and "backend down" never count as healthy — nor as bad.
import { holds } from './condition.js';
import type { ThresholdAnalysisSpec } from '../spec/schema.js';

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';
export type RunPhase = 'Running' | 'Successful' | 'Failed' | 'Inconclusive';

/** What a metrics provider observed: facts only, no judgement. */
export type Observation =
  | { kind: 'value'; value: number }
  | { kind: 'empty'; message: string }
  | { kind: 'error'; message: string };

export interface Measurement {
  /** ISO workflow time. */
  at: string;
  phase: MeasurementPhase;
  value?: number;
  message?: string;
  /** Present for compare analyses: the baseline's value. */
  baseline?: number;
  /** Compare analyses with several metrics: which one. */
  metric?: string;
}

/**
 * Phase of one measurement, as Argo Rollouts defines it:
 *   both conditions: success → Successful, failure → Failed, neither → Inconclusive;
 *   only successCondition: met → Successful, else Failed;
 *   only failureCondition: met → Failed, else Successful.
 * No data or NaN → Inconclusive; a provider error → Error.
 *
 *   classify({successCondition: '>= 0.99'}, value 0.995) → Successful
 *   classify({successCondition: '>= 0.99'}, value 0.8)   → Failed
 *   classify(any, empty)                                  → Inconclusive
 */
export function classify(spec: Pick<ThresholdAnalysisSpec, 'successCondition' | 'failureCondition'>, obs: Observation): { phase: MeasurementPhase; message?: string } {
  if (obs.kind === 'error') return { phase: 'Error', message: obs.message };
  if (obs.kind === 'empty') return { phase: 'Inconclusive', message: obs.message };
  if (Number.isNaN(obs.value)) return { phase: 'Inconclusive', message: 'the query returned NaN' };
  const { successCondition: ok, failureCondition: bad } = spec;
  if (ok && bad) {
    if (holds(ok, obs.value)) return { phase: 'Successful' };
    if (holds(bad, obs.value)) return { phase: 'Failed', message: `${obs.value} ${bad.text}` };
    return { phase: 'Inconclusive', message: `${obs.value} meets neither "${ok.text}" nor "${bad.text}"` };
  }
  if (ok) return holds(ok, obs.value) ? { phase: 'Successful' } : { phase: 'Failed', message: `${obs.value} does not meet "${ok.text}"` };
  if (bad) return holds(bad, obs.value) ? { phase: 'Failed', message: `${obs.value} meets failure "${bad.text}"` } : { phase: 'Successful' };
  return { phase: 'Inconclusive', message: 'no condition' };
}

export interface RunVerdict {
  phase: RunPhase;
  reason?: string;
}

type Limits = Pick<ThresholdAnalysisSpec, 'count' | 'failureLimit' | 'inconclusiveLimit' | 'consecutiveErrorLimit'>;

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
  let failed = 0;
  let inconclusive = 0;
  let consecutiveErrors = 0;
  let counted = 0;
  for (const m of measurements) {
    if (m.phase === 'Error') {
      consecutiveErrors++;
      if (consecutiveErrors > limits.consecutiveErrorLimit) {
        return { phase: 'Inconclusive', reason: `${consecutiveErrors} consecutive errors from the metrics backend (limit ${limits.consecutiveErrorLimit})` };
      }
      continue;
    }
    consecutiveErrors = 0;
    counted++;
    if (m.phase === 'Failed') failed++;
    if (m.phase === 'Inconclusive') inconclusive++;
    if (failed > limits.failureLimit) return { phase: 'Failed', reason: `${failed} failed measurements (limit ${limits.failureLimit})` };
    if (inconclusive > limits.inconclusiveLimit) {
      return { phase: 'Inconclusive', reason: `${inconclusive} inconclusive measurements (limit ${limits.inconclusiveLimit})` };
    }
  }
  if (counted >= limits.count) return { phase: 'Successful' };
  return { phase: 'Running' };
}
