// The minimum-traffic rule: an analysis measures only once its query's window holds traffic from
// after the last change, so that a verdict never judges a mix of before and after.
import { patched, sleep } from '@temporalio/workflow';
import type { Stage } from '../core/plan.js';
import { longestWindowMs, waitBeforeMeasuringMs } from '../core/promql.js';
import type { Color } from '../core/snapshot.js';
import type { AnalysisSpec, ServiceSpec } from '../core/release-spec.js';
import type { ReleaseContext } from './release-context.js';
import { PATCHES } from './patches.js';

/**
 * The first measurement waits until `initialDelay` (by default the query's longest range window)
 * after the last traffic change of what it measures, so that a window right after a weight change
 * holds the new traffic only — never a 0/0 from a color that had no requests yet, nor a mix of
 * before and after.
 */
export async function waitForWindow(ctx: ReleaseContext, svc: ServiceSpec, where: Stage, name: string, analysis: AnalysisSpec, color: Color | 'staging'): Promise<void> {
  // (a compare analysis of the query era has its query as its one metric: upgradeReleaseInput)
  const queries = analysis.kind === 'threshold' ? [analysis.query] : analysis.metrics.map((m) => m.query);
  const delayMs = analysis.initialDelay ?? longestWindowMs(queries);
  const changedAt = ctx.trafficChangedAt.get(`${svc.service}/${color === 'staging' ? 'staging' : 'production'}`);
  const waitMs = waitBeforeMeasuringMs({ delayMs, now: Date.now(), ...(changedAt !== undefined ? { changedAt } : {}) });
  // (releases recorded before this rule measured at once)
  if (waitMs <= 0 || !patched(PATCHES.analysisInitialDelay.id)) return;
  ctx.record('analysis-delayed', `analysis ${name}: first measurement in ${Math.ceil(waitMs / 1000)}s, once its ${Math.round(delayMs / 1000)}s window holds only traffic after the last change`, { service: svc.service, stage: where });
  await sleep(waitMs, { summary: `${name}: wait for the window to hold only new traffic` });
}
