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
