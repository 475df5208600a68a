// A release across clusters: the spec's services released to each of its clusters by one `release`
// child per cluster (its "part", input contract 5), wave after wave, each wave baked before the next
// starts. This parent holds the locks (service@context), runs the build gate, holds the approval
// gate (once for the release, or once per wave), reports to GitHub and notifies. A part that fails,
// is rejected or aborted, a rejection here, or an abort of the release rolls back every part started,
// newest first, each traffic first; only when every wave has baked are the parts committed (their old
// colors scaled down). The order comes from src/core/waves.ts; this module only follows it.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  condition,
  isCancellation,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { failure as raise } from '../core/failures.js';
import { upgradeReleaseInput, type ClusterPart, type ReleaseInput, type StoredReleaseInput } from '../core/release-input.js';
import type { ClusterSpec, ReleaseSpec } from '../core/release-spec.js';
import { causeOfFailure, endingFailure, isEndingFailureType, type Cause, type ClusterStatus, type Outcome, type ReleaseResult, type WaveStatus } from '../core/status.js';
import { clustersToUndo, planWaves, waveEvents, type PlannedWave } from '../core/waves.js';
import { clusterAtGateSignal, clusterReleasedSignal, clusterRollBackSignal, commitSignal, gateDecisionSignal, type ClusterAtGate } from './definitions.js';
import { askEveryPatch, failureMessage } from './release-activities.js';
import { ReleaseContext, ReleaseStop, type Ending } from './release-context.js';
import { installHandlers } from './release-handlers.js';
import { release } from './release.js';
import { SERVICE_KEY, STAGE_KEY, VERSION_KEY } from './search-attributes.js';
import { approval } from './stage-approval.js';
import { build } from './stage-build.js';
import { lock, unlock } from './stage-lock.js';
import { verifyStart } from './stage-start.js';

/** One cluster's part as the parent follows it; where it stands is its entry in `status.waves`. */
interface Part {
  cluster: ClusterSpec;
  wave: number;
  /** Its line in the status (phase, start order, why it stopped). */
  status: ClusterStatus;
  releaseId: string;
  handle: ChildWorkflowHandle<typeof release>;
  /** Its result once it ended (it resolves whatever the outcome). */
  result: Promise<ReleaseResult>;
  ended?: ReleaseResult;
}

/** What the parent knows of its parts, kept up to date by their signals and results. */
class Waves {
  readonly parts = new Map<string, Part>();
  readonly atGate: ClusterAtGate[] = [];
  /** Gate decisions taken, by `<wave>/<service>` (per: wave) or `<service>` (per: release). */
  readonly decided = new Map<string, string>();
  /** The first part that ended on its own before the release was committed: the release rolls back. */
  stoppedBy: Part | undefined;
  /** Clusters whose part said it released (clusterReleased), by name. */
  readonly released = new Set<string>();
  committing = false;
  rollingBack = false;
  /** The status's waves, in spec order (ReleaseStatus.waves). */
  readonly waves: WaveStatus[];

  constructor(spec: ReleaseSpec, plan: readonly PlannedWave[]) {
    const contexts = new Map((spec.clusters ?? []).map((c) => [c.name, c.context]));
    this.waves = plan.map((w) => ({
      name: w.name,
      index: w.index,
      maxParallel: w.batches[0]?.length ?? 1,
      bakeMs: w.bakeMs,
      state: 'waiting',
      clusters: w.batches.flat().map((cluster) => ({ cluster, context: contexts.get(cluster) ?? '', phase: 'waiting' })),
    }));
  }

  clusterStatus(name: string): ClusterStatus | undefined {
    for (const w of this.waves) for (const c of w.clusters) if (c.cluster === name) return c;
    return undefined;
  }
}

/** The result a part's workflow ended with: a release that did not ship ends as a failed workflow carrying its result. */
function partResult(releaseId: string, err: unknown): ReleaseResult {
  const cause = err instanceof ChildWorkflowFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure && isEndingFailureType(cause.type) && cause.details?.[0]) return cause.details[0] as ReleaseResult;
  const status = { releaseId } as ReleaseResult['status'];
  return { releaseId, outcome: 'failed', cause: 'error', reason: failureMessage(err), status };
}

/** The spec a part releases: the parent's, without what the parent does for all (source, build, clusters, waves); staging only in the first cluster. */
function partSpec(spec: ReleaseSpec, withStaging: boolean): ReleaseSpec {
  const { source: _source, build: _build, clusters: _clusters, waves: _waves, ...rest } = spec;
  return {
    ...rest,
    services: rest.services.map((s) => {
      if (withStaging) return s;
      const { staging: _staging, ...withoutStaging } = s;
      return withoutStaging;
    }),
  };
}

export async function waveRelease(stored: StoredReleaseInput): Promise<ReleaseResult> {
  const ctx = new ReleaseContext(upgradeReleaseInput(stored), askEveryPatch());
  installHandlers(ctx);
  const plan = planWaves(ctx.spec.waves ?? []);
  const w = new Waves(ctx.spec, plan);
  ctx.status.waves = w.waves;
  setHandler(
    clusterAtGateSignal,
    (at) => {
      w.atGate.push(at);
      ctx.record('cluster-at-gate', waveEvents.clusterAtGate(at.cluster).event, { service: at.service, stage: 'approval' });
    },
    { description: "Sent by a cluster's part when its approval gate opens: it waits for this release's decision." },
  );
  setHandler(
    clusterReleasedSignal,
    ({ cluster }) => {
      // (kept by name: a signal handled in the activation that also reports its part started comes before startChild returns)
      w.released.add(cluster);
      const part = w.parts.get(cluster);
      if (part) markReleased(ctx, part);
    },
    { description: "Sent by a cluster's part once released: it waits for this release to commit it or roll it back." },
  );
  ctx.record('release-started', `release ${ctx.releaseId} started by ${ctx.initiator}: ${ctx.spec.clusters?.length ?? 0} clusters in ${ctx.spec.waves?.length ?? 0} waves`, { stage: 'release' });
  let ending: Ending = { outcome: 'released' };
  try {
    ctx.requests.pipelineScope = new CancellationScope();
    await ctx.requests.pipelineScope.run(() => pipeline(ctx, w, plan));
  } catch (err) {
    ending = await rollBackParts(ctx, w, err);
  } finally {
    await CancellationScope.nonCancellable(() => unlock(ctx));
  }
  await CancellationScope.nonCancellable(() => ctx.github.outcome(ending));
  await condition(allHandlersFinished);
  const result = ctx.conclude(ending);
  if (ctx.notifier) {
    ctx.notifier.ended(result);
    await ctx.notifier.drain();
  }
  const ended = endingFailure(result);
  if (ended) throw raise(ended.type, ended.message, { details: [result] });
  return result;
}

async function pipeline(ctx: ReleaseContext, w: Waves, plan: readonly PlannedWave[]): Promise<void> {
  await verifyStart(ctx);
  await lock(ctx);
  await build(ctx);
  const clusters = new Map((ctx.spec.clusters ?? []).map((c) => [c.name, c]));
  for (const wave of plan) {
    ctx.setStage('waves');
    const ws = w.waves[wave.index] as WaveStatus;
    ws.state = 'releasing';
    ctx.record('wave-started', waveEvents.waveStarted(ws, wave.batches.flat()).event, { stage: 'release' });
    for (const batch of wave.batches) {
      for (const name of batch) {
        const cluster = clusters.get(name);
        if (!cluster) throw raise('InvalidSpec', `wave ${wave.name} names cluster ${name}, which the spec does not define`);
        await startPart(ctx, w, wave, cluster);
      }
      await untilReleased(ctx, w, wave, batch);
    }
    await bake(ctx, w, wave);
  }
  await commit(ctx, w);
}

/** Starts the part of one cluster; its end, whenever it comes, is noticed. */
async function startPart(ctx: ReleaseContext, w: Waves, wave: PlannedWave, cluster: ClusterSpec): Promise<void> {
  // a release stopped while its batch starts (a part failed, an abort) touches no further cluster
  if (ctx.requests.pipelineScope?.consideredCancelled) throw new CancelledFailure('the release stopped before this cluster started');
  const first = w.parts.size === 0;
  const releaseId = `${ctx.releaseId}/${cluster.name}`;
  const part: ClusterPart = { parent: ctx.releaseId, cluster, wave: wave.index };
  const input: ReleaseInput = { contract: 5, spec: partSpec(ctx.spec, first), initiator: ctx.initiator, supersede: false, part };
  // started outside the pipeline's scope: an abort of this release rolls its parts back by signal, newest first, not by cancelling them all at once
  const handle = await CancellationScope.nonCancellable(() =>
    startChild(release, {
      workflowId: releaseId,
      args: [input],
      taskQueue: workflowInfo().taskQueue,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      // (this release terminated: its parts are cancelled, and roll back)
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: SERVICE_KEY, value: ctx.spec.name },
        { key: VERSION_KEY, value: ctx.spec.version },
        { key: STAGE_KEY, value: 'lock' },
      ],
      staticSummary: `${ctx.releaseId} in ${cluster.name} (wave ${wave.index + 1}, ${wave.name})`,
    }),
  );
  const status = w.clusterStatus(cluster.name) ?? { cluster: cluster.name, context: cluster.context, phase: 'waiting' };
  Object.assign(status, { phase: 'releasing', releaseId, startedSeq: w.parts.size });
  const entry: Part = {
    cluster,
    wave: wave.index,
    status,
    releaseId,
    handle,
    result: handle.result().then(
      (r) => r,
      (err: unknown) => partResult(releaseId, err),
    ),
  };
  w.parts.set(cluster.name, entry);
  if (w.released.has(cluster.name)) markReleased(ctx, entry);
  void entry.result.then((r) => {
    entry.ended = r;
    // (a part this release rolls back is marked undone by the rollback)
    if (r.outcome === 'released' || w.rollingBack) return;
    status.phase = 'rolled-back';
    status.reason = r.reason ?? r.outcome;
    ctx.record('cluster-stopped', waveEvents.clusterStopped(cluster.name, r.outcome as Exclude<Outcome, 'released'>, r.reason ?? r.outcome).event, { stage: 'release' });
    // a part that stops before the release is committed stops the release
    if (!w.committing && !w.rollingBack && !w.stoppedBy) {
      w.stoppedBy = entry;
      ctx.requests.pipelineScope?.cancel();
    }
  });
  ctx.record('cluster-started', `${waveEvents.clusterStarted(cluster.name, releaseId).event}${first ? ' (with staging)' : ''}`, { stage: 'release' });
}

/** A part that said it released: so in status, once. */
function markReleased(ctx: ReleaseContext, part: Part): void {
  if (part.status.phase !== 'releasing') return;
  part.status.phase = 'released';
  ctx.record('cluster-released', waveEvents.clusterReleased(part.cluster.name).event, { stage: 'release' });
}

/** Waits until every part of the batch has released, deciding the approval gates they reach. */
async function untilReleased(ctx: ReleaseContext, w: Waves, wave: PlannedWave, batch: string[]): Promise<void> {
  const per = (service: string): string => (approvalRule(ctx, service)?.per === 'wave' ? `${wave.index}/${service}` : service);
  for (;;) {
    await condition(() => w.atGate.length > 0 || batch.every((c) => w.parts.get(c)?.status.phase === 'released'));
    const at = w.atGate.shift();
    if (!at) return;
    const part = w.parts.get(at.cluster);
    if (!part) continue;
    const key = per(at.service);
    let by = w.decided.get(key);
    if (by === undefined) {
      const rule = approvalRule(ctx, at.service);
      if (!rule) throw raise('InvalidSpec', `${at.cluster} waits for the approval of ${at.service}, which has no approval gate`);
      const ws = w.waves[wave.index] as WaveStatus;
      ctx.setStage('approval');
      ws.state = 'awaiting-approval';
      const st = ctx.serviceStatus(at.service);
      // the service at the gate, and its gate not yet open: a client's approve waits for it to open (gateSettled)
      ctx.status.service = at.service;
      st.approvalsNeeded = undefined;
      st.gate = undefined;
      st.stages.approval = 'running';
      // each gate's approvals (the approve handler keeps the open gate's; the timeline keeps every wave's)
      st.approvals = [];
      await approval(ctx, { svc: ctx.specOf.get(at.service) as ReleaseSpec['services'][number], status: st }, rule);
      st.stages.approval = 'done';
      ws.state = 'releasing';
      const gate = st.approvals.map((a) => a.by);
      by = gate.length >= rule.minApprovals ? `approved by ${gate.join(', ')}` : 'the approval timed out; proceeding (onTimeout: proceed)';
      w.decided.set(key, by);
      ctx.setStage('waves');
    }
    await part.handle.signal(gateDecisionSignal, { service: at.service, approved: true, by });
  }
}

function approvalRule(ctx: ReleaseContext, service: string): ReleaseSpec['services'][number]['production']['approval'] {
  return ctx.specOf.get(service)?.production.approval;
}

/** The wave's bake: a durable timer, which an abort or a part that stops cuts short. */
async function bake(ctx: ReleaseContext, w: Waves, wave: PlannedWave): Promise<void> {
  const ws = w.waves[wave.index] as WaveStatus;
  if (wave.bakeMs <= 0) {
    ws.state = 'baked';
    return;
  }
  const until = new Date(Date.now() + wave.bakeMs).toISOString();
  ws.state = 'baking';
  ws.bakeUntil = until;
  ctx.setStage('bake');
  ctx.record('wave-baking', waveEvents.waveBaking(ws, until).event, { stage: 'release' });
  await sleep(wave.bakeMs, { summary: `bake of wave ${wave.index + 1} (${wave.name})` });
  ws.state = 'baked';
  ws.bakeUntil = undefined;
  ctx.record('wave-baked', waveEvents.waveBaked(ws).event, { stage: 'release' });
}

/** Every wave released and baked: each part scales its old color down and ends released. */
async function commit(ctx: ReleaseContext, w: Waves): Promise<void> {
  w.committing = true;
  ctx.setStage('scale-down');
  const parts = [...w.parts.values()];
  for (const ws of w.waves) ws.state = 'released';
  ctx.record('committed', waveEvents.committed(parts.length).event, { stage: 'release' });
  for (const part of parts) await part.handle.signal(commitSignal);
  const results = await Promise.all(parts.map((p) => p.result));
  const failed = results.filter((r) => r.outcome !== 'released');
  if (failed.length > 0) throw new ReleaseStop('failed', 'error', `committed, but ${failed.map((r) => `${r.releaseId} ended ${r.outcome}: ${r.reason ?? ''}`).join('; ')}`);
}

/** How the release ends when its pipeline threw `err`, once every part it started is rolled back (newest first). */
async function rollBackParts(ctx: ReleaseContext, w: Waves, err: unknown): Promise<Ending> {
  w.rollingBack = true;
  let outcome: Outcome;
  let cause: Cause;
  let reason: string;
  const stopped = w.stoppedBy?.ended;
  const abort = ctx.requests.abort;
  const incomplete: string[] = [];
  if (stopped && w.stoppedBy) {
    outcome = stopped.outcome === 'released' ? 'failed' : stopped.outcome;
    cause = stopped.cause ?? 'error';
    reason = `${w.stoppedBy.cluster.name}: ${stopped.reason ?? stopped.outcome}`;
    // the part that stopped could not undo all it did in its cluster: the release did not roll back
    if ((stopped.status?.compensations ?? []).some((c) => c.status === 'failed')) incomplete.push(`${w.stoppedBy.cluster.name} could not undo everything (its status names what)`);
  } else if (err instanceof ReleaseStop) {
    outcome = err.outcome;
    cause = err.stopCause;
    reason = err.message;
  } else if (abort && isCancellation(err)) {
    outcome = 'aborted';
    cause = 'aborted';
    reason = `aborted by ${abort.by}: ${abort.reason}`;
  } else {
    outcome = 'failed';
    cause = causeOfFailure(err instanceof ApplicationFailure ? (err.type ?? undefined) : undefined);
    reason = failureMessage(err);
  }
  const undo = clustersToUndo([...w.parts.values()].map((p) => ({ cluster: p.cluster.name, phase: p.ended ? 'rolled-back' : p.status.phase, ...(p.status.startedSeq !== undefined ? { startedSeq: p.status.startedSeq } : {}) })));
  // (after the commit every part has ended: nothing is rolled back, and the waves stay as they shipped)
  if (!w.committing) for (const ws of w.waves) if (ws.clusters.some((c) => c.startedSeq !== undefined)) ws.state = 'rolling-back';
  ctx.setStage('rollback');
  ctx.record('stopped', `${outcome}: ${reason}${undo.length > 0 ? `; rolling back ${undo.join(', ')} (newest first)` : ''}`, { stage: 'rollback' });
  await CancellationScope.nonCancellable(async () => {
    for (const name of undo) {
      const part = w.parts.get(name);
      if (!part) continue;
      const why = w.stoppedBy ? `${w.stoppedBy.cluster.name} failed` : reason;
      await part.handle.signal(clusterRollBackSignal, { reason }).catch(() => undefined);
      const r = await part.result;
      const rolledBack = r.outcome === 'aborted' || r.outcome === 'rolled-back' || r.outcome === 'rejected';
      if (!rolledBack) incomplete.push(`${name} ended ${r.outcome}${r.reason ? `: ${r.reason}` : ''}`);
      Object.assign(part.status, { phase: 'undone', reason: rolledBack ? why : `${why}; its rollback ended ${r.outcome}: ${r.reason ?? ''}` });
      ctx.record('cluster-undone', waveEvents.clusterUndone(name, part.status.reason ?? why).event, { stage: 'rollback' });
    }
  });
  for (const ws of w.waves) if (ws.state === 'rolling-back') ws.state = 'rolled-back';
  if (incomplete.length > 0) return { outcome: 'failed', cause, reason: `${reason}; rollback incomplete: ${incomplete.join('; ')}` };
  if (outcome === 'failed' && undo.length > 0) outcome = 'rolled-back';
  return { outcome, cause, reason };
}
