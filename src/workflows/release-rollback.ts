// The rollback: when the release stops (failure, rejection, abort, timeout), every registered undo
// runs, traffic first, in a scope that cannot be cancelled — each retried in the workflow so that
// every attempt is on record, and skipped or narrowed where traffic changed outside this release.
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, patched, sleep } from '@temporalio/workflow';
import { expectedFromSnapshot, matchesSnapshot, ownTraffic, servingColors, trafficDrift } from '../core/drift.js';
import { rollbackOrder, type Compensation } from '../core/compensation.js';
import type { Color } from '../core/snapshot.js';
import { causeOfFailure, type Cause, type Outcome } from '../core/status.js';
import { failureMessage, TRAFFIC_CALL_TIMEOUT, TRAFFIC_HEARTBEAT_TIMEOUT, undo } from './release-activities.js';
import { ReleaseStop, type Ending, type ReleaseContext } from './release-context.js';
import { observeTraffic } from './release-traffic.js';
import { PATCHES } from './patches.js';
import { compensationAttempt, rollbackEnded } from './release-metrics.js';
import { isPermanentUndoFailure, undoHook } from './stage-hooks.js';

const COMPENSATION_ATTEMPTS = 6;

/** The ApplicationFailure type of a failure thrown in the workflow or by an activity. */
function failureType(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause.type ?? undefined;
  if (err instanceof ApplicationFailure) return err.type ?? undefined;
  return undefined;
}

/** How the release ends when the pipeline threw `err`, once what it did is rolled back. */
export async function rollBack(ctx: ReleaseContext, err: unknown): Promise<Ending> {
  let outcome: Outcome;
  let cause: Cause;
  let reason: string;
  const abort = ctx.requests.abort;
  if (err instanceof ReleaseStop) {
    outcome = err.outcome;
    cause = err.stopCause;
    reason = err.message;
  } else if (abort && isCancellation(err)) {
    outcome = 'aborted';
    cause = abort.supersededBy ? 'superseded' : 'aborted';
    reason = abort.supersededBy ? `superseded by ${abort.supersededBy}` : `aborted by ${abort.by}: ${abort.reason}`;
  } else {
    outcome = 'failed';
    cause = causeOfFailure(failureType(err));
    reason = failureMessage(err);
  }
  const rollingBack = ctx.compensations.length > 0;
  ctx.setStage('rollback');
  ctx.record('stopped', `${outcome}: ${reason}${rollingBack ? '; rolling back' : ''}`, { stage: 'rollback' });
  const stoppedAt = Date.now();
  const failures = await CancellationScope.nonCancellable(() => compensate(ctx));
  if (failures.length > 0) {
    reason = `${reason}; rollback incomplete: ${failures.join('; ')}`;
    outcome = 'failed';
  } else if (outcome === 'failed' && rollingBack) {
    outcome = 'rolled-back';
  }
  if (rollingBack) rollbackEnded(outcome, Date.now() - stoppedAt);
  if (ctx.leftAlone.length > 0) reason = `${reason}; the rollback left alone what changed outside this release: ${ctx.leftAlone.join('; ')}`;
  return { outcome, cause, reason };
}

/**
 * What of an undo is still this release's to do, read from the cluster first (drift guard): a
 * traffic undo is skipped when traffic is neither where the release left it nor back as before
 * (someone else moved it: their change stands), and a workload undo spares every color that
 * serves now but did not before the release (restoring it would take capacity from live traffic).
 */
async function stillOurs(ctx: ReleaseContext, c: Compensation): Promise<{ skip: string } | { spare: Color[] }> {
  const action = c.action;
  if (action.type === 'restoreStaging' || action.type === 'runHook' || !patched(PATCHES.driftGuard.id)) return { spare: [] };
  const router = action.target.traffic?.router;
  const observed = await observeTraffic(action.target, `before: ${c.label}`);
  if (action.type === 'restoreTraffic') {
    const expected = ctx.expectedTraffic.get(c.service);
    const drift = expected ? trafficDrift(expected, observed) : undefined;
    // (after the monitor's watch ran this undo, done or cut short by a failed call, half-way back is this release's own doing)
    const own = expected !== undefined && ctx.trafficUndoneEarly.has(c.service) && ownTraffic(expected, expectedFromSnapshot(action.snapshot, router), observed);
    if (drift && !own && !matchesSnapshot(action.snapshot, router, observed)) return { skip: `${c.service} traffic changed outside this release (${drift}); left as it is` };
    return { spare: [] };
  }
  const before = expectedFromSnapshot(action.snapshot, router);
  const servedBefore = servingColors({ ...before, replicas: { blue: action.snapshot.deployments.blue.replicas, green: action.snapshot.deployments.green.replicas } });
  return { spare: servingColors(observed).filter((color) => !servedBefore.includes(color)) };
}

/** Runs every undo, traffic first; returns the undos that failed. */
async function compensate(ctx: ReleaseContext): Promise<string[]> {
  const failures: string[] = [];
  for (const c of rollbackOrder(ctx.compensations)) {
    const rec = { label: c.label, service: c.service, status: 'pending' as const, attempts: 0, errors: [] as string[] };
    ctx.status.compensations.push(rec);
    const entry = ctx.status.compensations[ctx.status.compensations.length - 1];
    if (!entry) continue;
    const scope = await stillOurs(ctx, c).catch((err: unknown) => ({ failed: `could not read where ${c.service} traffic goes before undoing: ${failureMessage(err)}` }));
    if ('failed' in scope) {
      entry.status = 'failed';
      compensationAttempt(c.action.type, 'failed');
      entry.errors.push(scope.failed);
      failures.push(`${c.label}: ${scope.failed}`);
      ctx.record('rollback-step-failed', `rollback step failed: ${c.label}: ${scope.failed}`, { service: c.service, stage: 'rollback', undo: c.action.type });
      continue;
    }
    if ('skip' in scope) {
      entry.status = 'skipped';
      entry.note = scope.skip;
      ctx.leftAlone.push(`${c.label}: ${scope.skip}`);
      ctx.record('rollback-step-skipped', `rollback: skipped "${c.label}": ${scope.skip}`, { service: c.service, stage: 'rollback', undo: c.action.type });
      continue;
    }
    if (scope.spare.length > 0) {
      entry.note = `left ${scope.spare.join(' and ')} as it is: it serves traffic now`;
      ctx.record('rollback-note', `rollback: ${entry.note}`, { service: c.service, stage: 'rollback', undo: c.action.type });
    }
    for (let attempt = 1; attempt <= COMPENSATION_ATTEMPTS; attempt++) {
      entry.attempts = attempt;
      try {
        const opts = { startToCloseTimeout: '2m', retry: { maximumAttempts: 1 }, summary: c.label };
        if (c.action.type === 'restoreTraffic') await undo.restoreTraffic.executeWithOptions({ ...opts, startToCloseTimeout: TRAFFIC_CALL_TIMEOUT, heartbeatTimeout: TRAFFIC_HEARTBEAT_TIMEOUT }, [{ target: c.action.target, snapshot: c.action.snapshot }]);
        else if (c.action.type === 'restoreWorkloads') {
          await undo.restoreWorkloads.executeWithOptions(opts, [{ target: c.action.target, snapshot: c.action.snapshot, ...(scope.spare.length > 0 ? { spare: scope.spare } : {}) }]);
        } else if (c.action.type === 'runHook') await undoHook(c.action.run);
        else await undo.restoreStaging.executeWithOptions(opts, [{ snapshot: c.action.snapshot }]);
        entry.status = 'done';
        compensationAttempt(c.action.type, 'done');
        ctx.record('rollback-step', `rollback: ${c.label}${attempt > 1 ? ` (attempt ${attempt})` : ''}`, { service: c.service, stage: 'rollback', undo: c.action.type });
        break;
      } catch (err) {
        const message = failureMessage(err);
        entry.errors.push(message);
        const permanent = isPermanentUndoFailure(err);
        const givingUp = permanent || attempt === COMPENSATION_ATTEMPTS;
        compensationAttempt(c.action.type, givingUp ? 'failed' : 'retry');
        if (givingUp) {
          entry.status = 'failed';
          failures.push(`${c.label}: ${message}`);
          ctx.record('rollback-step-failed', `rollback step failed: ${c.label}: ${message}`, { service: c.service, stage: 'rollback', undo: c.action.type });
          break;
        }
        await sleep(Math.min(30_000, 1_000 * 2 ** (attempt - 1)), { summary: `retry: ${c.label}` });
      }
    }
  }
  return failures;
}
