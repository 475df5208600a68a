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
import { causeOfFailure, endingFailure, isEndingFailureType, type Cause, type Outcome, type ReleaseResult } from '../core/status.js';
import { clustersToUndo, planWaves, type ClusterPhase, type PlannedWave } from '../core/waves.js';
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

/** One cluster's part as the parent follows it. */
interface Part {
  cluster: ClusterSpec;
  wave: number;
  phase: ClusterPhase;
  /** Start order (0 first): the rollback goes newest first. */
  seq: number;
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
  committing = false;
  rollingBack = false;
  baking: { wave: number; until: string } | undefined;
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
  const w = new Waves();
  setHandler(clusterAtGateSignal, (at) => void w.atGate.push(at), { description: "Sent by a cluster's part when its approval gate opens: it waits for this release's decision." });
  setHandler(
    clusterReleasedSignal,
    ({ cluster }) => {
      const part = w.parts.get(cluster);
      if (part && part.phase === 'releasing') part.phase = 'released';
    },
    { description: "Sent by a cluster's part once released: it waits for this release to commit it or roll it back." },
  );
  ctx.record('release-started', `release ${ctx.releaseId} started by ${ctx.initiator}: ${ctx.spec.clusters?.length ?? 0} clusters in ${ctx.spec.waves?.length ?? 0} waves`, { stage: 'release' });
  let ending: Ending = { outcome: 'released' };
  try {
    ctx.requests.pipelineScope = new CancellationScope();
    await ctx.requests.pipelineScope.run(() => pipeline(ctx, w));
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

async function pipeline(ctx: ReleaseContext, w: Waves): Promise<void> {
  await verifyStart(ctx);
  await lock(ctx);
  await build(ctx);
  const clusters = new Map((ctx.spec.clusters ?? []).map((c) => [c.name, c]));
  const plan = planWaves(ctx.spec.waves ?? []);
  for (const wave of plan) {
    ctx.setStage('waves');
    ctx.record('wave-started', `wave ${wave.index + 1} (${wave.name}) started: ${wave.batches.flat().join(', ')}${wave.batches.length > 1 ? `, at most ${wave.batches[0]?.length ?? 1} at a time` : ''}`, { stage: 'release' });
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
  const entry: Part = {
    cluster,
    wave: wave.index,
    phase: 'releasing',
    seq: w.parts.size,
    releaseId,
    handle,
    result: handle.result().then(
      (r) => r,
      (err: unknown) => partResult(releaseId, err),
    ),
  };
  w.parts.set(cluster.name, entry);
  void entry.result.then((r) => {
    entry.ended = r;
    if (r.outcome !== 'released' && entry.phase !== 'undone') entry.phase = 'rolled-back';
    // a part that stops before the release is committed stops the release
    if (!w.committing && !w.rollingBack && !w.stoppedBy && r.outcome !== 'released') {
      w.stoppedBy = entry;
      ctx.requests.pipelineScope?.cancel();
    }
  });
  ctx.record('cluster-started', `${cluster.name} started (context ${cluster.context}): ${releaseId}${first ? ', with staging' : ''}`, { stage: 'release' });
}

/** Waits until every part of the batch has released, deciding the approval gates they reach. */
async function untilReleased(ctx: ReleaseContext, w: Waves, wave: PlannedWave, batch: string[]): Promise<void> {
  const per = (service: string): string => (approvalRule(ctx, service)?.per === 'wave' ? `${wave.index}/${service}` : service);
  for (;;) {
    await condition(() => w.atGate.length > 0 || batch.every((c) => w.parts.get(c)?.phase === 'released'));
    const at = w.atGate.shift();
    if (!at) return;
    const part = w.parts.get(at.cluster);
    if (!part) continue;
    const key = per(at.service);
    let by = w.decided.get(key);
    if (by === undefined) {
      const rule = approvalRule(ctx, at.service);
      if (!rule) throw raise('InvalidSpec', `${at.cluster} waits for the approval of ${at.service}, which has no approval gate`);
      ctx.setStage('approval');
      ctx.serviceStatus(at.service).stages.approval = 'running';
      await approval(ctx, { svc: ctx.specOf.get(at.service) as ReleaseSpec['services'][number], status: ctx.serviceStatus(at.service) }, rule);
      ctx.serviceStatus(at.service).stages.approval = 'done';
      const gate = ctx.serviceStatus(at.service).approvals.map((a) => a.by);
      by = gate.length > 0 ? `approved by ${gate.join(', ')}` : 'the approval timed out; proceeding (onTimeout: proceed)';
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
  if (wave.bakeMs <= 0) return;
  const until = new Date(Date.now() + wave.bakeMs).toISOString();
  w.baking = { wave: wave.index, until };
  ctx.setStage('bake');
  ctx.record('wave-baking', `wave ${wave.index + 1} (${wave.name}) released in ${wave.batches.flat().join(', ')}; baking until ${until}`, { stage: 'release' });
  await sleep(wave.bakeMs, { summary: `bake of wave ${wave.index + 1} (${wave.name})` });
  w.baking = undefined;
  ctx.record('wave-baked', `wave ${wave.index + 1} (${wave.name}) baked`, { stage: 'release' });
}

/** Every wave released and baked: each part scales its old color down and ends released. */
async function commit(ctx: ReleaseContext, w: Waves): Promise<void> {
  w.committing = true;
  ctx.setStage('scale-down');
  const parts = [...w.parts.values()];
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
  if (stopped && w.stoppedBy) {
    outcome = stopped.outcome === 'rejected' || stopped.outcome === 'aborted' ? stopped.outcome : 'rolled-back';
    cause = stopped.cause ?? 'error';
    reason = `${w.stoppedBy.cluster.name}: ${stopped.reason ?? stopped.outcome}`;
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
  const undo = clustersToUndo([...w.parts.values()].map((p) => ({ cluster: p.cluster.name, phase: p.ended ? 'rolled-back' : p.phase, startedSeq: p.seq })));
  ctx.setStage('rollback');
  ctx.record('stopped', `${outcome}: ${reason}${undo.length > 0 ? `; rolling back ${undo.join(', ')} (newest first)` : ''}`, { stage: 'rollback' });
  const incomplete: string[] = [];
  await CancellationScope.nonCancellable(async () => {
    for (const name of undo) {
      const part = w.parts.get(name);
      if (!part) continue;
      part.phase = 'undone';
      await part.handle.signal(clusterRollBackSignal, { reason }).catch(() => undefined);
      const r = await part.result;
      const rolledBack = r.outcome === 'aborted' || r.outcome === 'rolled-back' || r.outcome === 'rejected';
      if (!rolledBack) incomplete.push(`${name} ended ${r.outcome}${r.reason ? `: ${r.reason}` : ''}`);
      ctx.record('cluster-undone', `${name} rolled back (${r.outcome})`, { stage: 'rollback' });
    }
  });
  if (incomplete.length > 0) return { outcome: 'failed', cause, reason: `${reason}; rollback incomplete: ${incomplete.join('; ')}` };
  if (outcome === 'failed' && w.parts.size > 0) outcome = 'rolled-back';
  return { outcome, cause, reason };
}
