// The monitor stage: the new color serves everything while the monitor analyses hold for the whole
// window (or the window just passes); the old color stays warm meanwhile, for an instant rollback.
import { sleep } from '@temporalio/workflow';
import type { TrafficBack } from '../activities/types.js';
import type { ProductionSpec } from '../core/release-spec.js';
import { runAnalyses } from './analysis.js';
import type { ReleaseContext, ServiceRun } from './release-context.js';

export async function monitor(ctx: ReleaseContext, { svc, snapshot, newColor, trafficMovedAt }: ServiceRun, mon: NonNullable<ProductionSpec['monitor']>): Promise<void> {
  if (mon.analyses.length === 0) {
    await sleep(mon.duration, { summary: `monitor ${svc.service}` });
    return;
  }
  // The saga's traffic undo goes with each watch: at a Failed verdict the watch runs it before it
  // answers, so traffic leaves the new color within an interval even when this release's worker is lost.
  const undo = ctx.compensations.find((c) => c.service === svc.service && c.action.type === 'restoreTraffic')?.action;
  const expected = ctx.expectedTraffic.get(svc.service);
  const onFailed = undo?.type === 'restoreTraffic' && expected ? { target: undo.target, snapshot: undo.snapshot, expected } : undefined;
  const trafficBack = (name: string, back: TrafficBack): void => {
    if (back.outcome !== 'left') ctx.trafficUndoneEarly.add(svc.service);
    const at = back.at.slice(11, 19);
    const to = `${svc.service} traffic to ${snapshot.activeColor}`;
    const event =
      back.outcome === 'restored'
        ? `monitor: analysis ${name} failed; its watch returned ${to} at ${at}, before the rollback`
        : back.outcome === 'left'
          ? `monitor: analysis ${name} failed; ${svc.service} traffic changed outside this release (${back.detail ?? 'drift'}); its watch left it as it is`
          : `monitor: analysis ${name} failed; its watch could not return ${to} (${back.detail ?? 'error'}); the rollback does`;
    ctx.record('traffic-back', event, { service: svc.service, stage: 'monitor' });
  };
  await runAnalyses(ctx, svc, 'monitor', mon.analyses, newColor, {
    windowMs: mon.duration,
    baselineColor: snapshot.activeColor,
    ...(trafficMovedAt !== undefined ? { baselineEnd: trafficMovedAt } : {}),
    ...(onFailed ? { onFailed, trafficBack } : {}),
  });
}
