// The lock stage: one lock workflow per service, so that two releases never change a service at the
// same time; superseding a running release (it rolls back first) and breaking a dead holder's lock.
// The locks are given back once the release has ended, whatever the outcome.
import {
  ChildWorkflowCancellationType,
  condition,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { lockedMessage, lockOrder, serviceLockId, serviceLockStart } from '../core/ids.js';
import { abortSignal, lockFreedSignal, unlockSignal } from './definitions.js';
import { serviceLock } from './lock.js';
import { coordination, failureMessage } from './release-activities.js';
import { ReleaseStop, type ReleaseContext } from './release-context.js';
import { failure } from '../core/failures.js';

/** Locks every service of the release (in name order; in every cluster of a release across clusters), then reports the release pending on GitHub. */
export async function lock(ctx: ReleaseContext): Promise<void> {
  // a cluster's part: its parent holds the lock of every service in every cluster for the whole release;
  // a roll back sent before its pipeline existed (its first task) stops it here, as an abort stops a release below
  if (ctx.part) {
    const early = ctx.requests.abort;
    if (early) throw new ReleaseStop('aborted', 'aborted', `aborted by ${early.by}: ${early.reason}`);
    return;
  }
  // (one lock per service, or with clusters per service and cluster: service@context)
  for (const key of lockOrder(ctx.spec.services, (ctx.spec.clusters ?? []).map((c) => c.context))) await acquireLock(ctx, key);
  const abort = ctx.requests.abort;
  if (abort) throw new ReleaseStop('aborted', abort.supersededBy ? 'superseded' : 'aborted', abort.reason);
  ctx.record('locked', `locked ${ctx.heldLocks.join(', ')}`, { stage: 'release' });
  await ctx.github.commitStatus('pending', `${ctx.releaseId} is being released`);
}

/**
 * Gives back every lock held, and tells a superseding release each lock is free. Locks the client
 * took for the release (`locksTaken`) are given back too when the release stopped before it
 * confirmed them (refused at its start): the lock ignores an unlock from a release it does not name.
 */
export async function unlock(ctx: ReleaseContext): Promise<void> {
  const { releaseId, requests } = ctx;
  const unconfirmed = ctx.locksTaken.filter((service) => !ctx.heldLocks.includes(service));
  for (const service of [...ctx.heldLocks, ...unconfirmed]) {
    await getExternalWorkflowHandle(serviceLockId(service))
      .signal(unlockSignal, releaseId)
      .catch((err: unknown) => log.warn('could not unlock', { service, error: failureMessage(err) }));
    if (requests.abort?.supersededBy) {
      await getExternalWorkflowHandle(requests.abort.supersededBy)
        .signal(lockFreedSignal, service)
        .catch((err: unknown) => log.warn('could not tell the superseding release', { service, error: failureMessage(err) }));
    }
  }
}

async function acquireLock(ctx: ReleaseContext, service: string): Promise<void> {
  const { releaseId, requests } = ctx;
  let signalled = false;
  const giveUpAt = Date.now() + 3_600_000;
  if (ctx.locksTaken.includes(service)) {
    // taken by the client that started this release: confirmed where it is held, or taken as usual
    // below if it was lost in between (broken as stale by another release)
    const held = await coordination.describeServiceLock({ service });
    if (held.holder === releaseId) {
      ctx.heldLocks.push(service);
      return;
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await startChild(serviceLock, {
        ...serviceLockStart(service, releaseId),
        // The lock outlives this run's scopes: an abort cancels the pipeline, never the lock, which
        // is released explicitly after the rollback (or notices that its holder is gone).
        parentClosePolicy: ParentClosePolicy.ABANDON,
        cancellationType: ChildWorkflowCancellationType.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
      ctx.heldLocks.push(service);
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    const held = await coordination.describeServiceLock({ service });
    if (held.holder === releaseId) {
      ctx.heldLocks.push(service);
      return;
    }
    if (!held.holder) continue; // released between our start and the describe: try again
    if (!held.holderRunning) {
      ctx.record('lock-broken', `breaking stale lock on ${service} held by ${held.holder}, which no longer runs`, { stage: 'release' });
      await coordination.breakStaleLock({ service, holder: held.holder });
      continue;
    }
    if (!ctx.supersede) {
      throw new ReleaseStop('failed', 'locked', lockedMessage(service, held.holder));
    }
    if (!signalled) {
      ctx.record('superseding', `superseding ${held.holder}: asking it to roll back`, { service });
      await getExternalWorkflowHandle(held.holder).signal(abortSignal, {
        by: ctx.initiator,
        reason: `superseded by ${releaseId}`,
        supersededBy: releaseId,
        // a release that requires signed decisions takes a supersede only with the newer release's verified signed start
        ...(ctx.status.initiatorProof && ctx.signedStart ? { startProof: ctx.signedStart } : {}),
      });
      signalled = true;
    }
    if (Date.now() > giveUpAt) throw failure('SupersedeTimeout', `${held.holder} did not finish rolling back within an hour`);
    // The superseded release signals lockFreed once it has unlocked; the timer is only a fallback
    // (2 s, 4 s, 8 s, then every 16 s) for a holder that ends without signalling.
    // A lockFreed that already arrived means: retry at once (and wait normally next time).
    if (!requests.freedLocks.delete(service)) {
      await condition(() => requests.freedLocks.has(service), 2_000 * 2 ** Math.min(attempt, 3), { summary: `waiting for ${held.holder} to roll back` });
    }
  }
}
