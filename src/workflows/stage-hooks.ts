// Hook stages: at each point of a service's pipeline (src/core/hooks.ts hookSchedule) its hooks run
// in spec order through the runHook activity — a Job waited for, or an HTTP call. A hook with an
// undo registers it in the saga before it starts (a migration that failed half-way is undone too),
// so a failed, rejected or aborted release runs it in rollback, after the workloads are back. A
// hook that fails or times out stops the release with its detail and, in status, its log's tail.
import { ActivityCancellationType, ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { HookActivities } from '../activities/types.js';
import { failure as raise } from '../core/failures.js';
import { callTarget, HOOK_POINT_TEXT, hookFailureMessage, hookRun, hooksAt, type HookOutcome, type HookRun, type HookVars } from '../core/hooks.js';
import type { HookPoint, ServiceSpec } from '../core/release-spec.js';
import type { HookStatus } from '../core/status.js';
import { failureMessage, RETRY } from './release-activities.js';
import type { ReleaseContext, ServiceRun } from './release-context.js';

const hooks = proxyActivities<HookActivities>({ startToCloseTimeout: '10m', retry: RETRY });

/** The activity options of one run: its own timeout plus room to create, poll and clean up; a Job heartbeats while it waits. */
function optionsFor(run: HookRun, retry: typeof RETRY | { maximumAttempts: 1 }, summary: string) {
  const timeout = run.action.timeout;
  // an abort waits for a running Job to be deleted (the activity does it when cancelled) before the rollback runs its undo;
  // heartbeats are throttled to 0.8 × the heartbeat timeout, which bounds how late the activity hears of it (16 s)
  return run.action.kind === 'job'
    ? { startToCloseTimeout: timeout + 5 * 60_000, heartbeatTimeout: '20s', retry, summary, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }
    : { startToCloseTimeout: timeout + 30_000, retry, summary };
}

/** Runs a hook run (or an undo: no retries here, the rollback retries in the workflow) to its outcome. */
export function executeHook(run: HookRun, retry: typeof RETRY | { maximumAttempts: 1 } = RETRY): Promise<HookOutcome> {
  const summary = `hook ${run.hook}${run.phase === 'undo' ? ' (undo)' : ''} of ${run.service}`;
  return hooks.runHook.executeWithOptions(optionsFor(run, retry, summary), [run]);
}

export function hookVars(ctx: ReleaseContext, svc: ServiceSpec): HookVars {
  return { release: ctx.releaseId, service: svc.service, version: svc.version, image: svc.image, namespace: svc.production.namespace };
}

/** What a run acts on, filled in: `Job prod/checkout-expand-schema-1a2b3c4d` or `POST https://…`. */
function targetOf(run: HookRun): string {
  if (run.job) return `Job ${run.job.namespace}/${run.job.name}`;
  return run.action.kind === 'http' ? callTarget(run.action.method, run.action.url) : run.hook;
}

/** Runs the service's hooks of `point`, in spec order; throws (HookFailed / HookTimedOut, or the activity's failure) at the first that does not succeed. */
export async function runHooks(ctx: ReleaseContext, service: ServiceRun, point: HookPoint): Promise<void> {
  const svc = service.svc;
  for (const hook of hooksAt(svc, point)) {
    const vars = hookVars(ctx, svc);
    const run = hookRun({ releaseId: ctx.releaseId, runId: ctx.status.runId ?? '', point, hook, phase: 'run', vars, ...ctx.inCluster });
    if (hook.undo) {
      const undo = hookRun({ releaseId: ctx.releaseId, runId: ctx.status.runId ?? '', point, hook, phase: 'undo', vars, ...ctx.inCluster });
      ctx.register(`hook:${svc.service}:${hook.name}`, svc.service, `undo hook ${hook.name} of ${svc.service} (${targetOf(undo)})`, { type: 'runHook', run: undo });
    }
    const entry = statusOf(service, point, hook.name, hook.undo !== undefined);
    entry.state = 'running';
    entry.target = targetOf(run);
    ctx.record('hook-started', `hook ${hook.name} (${HOOK_POINT_TEXT[point]} of ${svc.service}) started: ${entry.target}`, { service: svc.service });
    let outcome: HookOutcome;
    try {
      outcome = await executeHook(run);
    } catch (err) {
      entry.state = 'failed';
      entry.detail = failureMessage(err);
      ctx.record('hook-failed', `hook ${hook.name} (${HOOK_POINT_TEXT[point]} of ${svc.service}) failed: ${entry.detail}`, { service: svc.service });
      throw err;
    }
    entry.detail = outcome.detail;
    if (outcome.phase === 'Succeeded') {
      entry.state = 'done';
      ctx.record('hook-done', `hook ${hook.name} done: ${outcome.detail}`, { service: svc.service });
      continue;
    }
    entry.state = outcome.phase === 'TimedOut' ? 'timed-out' : 'failed';
    if (outcome.logTail) entry.logTail = outcome.logTail;
    const message = hookFailureMessage(run, outcome);
    ctx.record('hook-failed', message, { service: svc.service });
    throw raise(outcome.phase === 'TimedOut' ? 'HookTimedOut' : 'HookFailed', message);
  }
}

/** The hook's entry in the service's status (planned by initialStatus; added if the status predates it). */
function statusOf(service: ServiceRun, point: HookPoint, name: string, undo: boolean): HookStatus {
  const list = (service.status.hooks ??= []);
  const found = list.find((h) => h.point === point && h.name === name);
  if (found) return found;
  const entry: HookStatus = { point, name, target: '', state: 'pending', undo };
  list.push(entry);
  return entry;
}

/** Runs a hook's undo once for the rollback; a Job that failed or a refused call throws a non-retryable failure with the log's tail. */
export async function undoHook(run: HookRun): Promise<void> {
  const outcome = await executeHook(run, { maximumAttempts: 1 });
  if (outcome.phase === 'Succeeded') return;
  const logTail = outcome.logTail?.length ? `; log tail: ${outcome.logTail.slice(-5).join(' ⏎ ')}` : '';
  throw raise(outcome.phase === 'TimedOut' ? 'HookTimedOut' : 'HookFailed', `${hookFailureMessage(run, outcome)}${logTail}`);
}

/** Whether a rollback step's failure is permanent: an activity's non-retryable failure, or a hook's undo that ran and failed. */
export function isPermanentUndoFailure(err: unknown): boolean {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause.nonRetryable === true;
  return err instanceof ApplicationFailure && err.nonRetryable === true;
}
