// A threshold analysis: instant measurements every `interval` judged against the limits until the
// run is decided, or, over a monitor window, one range query per batch that must hold for the whole window.
import { patched, sleep } from '@temporalio/workflow';
import { classify, judgeRun, type Measurement, type Observation, type RunVerdict } from '../core/analysis.js';
import { monitorBatchMs } from '../core/plan.js';
import type { Color } from '../core/snapshot.js';
import type { AnalysisRun } from '../core/status.js';
import { toMetricValue, toNumber, type MetricValue } from '../core/values.js';
import type { ThresholdAnalysisSpec } from '../core/release-spec.js';
import type { AnalysisOptions } from './analysis.js';
import { metrics, RETRY } from './release-activities.js';
import { PATCHES } from './patches.js';

/** Measures until the run is decided; its measurements go to `run`. */
export async function measureThreshold(name: string, analysis: ThresholdAnalysisSpec, color: Color | 'staging', query: string, opts: AnalysisOptions, run: AnalysisRun): Promise<RunVerdict> {
  const take = (observations: { at: string; observation: Observation }[]): void => {
    for (const { at, observation } of observations) {
      // A NaN recorded as a bare number arrives as null. Releases recorded before values were
      // spelled out judged that null as a number; new ones judge it NaN, i.e. Inconclusive.
      const legacyNull = observation.kind === 'value' && (observation.value as MetricValue | null) === null && !patched(PATCHES.nanInconclusive.id);
      const c = classify(analysis, observation, { legacyNull });
      const m: Measurement = { at, phase: c.phase, ...(c.message ? { message: c.message } : {}) };
      if (observation.kind === 'value') m.value = toMetricValue(toNumber(observation.value));
      run.measurements.push(m);
    }
  };
  let verdict: RunVerdict = { phase: 'Running' };
  if (opts.windowMs === undefined) {
    const limits = analysis;
    for (;;) {
      take(await metrics.measure.executeWithOptions({ startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 }, summary: `measure ${name} on ${color}` }, [{ query }]));
      verdict = judgeRun(limits, run.measurements);
      if (verdict.phase !== 'Running') break;
      await sleep(analysis.interval, { summary: `next ${name} measurement` });
    }
  } else {
    // Monitor window: one range query per batch; the run must hold for the whole window.
    const count = Math.max(1, Math.floor(opts.windowMs / analysis.interval));
    const limits = { ...analysis, count };
    const end = Date.now() + opts.windowMs;
    let from = Date.now();
    while (verdict.phase === 'Running' && Date.now() < end) {
      await sleep(Math.min(monitorBatchMs(opts.windowMs, analysis.interval), end - Date.now()), { summary: `monitor ${name}` });
      const to = Date.now();
      take(await metrics.measure.executeWithOptions({ startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 }, summary: `measure ${name} on ${color} (window)` }, [
        { query, range: { start: new Date(from + 1).toISOString(), end: new Date(to).toISOString(), stepMs: analysis.interval } },
      ]));
      from = to;
      verdict = judgeRun(limits, run.measurements);
    }
    if (verdict.phase === 'Running' || (verdict.phase === 'Successful' && run.measurements.length === 0)) {
      verdict = { phase: 'Inconclusive', reason: `the window ended with ${run.measurements.filter((m) => m.phase !== 'Error').length} of ${count} measurements` };
    }
  }
  return verdict;
}
