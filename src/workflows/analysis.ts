// Running a step's analyses: every analysis of the step at once, each as one run in `status`, and
// what their verdicts mean for the release (roll back, pause, go on). The measuring is in
// analysis-threshold.ts and analysis-compare.ts; the wait for a clean window in analysis-window.ts.
import { CancellationScope, patched } from '@temporalio/workflow';
import type { RunVerdict } from '../core/analysis.js';
import type { TrafficBack, WatchRequest } from '../activities/types.js';
import type { Stage } from '../core/plan.js';
import type { Color } from '../core/snapshot.js';
import type { AnalysisRun } from '../core/status.js';
import { renderQuery } from '../core/template.js';
import type { ServiceSpec } from '../core/release-spec.js';
import { runCompare } from './analysis-compare.js';
import { measureThreshold } from './analysis-threshold.js';
import { waitForWindow } from './analysis-window.js';
import { ReleaseStop, type ReleaseContext } from './release-context.js';
import { PATCHES } from './patches.js';
import { failure } from '../core/failures.js';
import { analysisVerdict } from './release-metrics.js';

export interface AnalysisOptions {
  /** Canary step index. */
  step?: number;
  /** Monitor window length. */
  windowMs?: number;
  /** The stable color. */
  baselineColor?: Color;
  /** Compare analyses outside the canary: the baseline is the window ending here (before the change). */
  baselineEnd?: number;
  /** Monitor window: the service's traffic undo, for its watch to run at a Failed verdict (src/activities/watch-traffic.ts). */
  onFailed?: WatchRequest['onFailed'];
  /** Monitor window: what a watch did about traffic at its Failed verdict, for the record. */
  trafficBack?: (name: string, back: TrafficBack) => void;
}

/** Renders an analysis query for a color of the service. */
export type RenderQuery = (template: string, forColor: Color | 'staging') => string;

export async function runAnalyses(ctx: ReleaseContext, svc: ServiceSpec, where: Stage, names: string[], color: Color | 'staging', opts: AnalysisOptions = {}): Promise<void> {
  const at = where === 'canary' && opts.step !== undefined ? `canary step ${opts.step + 1}` : where;
  const pauseAt = { stage: where, ...(where === 'canary' && opts.step !== undefined ? { step: opts.step + 1 } : {}) };
  /** A verdict that ends the release now, or undefined (Successful, or Inconclusive under "pause"). */
  const stopFor = (name: string, verdict: RunVerdict): ReleaseStop | undefined => {
    if (verdict.phase === 'Failed') return new ReleaseStop('rolled-back', 'analysis', `analysis ${name} failed at ${at} of ${svc.service}: ${verdict.reason ?? 'failed'}`);
    if (verdict.phase === 'Inconclusive' && ctx.spec.analyses[name]?.onInconclusive === 'rollback') {
      return new ReleaseStop('rolled-back', 'analysis', `analysis ${name} inconclusive at ${at} of ${svc.service}: ${verdict.reason ?? 'inconclusive'}`);
    }
    return undefined;
  };
  let verdicts: RunVerdict[];
  if (patched(PATCHES.analysisFailFast.id)) {
    // The first verdict that rolls back acts at once: the analyses still measuring are cancelled
    // (their runs are recorded as cut short), so traffic leaves a bad canary within seconds.
    const scope = new CancellationScope();
    const runs = names.map((name) =>
      scope.run(async () => {
        const verdict = await runAnalysis(ctx, svc, where, name, color, opts);
        const stop = stopFor(name, verdict);
        if (stop) throw stop;
        return verdict;
      }),
    );
    try {
      verdicts = await Promise.all(runs);
    } catch (err) {
      scope.cancel();
      await Promise.allSettled(runs);
      for (const run of ctx.status.analyses.filter((a) => a.phase === 'Running' && a.service === svc.service && a.stage === where)) {
        run.phase = 'Inconclusive';
        run.reason = 'cut short: another analysis of this step decided the rollback';
        run.endedAt = ctx.now();
      }
      throw err;
    }
  } else {
    // how releases started before fail-fast replay: every verdict first, then act in order
    verdicts = await Promise.all(names.map((name) => runAnalysis(ctx, svc, where, name, color, opts)));
    for (const [i, verdict] of verdicts.entries()) {
      const name = names[i] ?? '?';
      const stop = stopFor(name, verdict);
      if (stop) throw stop;
      if (verdict.phase === 'Inconclusive') await ctx.pause({ code: 'analysis-inconclusive', service: svc.service, analysis: name, ...pauseAt }, `analysis ${name} inconclusive at ${at} of ${svc.service}: ${verdict.reason ?? 'inconclusive'} — promote to continue, abort to roll back`);
    }
    return;
  }
  for (const [i, verdict] of verdicts.entries()) {
    if (verdict.phase === 'Inconclusive') {
      await ctx.pause({ code: 'analysis-inconclusive', service: svc.service, analysis: names[i] ?? '?', ...pauseAt }, `analysis ${names[i] ?? '?'} inconclusive at ${at} of ${svc.service}: ${verdict.reason ?? 'inconclusive'} — promote to continue, abort to roll back`);
    }
  }
}

/** One analysis as one run in `status`: its window, its measurements, its verdict. */
async function runAnalysis(ctx: ReleaseContext, svc: ServiceSpec, where: Stage, name: string, color: Color | 'staging', opts: AnalysisOptions): Promise<RunVerdict> {
  const analysis = ctx.spec.analyses[name];
  if (!analysis) throw failure('InvalidSpec', `unknown analysis ${name}`);
  const namespace = color === 'staging' ? svc.staging?.namespace : svc.production.namespace;
  const render: RenderQuery = (template, forColor) =>
    renderQuery(template, {
      service: svc.service,
      version: svc.version,
      color: forColor,
      ...(opts.baselineColor ? { baselineColor: opts.baselineColor } : {}),
      ...(namespace ? { namespace } : {}),
      ...(ctx.part ? { cluster: ctx.part.cluster.name } : {}),
    });
  // (a compare analysis of the query era has its query as its one metric: upgradeReleaseInput)
  const template = analysis.kind === 'threshold' ? analysis.query : (analysis.metrics[0]?.query ?? '');
  const query = render(template, color);
  const run: AnalysisRun = {
    id: `${svc.service}/${where}${opts.step !== undefined ? `/${opts.step}` : ''}/${name}`,
    analysis: name,
    kind: analysis.kind,
    service: svc.service,
    stage: where,
    ...(opts.step !== undefined ? { step: opts.step } : {}),
    color,
    query,
    phase: 'Running',
    startedAt: ctx.now(),
    measurements: [],
  };
  ctx.status.analyses.push(run);
  await waitForWindow(ctx, svc, where, name, analysis, color);
  let verdict: RunVerdict;
  if (analysis.kind === 'compare') {
    if (!patched(PATCHES.compareJudge.id)) {
      // How releases started before the compare judge existed replay: a compare analysis never passed.
      run.phase = 'Inconclusive';
      run.reason = 'the compare judge is not implemented yet';
      ctx.record('analysis-verdict', `analysis ${name}: Inconclusive (${run.reason})`, { service: svc.service, stage: where });
      return { phase: 'Inconclusive', reason: run.reason };
    }
    verdict = await runCompare(where, name, analysis, color, opts, run, render);
  } else {
    verdict = await measureThreshold(name, analysis, color, query, opts, run);
  }
  run.endedAt = ctx.now();
  run.phase = verdict.phase;
  if (verdict.reason) run.reason = verdict.reason;
  ctx.record('analysis-verdict', `analysis ${name}: ${verdict.phase}${verdict.reason ? ` (${verdict.reason})` : ''}`, { service: svc.service, stage: where });
  analysisVerdict(analysis.kind, verdict.phase, where);
  return verdict;
}
