// Watching a monitor batch as it happens, on top of any `measure`: an instant measurement at each
// scheduled time, judged at once by the workflow's own judge (src/core/analysis.ts), so that a fault
// after the switch ends the batch within one interval instead of at its end. The measurements taken
// so far are heartbeated; a retry (the worker was lost) resumes after them and catches up on the
// times it missed by evaluating the query at those times, so the record has no gap.
import type { Context } from '@temporalio/activity';
import { classify, judgeBatch, judgeNext, type Tally } from '../core/analysis.js';
import { waitOrCancel } from './context.js';
import type { MeasureRequest, TimedObservation, WatchRequest } from './types.js';

/** How often the watch heartbeats (the SDK sends at most one per 0.8 × the heartbeat timeout): a cancellation (an abort, a fail-fast) reaches it with the next one sent. */
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
  if (!(request.intervalMs > 0)) throw new Error(`a watch needs an interval above 0 (got ${request.intervalMs})`);
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
  const sofar = judgeBatch(request.judge, taken);
  if (sofar.decided) return taken;
  let tally: Tally = sofar.tally;
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

/** The activity's waits: until the time, or a cancellation (which the heartbeats deliver). */
export function activityWaitUntil(ctx: Context | undefined): (at: number) => Promise<void> {
  return async (at) => {
    const left = at - Date.now();
    if (left > 0) await waitOrCancel(ctx, left);
  };
}

/** Heartbeat details of a lost attempt, if they are a watch's observations of this batch (else start over). */
function resumable(details: unknown, request: WatchRequest): TimedObservation[] {
  if (!Array.isArray(details) || details.length > watchTimes(request).length) return [];
  const ok = details.every((d: unknown) => typeof d === 'object' && d !== null && typeof (d as TimedObservation).at === 'string' && typeof (d as TimedObservation).observation?.kind === 'string');
  return ok ? (details as TimedObservation[]) : [];
}

/**
 * The `watch` activity on top of `measure`: heartbeats the observations so far every couple of
 * seconds for its whole run (a query that hangs until its timeout must not look like a lost
 * worker), and resumes from the heartbeat of a lost attempt.
 */
export function watchActivity(measure: WatchDeps['measure'], ctxOf: () => Context | undefined): (request: WatchRequest) => Promise<TimedObservation[]> {
  return async (request) => {
    const ctx = ctxOf();
    const resumed = resumable(ctx?.info.heartbeatDetails, request);
    let latest: TimedObservation[] = resumed;
    ctx?.heartbeat(latest);
    const beat = ctx ? setInterval(() => ctx.heartbeat(latest), WATCH_HEARTBEAT_EVERY_MS) : undefined;
    try {
      return await watchBatch(request, {
        measure,
        waitUntil: activityWaitUntil(ctx),
        taken: (observations) => {
          latest = [...observations];
          ctx?.heartbeat(latest);
        },
      }, resumed);
    } finally {
      clearInterval(beat);
    }
  };
}
