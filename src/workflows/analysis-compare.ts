// Measuring a compare analysis: samples of the color under test and of its baseline, one range query
// per side and metric; the judging itself is src/core/compare.ts.
import { sleep } from '@temporalio/workflow';
import type { RunVerdict } from '../core/analysis.js';
import { classifyMetric, compareRunVerdict, metricRecord } from '../core/compare.js';
import type { Stage } from '../core/plan.js';
import { otherColor, type Color } from '../core/snapshot.js';
import type { AnalysisRun, CompareMetricResult } from '../core/status.js';
import { toMetricValue, toNumber } from '../core/values.js';
import type { CompareAnalysisSpec } from '../core/release-spec.js';
import type { AnalysisOptions, RenderQuery } from './analysis.js';
import { local, localCalls, metrics, RETRY } from './release-activities.js';

/**
 * A compare analysis (Kayenta style): `count` samples per `interval` of each metric, for the color
 * under test and for a baseline, judged by the Mann-Whitney test and scored by weight. The baseline
 * is the stable color over the same window during the canary; in staging and the monitor window,
 * where nothing else serves the same traffic, it is the same series before the release changed it
 * (staging before its deploy, the old color before traffic first moved). A metrics backend that
 * keeps failing makes the run Inconclusive — never a pass.
 */
export async function runCompare(
  where: Stage,
  name: string,
  analysis: CompareAnalysisSpec,
  color: Color | 'staging',
  opts: AnalysisOptions,
  run: AnalysisRun,
  render: RenderQuery,
): Promise<RunVerdict> {
  const windowMs = where === 'monitor' && opts.windowMs !== undefined ? opts.windowMs : analysis.count * analysis.interval;
  const baselineColor: Color | 'staging' = color === 'staging' ? 'staging' : (opts.baselineColor ?? otherColor(color));
  await sleep(windowMs, { summary: `collect ${name} samples on ${color} and ${baselineColor} (${Math.round(windowMs / 1000)}s)` });
  const end = Date.now();
  const start = end - windowMs;
  const baselineEnd = where === 'canary' ? end : Math.min(opts.baselineEnd ?? start, start);
  const windows = {
    canary: { color, start: new Date(start).toISOString(), end: new Date(end).toISOString() },
    baseline: { color: baselineColor, start: new Date(baselineEnd - windowMs).toISOString(), end: new Date(baselineEnd).toISOString() },
  };
  run.compare = { windows, metrics: [] };

  /** The series' values in a window; a failing backend is retried up to consecutiveErrorLimit times. */
  const sample = async (metric: string, query: string, side: 'canary' | 'baseline', from: number, to: number): Promise<{ values: number[] } | { error: string }> => {
    for (let attempt = 0; ; attempt++) {
      const options = { startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 }, summary: `measure ${name}${analysis.metrics.length > 1 ? `/${metric}` : ''} on ${side === 'canary' ? color : baselineColor}` };
      const request = { query, range: { start: new Date(from).toISOString(), end: new Date(to).toISOString(), stepMs: analysis.interval } };
      const observations = localCalls() ? await local.metrics.measure.executeWithOptions(options, [request]) : await metrics.measure.executeWithOptions(options, [request]);
      const failed = observations.find((o) => o.observation.kind === 'error');
      const tag = analysis.metrics.length > 1 ? { metric } : {};
      if (!failed) {
        const values: number[] = [];
        for (const { at, observation } of observations) {
          if (observation.kind === 'value') {
            const value = toNumber(observation.value); // non-finite values are dropped by the judge
            values.push(value);
            const recorded = toMetricValue(value);
            run.measurements.push({ at, phase: 'Successful', ...tag, ...(side === 'canary' ? { value: recorded } : { baseline: recorded }) });
          } else if (observation.kind === 'empty') {
            run.measurements.push({ at, phase: 'Inconclusive', ...tag, message: `${side}: ${observation.message}` });
          }
        }
        return { values };
      }
      const message = failed.observation.kind === 'error' ? failed.observation.message : 'error';
      run.measurements.push({ at: failed.at, phase: 'Error', ...tag, message: `${side}: ${message}` });
      if (attempt >= analysis.consecutiveErrorLimit) return { error: message };
      await sleep(analysis.interval, { summary: `retry ${name} measurement` });
    }
  };

  const results = await Promise.all(
    analysis.metrics.map(async (metric): Promise<CompareMetricResult & { backendDown: boolean }> => {
      const [canary, baseline] = await Promise.all([
        sample(metric.name, render(metric.query, color), 'canary', start, end),
        sample(metric.name, render(metric.query, baselineColor), 'baseline', baselineEnd - windowMs, baselineEnd),
      ]);
      // a single-metric analysis (`query:` shorthand) is named after the analysis itself
      const base = { name: analysis.metrics.length === 1 ? name : metric.name, weight: metric.weight, critical: metric.critical };
      if ('error' in canary || 'error' in baseline) {
        const why = 'error' in canary ? canary.error : 'error' in baseline ? baseline.error : '';
        return { ...base, classification: 'NoData', verdict: 'NoData', reason: `metrics backend failing after ${analysis.consecutiveErrorLimit + 1} attempts: ${why}`, backendDown: true };
      }
      const judged = classifyMetric(
        { canary: canary.values, baseline: baseline.values },
        { direction: metric.direction, confidence: analysis.confidence, minEffect: analysis.minEffect, outliers: analysis.outliers },
      );
      return { ...base, ...metricRecord(judged), backendDown: false };
    }),
  );
  run.compare.metrics = results.map(({ backendDown: _, ...r }) => r);
  const verdict = compareRunVerdict(results, { passScore: analysis.passScore, marginalScore: analysis.marginalScore });
  if (verdict.score !== undefined) run.compare.score = verdict.score;
  return { phase: verdict.phase, reason: verdict.reason };
}
