// A threshold analysis: instant measurements every `interval` judged against the limits until the
// run is decided, or, over a monitor window, one range query per batch that must hold for the whole window.
import { patched, sleep } from '@temporalio/workflow';
import { classify, judgeRun, tallyOf, type Measurement, type Observation, type RunVerdict } from '../core/analysis.js';
import { monitorBatchMs } from '../core/plan.js';
import type { Color } from '../core/snapshot.js';
import type { AnalysisRun } from '../core/status.js';
import { toMetricValue, toNumber, type MetricValue } from '../core/values.js';
import type { ThresholdAnalysisSpec } from '../core/release-spec.js';
import type { AnalysisOptions } from './analysis.js';
import { local, localCalls, metrics, RETRY } from './release-activities.js';
import { PATCHES } from './patches.js';

/**
 * How long the server waits for a watch's heartbeat (the SDK sends one every 0.8 × this, 3.2 s) before it retries the watch
 * elsewhere. A lost worker delays a verdict — and the traffic undo the watch runs at a Failed one —
 * by at most this and the retry's first backoff (1 s), about the time a worker takes to start again.
 * (The rollback after it waits for the release's next workflow task, which the server holds for the
 * lost worker up to the SDK's sticky queue timeout, 10 s; traffic is back by then.)
 */
export const WATCH_HEARTBEAT_TIMEOUT = '4s';
/** A watch's time beyond its batch: a slow last query and the worker's queue. */
const WATCH_SLACK_MS = 120_000;

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
      const options = { startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 }, summary: `measure ${name} on ${color}` };
      take(localCalls() ? await local.metrics.measure.executeWithOptions(options, [{ query }]) : await metrics.measure.executeWithOptions(options, [{ query }]));
      verdict = judgeRun(limits, run.measurements);
      if (verdict.phase !== 'Running') break;
      await sleep(analysis.interval, { summary: `next ${name} measurement` });
    }
  } else if (patched(PATCHES.monitorWatch.id)) {
    // Monitor window, watched: a measurement every interval from an activity per batch that returns
    // at the first verdict, so a fault after the switch is acted on within an interval; the run
    // must hold for the whole window.
    const count = Math.max(1, Math.floor(opts.windowMs / analysis.interval));
    const limits = { ...analysis, count };
    const start = Date.now();
    const end = start + opts.windowMs;
    /**
     * The scheduled time of the run's k-th measurement (k from 1 to count): every interval after the
     * window opens (a window shorter than its interval is measured once, at its end).
     */
    const scheduled = (k: number): number => Math.min(start + k * analysis.interval, end);
    let next = 1;
    while (verdict.phase === 'Running' && next <= count) {
      const until = Math.max(scheduled(next), Math.min(Date.now() + monitorBatchMs(opts.windowMs, analysis.interval), end));
      const answer = await metrics.watch.executeWithOptions(
        {
          // (a batch that comes back after the window's end — every worker was down — still gets its slack)
          startToCloseTimeout: Math.max(0, until - Date.now()) + WATCH_SLACK_MS,
          heartbeatTimeout: WATCH_HEARTBEAT_TIMEOUT,
          retry: RETRY,
          summary: `watch ${name} on ${color} until ${new Date(until).toISOString().slice(11, 19)}`,
        },
        [{
          query,
          firstAt: new Date(scheduled(next)).toISOString(),
          intervalMs: analysis.interval,
          until: new Date(until).toISOString(),
          judge: { conditions: { successCondition: analysis.successCondition, failureCondition: analysis.failureCondition }, limits, tally: tallyOf(limits, run.measurements) },
          ...(opts.onFailed ? { onFailed: opts.onFailed } : {}),
        }],
      );
      // (the list alone: recorded before the watch could put traffic back, or asked without the undo)
      const observations = Array.isArray(answer) ? answer : answer.observations;
      if (!Array.isArray(answer) && answer.trafficBack) opts.trafficBack?.(name, answer.trafficBack);
      take(observations);
      next += observations.length;
      // (the in-memory adapters of the tests answer a batch at once: act no earlier than it ends)
      const lastAt = Date.parse(observations.at(-1)?.at ?? '');
      if (lastAt > Date.now()) await sleep(lastAt - Date.now(), { summary: `monitor ${name}` });
      verdict = judgeRun(limits, run.measurements);
      if (observations.length === 0) break;
    }
    if (verdict.phase === 'Running' || (verdict.phase === 'Successful' && run.measurements.length === 0)) {
      verdict = { phase: 'Inconclusive', reason: `the window ended with ${run.measurements.filter((m) => m.phase !== 'Error').length} of ${count} measurements` };
    }
  } else {
    // How releases started before the watch replay: one range query per batch, after the batch.
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
