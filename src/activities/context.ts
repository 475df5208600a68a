// What long-running activities share: the activity context when they run as activities (tests and
// scripts also call them directly), and a wait that honours cancellation when there is one.
import { Context } from '@temporalio/activity';

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Waits ms; in an activity, rejects with a CancelledFailure as soon as the workflow cancels it. */
export async function waitOrCancel(ctx: Context | undefined, ms: number): Promise<void> {
  if (ctx) await ctx.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

/** How often a heartbeating call tells the server its worker is alive (the SDK sends at most one per 0.8 × the heartbeat timeout). */
export const ALIVE_EVERY_MS = 1_000;

/**
 * The same activities, each heartbeating while it runs: a short call scheduled with a heartbeat
 * timeout (the traffic calls) is then retried elsewhere within that timeout when its worker is
 * lost, instead of waiting out its start-to-close.
 */
export function heartbeating<T extends object>(activities: T, names: readonly (keyof T)[]): T {
  const wrapped: Record<string, unknown> = { ...(activities as Record<string, unknown>) };
  for (const name of names) {
    const fn = activities[name];
    if (typeof fn !== 'function') continue;
    wrapped[name as string] = async (...args: unknown[]): Promise<unknown> => {
      // a local activity has nobody to heartbeat to: its worker runs the release's workflow task
      const ctx = activityContext()?.info.isLocal ? undefined : activityContext();
      ctx?.heartbeat();
      const beat = ctx ? setInterval(() => ctx.heartbeat(), ALIVE_EVERY_MS) : undefined;
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>).apply(activities, args);
      } finally {
        if (beat) clearInterval(beat);
      }
    };
  }
  return wrapped as T;
}
