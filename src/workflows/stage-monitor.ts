// The monitor stage: the new color serves everything while the monitor analyses hold for the whole
// window (or the window just passes); the old color stays warm meanwhile, for an instant rollback.
import { sleep } from '@temporalio/workflow';
import type { ProductionSpec } from '../core/release-spec.js';
import { runAnalyses } from './analysis.js';
import type { ReleaseContext, ServiceRun } from './release-context.js';

export async function monitor(ctx: ReleaseContext, { svc, snapshot, newColor, trafficMovedAt }: ServiceRun, mon: NonNullable<ProductionSpec['monitor']>): Promise<void> {
  if (mon.analyses.length === 0) await sleep(mon.duration, { summary: `monitor ${svc.service}` });
  else await runAnalyses(ctx, svc, 'monitor', mon.analyses, newColor, { windowMs: mon.duration, baselineColor: snapshot.activeColor, ...(trafficMovedAt !== undefined ? { baselineEnd: trafficMovedAt } : {}) });
}
