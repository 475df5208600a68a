// The one poll-until-deadline loop the waiting activities share (a rollout, the build gate's check
// runs, a dispatched workflow run), so that they all test the deadline the same way, heartbeat the
// same way and stop as soon as the workflow cancels them. The deadline rule:
//   a check runs at once, then every pollMs; the wait before a check is cut short at the deadline,
//   so the last check runs at the deadline; a check that is still pending when it ends at or after
//   the deadline is the last one, and the outcome is timed out. No check starts after that.
// Each caller turns the timed-out outcome into what it needs (a result, or a failure to throw).
import { activityContext, waitOrCancel } from './context.js';

export type Check<T, P> = { done: true; value: T } | { done: false; progress: P };
export type PollOutcome<T, P> = { status: 'done'; value: T } | { status: 'timed-out'; last: P };

export interface Clock {
  now(): number;
  /** Waits ms; rejects (with a CancelledFailure) when the activity is cancelled meanwhile. */
  sleep(ms: number): Promise<void>;
}

export interface PollOptions<T, P> {
  /** Time from now until the deadline. */
  timeoutMs: number;
  /** How long to wait after a pending check before the next one (cut short at the deadline). */
  pollMs: number;
  /** One look: done with a value, or pending with progress to heartbeat and to report on timeout. */
  check: () => Promise<Check<T, P>>;
  /** The heartbeat details of a pending check (nothing is heartbeated without it, or outside an activity). */
  heartbeat?: (progress: P) => unknown;
  /** Defaults to Date.now and the activity's cancellable sleep; tests pass a fake one. */
  clock?: Clock;
}

export async function pollUntil<T, P>(options: PollOptions<T, P>): Promise<PollOutcome<T, P>> {
  const ctx = activityContext();
  const clock: Clock = options.clock ?? { now: () => Date.now(), sleep: (ms) => waitOrCancel(ctx, ms) };
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    const result = await options.check();
    if (result.done) return { status: 'done', value: result.value };
    if (options.heartbeat) ctx?.heartbeat(options.heartbeat(result.progress));
    const left = deadline - clock.now();
    if (left <= 0) return { status: 'timed-out', last: result.progress };
    await clock.sleep(Math.min(options.pollMs, left));
  }
}
