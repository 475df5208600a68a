// The release's notifications: each event is sent by the notify activity in a scope no abort can
// cancel, and nothing waits for it, so a sink that is down never holds a stage back; its key is fixed
// here (the run and the event's place in it), so every retry carries the same Idempotency-Key and a
// completed send is never repeated on replay. The release's end waits a short while for sends still
// in flight, and records those it gave up on. Waits with no progress (an approval gate, a pause for
// promote) send one "no progress" notice when they pass STALLED_AFTER_MS.
import { CancellationScope, condition, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NotifyActivities } from '../activities/types.js';
import { endingKind, failedVerdicts, notificationKey, type NotificationEvent, type NotificationKind } from '../core/notifications.js';
import { refusedAtStart, type ReleaseResult } from '../core/status.js';
import { failureMessage } from './release-activities.js';
import type { ReleaseContext } from './release-context.js';

/** A sink down or a worker gone mid-send: retried (same key) for about half an hour, then given up on record. */
const notifications = proxyActivities<NotifyActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 10 },
});

/** How long an approval gate or a pause for promote waits before the "no progress" notice. */
export const STALLED_AFTER_MS = 60 * 60_000;
/** How long the release's end waits for notifications still being sent. */
export const DRAIN_MS = 2 * 60_000;

type EventFields = Omit<NotificationEvent, 'key' | 'kind' | 'releaseId' | 'runId' | 'at' | 'name' | 'version' | 'initiator' | 'services'>;

export class Notifier {
  private seq = 0;
  private inFlight = new Map<string, NotificationKind>();

  constructor(private readonly ctx: ReleaseContext) {}

  /** Sends one event in the background; a failure is recorded in the timeline, never thrown. */
  send(kind: NotificationKind, fields: EventFields = {}): void {
    const { ctx } = this;
    const runId = workflowInfo().originalExecutionRunId;
    this.seq += 1;
    const key = notificationKey(ctx.releaseId, runId, this.seq, kind);
    const event: NotificationEvent = {
      key,
      kind,
      releaseId: ctx.releaseId,
      runId,
      at: ctx.now(),
      name: ctx.spec.name,
      version: ctx.spec.version,
      initiator: ctx.initiator,
      services: ctx.status.services.map((s) => ({ service: s.service, version: s.version, image: s.image })),
      ...fields,
    };
    this.inFlight.set(key, kind);
    void CancellationScope.nonCancellable(() => notifications.notify(event))
      .then(
        (r) => {
          if (!r.none) ctx.record('notified', `notified ${kind} (${r.delivered.join(', ')})`, fields.service ? { service: fields.service } : {});
        },
        (err: unknown) => ctx.record('notification-failed', `notification ${kind} not delivered: ${failureMessage(err)}`, fields.service ? { service: fields.service } : {}),
      )
      .finally(() => this.inFlight.delete(key));
  }

  /**
   * The ending's notification: released, rolled back (with the reason and the verdicts), or aborted.
   * A start refused (its locks held by another release, or unsigned where signatures are required)
   * changed nothing and was answered to the one who started it: nobody else is told.
   */
  ended(result: ReleaseResult): void {
    if (refusedAtStart(result.cause)) return;
    const kind = endingKind(result.outcome);
    this.send(kind, {
      outcome: result.outcome,
      ...(result.cause ? { cause: result.cause } : {}),
      ...(result.reason ? { reason: result.reason } : {}),
      ...(kind === 'rolled-back' ? { verdicts: failedVerdicts(result.status) } : {}),
    });
  }

  /** Waits a short while for the sends in flight; records the ones still going when it stops waiting. */
  async drain(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const done = await condition(() => this.inFlight.size === 0, DRAIN_MS);
    if (!done) this.ctx.record('notification-failed', `the release ended with ${[...this.inFlight.values()].join(', ')} still being sent (a sink down?); they may arrive later or not at all`);
  }

  /**
   * `condition(fn, timeoutMs)` that, when it has waited STALLED_AFTER_MS with no progress, sends
   * one "no progress" notice naming what it waits for, and then waits on.
   */
  async waitNoticing(fn: () => boolean, timeoutMs: number | undefined, waitingFor: string, service: string | undefined, summary: string): Promise<boolean> {
    const start = Date.now();
    if (timeoutMs === undefined || timeoutMs > STALLED_AFTER_MS) {
      if (await condition(fn, STALLED_AFTER_MS, { summary })) return true;
      this.send('stalled', { ...(service ? { service } : {}), stalled: { waitingFor, since: new Date(start).toISOString(), forMs: Date.now() - start } });
      if (timeoutMs === undefined) {
        await condition(fn);
        return true;
      }
      return condition(fn, Math.max(1, timeoutMs - (Date.now() - start)), { summary });
    }
    return condition(fn, timeoutMs, { summary });
  }
}
