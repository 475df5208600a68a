// The calendar at a stage boundary: before a stage that changes what runs (staging, canary, the
// switch) the release asks whether it may move on — its spec's windows and freezes, the worker's
// calendar, the global freeze — and waits durably until it may. Approvals are still collected while
// a release waits (the approval stage is not gated), and the monitor window is never interrupted.
// The answer comes from a local activity, so it is one marker in the history and replays unchanged.
import { condition, proxyLocalActivities } from '@temporalio/workflow';
import type { CalendarActivities } from '../activities/types.js';
import type { Stage } from '../core/plan.js';
import type { CalendarAnswer } from '../core/windows.js';
import { failureMessage, RETRY } from './release-activities.js';
import type { ReleaseContext } from './release-context.js';

const calendar = proxyLocalActivities<CalendarActivities>({ startToCloseTimeout: '30s', retry: { ...RETRY, maximumAttempts: 3 } });

/** The stages that wait for the window: each changes staging or production. */
export const GATED_STAGES: ReadonlySet<Stage> = new Set<Stage>(['staging', 'canary', 'switch']);
/** The longest wait between two checks: an edit of the worker's calendar is seen within it. A lifted global freeze wakes waiting releases at once. */
export const RECHECK_MAX_MS = 60 * 60_000;
/** The wait before checking again when the calendar could not be checked (a broken calendar file holds the release back). */
export const RECHECK_AFTER_ERROR_MS = 5 * 60_000;

/**
 * Returns when the release may start `stage` of `service`. While it may not, `status.waiting` says
 * why and until when, the timeline records each new reason once, and the release checks again at the
 * opening time, at most an hour later, or at once when told the calendar changed.
 */
export async function awaitWindow(ctx: ReleaseContext, service: string, stage: Stage): Promise<void> {
  let since: string | undefined;
  let said = '';
  for (;;) {
    const seen = ctx.requests.calendarChanges;
    let answer: CalendarAnswer;
    let failed = false;
    try {
      answer = await calendar.checkCalendar({ ...(ctx.spec.windows ? { windows: ctx.spec.windows } : {}), at: new Date().toISOString() });
    } catch (err) {
      failed = true;
      answer = { open: false, reason: `the calendar could not be checked: ${failureMessage(err)}`, source: 'worker' };
    }
    if (answer.open) {
      if (since) {
        ctx.status.waiting = undefined;
        ctx.record('window-open', `${stage} of ${service} goes on: the calendar allows it (waited since ${since})`, { service, stage });
      }
      return;
    }
    since ??= ctx.now();
    ctx.status.waiting = { service, stage, reason: answer.reason, source: answer.source, since, ...(answer.opensAt ? { opensAt: answer.opensAt } : {}) };
    const text = `${stage} of ${service} waits: ${answer.reason}${answer.opensAt ? `; it opens at ${answer.opensAt}` : ''}`;
    if (text !== said) ctx.record('window-waiting', text, { service, stage });
    else ctx.refreshDetails();
    said = text;
    const untilOpen = answer.opensAt ? Math.max(1_000, Date.parse(answer.opensAt) - Date.now()) : RECHECK_MAX_MS;
    const wait = failed ? RECHECK_AFTER_ERROR_MS : Math.min(untilOpen, RECHECK_MAX_MS);
    try {
      await condition(() => ctx.requests.calendarChanges !== seen, wait, { summary: `window for ${stage} of ${service}` });
    } catch (err) {
      // an abort while waiting: the release rolls back, and waits no more
      ctx.status.waiting = undefined;
      throw err;
    }
  }
}
