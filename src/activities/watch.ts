// Watching a monitor batch as it happens, on top of any `measure`: an instant measurement at each
// scheduled time, judged at once by the workflow's own judge (src/core/analysis.ts), so that a fault
// after the switch ends the batch within one interval instead of at its end. The measurements taken
// so far are heartbeated; a retry (the worker was lost) resumes after them and catches up on the
// times it missed by evaluating the query at those times, so the record has no gap.
import type { Context } from '@temporalio/activity';
import { classify, judgeNext, type Tally } from '../core/analysis.js';
import { waitOrCancel } from './context.js';
import type { MeasureRequest, TimedObservation, WatchRequest } from './types.js';

/** The longest wait between two heartbeats: how soon a cancellation (an abort, a fail-fast) reaches the watch. */
export const WATCH_HEARTBEAT_EVERY_MS = 2_000;

export interface WatchDeps {
  measure(request: MeasureRequest): Promise<TimedObservation[]>;
  /** Waits until the time (epoch ms); the in-memory fake of the tests returns at once. */
  waitUntil(at: number): Promise<void>;
  /** Called with the observations so far after each measurement (the activity heartbeats them). */
  taken?(observations: TimedObservation[]): void;
}

/** The scheduled times of a batch: firstAt, then every intervalMs, up to until. */
export function watchTimes(request: Pick<WatchRequest, 'firstAt' | 'intervalMs' | 'until'>): number[] {
  const first = Date.parse(request.firstAt);
  const until = Date.parse(request.until);
  const times: number[] = [];
  for (let t = first; t <= until; t += request.intervalMs) times.push(t);
  return times;
}

/**
 * Measures at each scheduled time not yet in `resumed`, and returns every observation of the batch
 * (`resumed` first) once the batch is over or the judge has decided the run. Each scheduled time
 * gives exactly one observation, at that time: the workflow counts them to know where the next
 * batch starts.
 */
export async function watchBatch(request: WatchRequest, deps: WatchDeps, resumed: readonly TimedObservation[] = []): Promise<TimedObservation[]> {
  const { conditions, limits } = request.judge;
  const taken = [...resumed];
  let tally: Tally = request.judge.tally;
  for (const { observation } of taken) {
    const step = judgeNext(limits, tally, classify(conditions, observation).phase);
    if (step.decided) return taken;
    tally = step.tally;
  }
  for (const t of watchTimes(request).slice(taken.length)) {
    await deps.waitUntil(t);
    const at = new Date(t).toISOString();
    const [first] = await deps.measure({ query: request.query, at });
    const observation = first?.observation ?? { kind: 'error', message: 'the metrics backend answered nothing' };
    taken.push({ at, observation });
    deps.taken?.(taken);
    const step = judgeNext(limits, tally, classify(conditions, observation).phase);
    if (step.decided) break;
    tally = step.tally;
  }
  return taken;
}

/** The activity's waits: until the time, heartbeating `details()` every few seconds so that a cancellation arrives. */
export function activityWaitUntil(ctx: Context | undefined, details: () => unknown): (at: number) => Promise<void> {
  return async (at) => {
    for (let left = at - Date.now(); left > 0; left = at - Date.now()) {
      await waitOrCancel(ctx, Math.min(left, WATCH_HEARTBEAT_EVERY_MS));
      ctx?.heartbeat(details());
    }
  };
}

/** The `watch` activity on top of `measure`: resumes from the heartbeat of a lost attempt. */
export function watchActivity(measure: WatchDeps['measure'], ctxOf: () => Context | undefined): (request: WatchRequest) => Promise<TimedObservation[]> {
  return async (request) => {
    const ctx = ctxOf();
    const resumed = (ctx?.info.heartbeatDetails as TimedObservation[] | undefined) ?? [];
    let latest: TimedObservation[] = resumed;
    ctx?.heartbeat(latest);
    return watchBatch(request, {
      measure,
      waitUntil: activityWaitUntil(ctx, () => latest),
      taken: (observations) => {
        latest = [...observations];
        ctx?.heartbeat(latest);
      },
    }, resumed);
  };
}
