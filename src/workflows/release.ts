// The release workflow as its stage list: start verified → lock → build → per service, in the order
// and with the stages src/core/plan.ts plans (staging, canary, approval, switch, monitor) → scale
// down. Each stage is its own module (stage-*.ts) acting on one ReleaseContext; every forward effect
// registers its undo first, and any failure, rejection, abort or timeout runs the undos
// (release-rollback.ts) in a scope that cannot be cancelled. All decisions come from src/core; activities only act and observe.
import { allHandlersFinished, CancellationScope, condition, getExternalWorkflowHandle, patched } from '@temporalio/workflow';
import type { ClusterPart } from '../core/release-input.js';
import { clusterReleasedSignal } from './definitions.js';
import { waveEvents } from '../core/waves.js';
import { failure as raise } from '../core/failures.js';
import type { PlannedStage } from '../core/plan.js';
import { endingFailure, type ReleaseResult } from '../core/status.js';
import { PATCHES } from './patches.js';
import { upgradeReleaseInput, type StoredReleaseInput } from '../core/release-input.js';
import { ReleaseContext, type Ending, type ServiceRun } from './release-context.js';
import { askEveryPatch } from './release-activities.js';
import { installHandlers } from './release-handlers.js';
import { rollBack } from './release-rollback.js';
import { approval } from './stage-approval.js';
import { build } from './stage-build.js';
import { canary } from './stage-canary.js';
import { lock, unlock } from './stage-lock.js';
import { monitor } from './stage-monitor.js';
import { scaleDown } from './stage-scale-down.js';
import { snapshot } from './stage-snapshot.js';
import { staging } from './stage-staging.js';
import { verifyStart } from './stage-start.js';
import { switchTraffic } from './stage-switch.js';
import { awaitWindow, GATED_STAGES } from './stage-window.js';
import { stageEnded } from './release-metrics.js';
import { runHooks } from './stage-hooks.js';
import { hookSchedule } from '../core/hooks.js';

export async function release(stored: StoredReleaseInput): Promise<ReleaseResult> {
  const atStart = askEveryPatch();
  const ctx = new ReleaseContext(upgradeReleaseInput(stored), atStart);
  installHandlers(ctx);
  ctx.record('release-started', `release ${ctx.releaseId} started by ${ctx.initiator}`, { stage: 'release' });
  let ending: Ending = { outcome: 'released' };
  try {
    // an abort cancels this scope: the forward stages stop where they are, the rollback runs
    ctx.requests.pipelineScope = new CancellationScope();
    await ctx.requests.pipelineScope.run(() => pipeline(ctx));
  } catch (err) {
    ending = await rollBack(ctx, err);
  } finally {
    await CancellationScope.nonCancellable(() => unlock(ctx));
  }
  await CancellationScope.nonCancellable(() => ctx.github.outcome(ending));
  // a decision being verified when the release ends finishes (and is recorded) before the result
  await condition(allHandlersFinished);
  const result = ctx.conclude(ending);
  if (ctx.notifier) {
    ctx.notifier.ended(result);
    await ctx.notifier.drain();
  }
  // a release that did not ship ends as a failed workflow carrying its whole result (red in the UI's list)
  const ended = endingFailure(result);
  if (ended && patched(PATCHES.failedEnding.id)) throw raise(ended.type, ended.message, { details: [result] });
  return result;
}

/** The forward stages; a stop anywhere throws. */
async function pipeline(ctx: ReleaseContext): Promise<void> {
  await verifyStart(ctx);
  await lock(ctx);
  await build(ctx);
  const services = await snapshot(ctx);
  // asked by every release once (so that releases started before hook stages replay without them)
  const hookStages = patched(PATCHES.hookStages.id);
  for (const service of services) {
    ctx.status.service = service.svc.service;
    const hooks = hookSchedule(service.stages);
    for (const [i, planned] of service.stages.entries()) {
      // hooks before a stage run once its window is open (a migration waits out a freeze too)
      const before = hookStages ? (hooks[i]?.before ?? []) : [];
      await stage(ctx, service, planned, async () => {
        for (const point of before) await runHooks(ctx, service, point);
      });
      if (hookStages) for (const point of hooks[i]?.after ?? []) await runHooks(ctx, service, point);
    }
  }
  // a cluster's part waits for its parent: the whole release may still roll this cluster back
  if (ctx.part) await awaitCommit(ctx, ctx.part);
  // old colors stay warm for an instant rollback, then scale down
  await scaleDown(ctx, services);
}

/** What one planned stage of a service does. */
function run(ctx: ReleaseContext, service: ServiceRun, planned: Exclude<PlannedStage, { skipped: true }>): Promise<void> {
  switch (planned.stage) {
    case 'staging':
      return staging(ctx, service, planned.staging);
    case 'canary':
      return canary(ctx, service, planned.steps);
    case 'approval':
      return approval(ctx, service, planned.approval);
    case 'switch':
      return switchTraffic(ctx, service);
    case 'monitor':
      return monitor(ctx, service, planned.monitor);
  }
}

/**
 * A stage as `status` shows it: running, then done or failed; skipped when the spec leaves it out.
 * `before` (the hooks due before it) runs once the calendar lets the stage start.
 */
async function stage(ctx: ReleaseContext, service: ServiceRun, planned: PlannedStage, before: () => Promise<void>): Promise<void> {
  const name = planned.stage;
  const { service: id } = service.svc;
  if ('skipped' in planned) {
    ctx.record('stage-skipped', `${name} skipped (not in the spec)`, { service: id, stage: name });
    return;
  }
  const st = service.status;
  ctx.status.service = id;
  if (GATED_STAGES.has(name) && patched(PATCHES.releaseCalendar.id)) await awaitWindow(ctx, id, name);
  await before();
  ctx.setStage(name);
  st.stages[name] = 'running';
  ctx.record('stage-started', `${name} started`, { service: id, stage: name });
  const startedAt = Date.now();
  try {
    await run(ctx, service, planned);
    st.stages[name] = 'done';
    ctx.record('stage-done', `${name} done`, { service: id, stage: name });
    stageEnded(name, 'done', Date.now() - startedAt);
  } catch (err) {
    st.stages[name] = 'failed';
    stageEnded(name, 'failed', Date.now() - startedAt);
    throw err;
  }
}

/**
 * A cluster's part once released: tells the parent, and keeps the old color warm until the parent
 * commits it (every wave released) — or rolls it back (the clusterRollBack signal is an abort).
 */
async function awaitCommit(ctx: ReleaseContext, part: ClusterPart): Promise<void> {
  ctx.setStage('waves');
  ctx.record('cluster-released', `${waveEvents.clusterReleased(part.cluster.name).event} (${part.parent} commits it once every wave has released, or rolls it back)`, { stage: 'release' });
  await getExternalWorkflowHandle(part.parent).signal(clusterReleasedSignal, { cluster: part.cluster.name });
  await condition(() => ctx.requests.committed);
  ctx.record('committed', `committed by ${part.parent}: every wave released`, { stage: 'release' });
}
