// pollUntil's one deadline rule (src/activities/poll.ts) with a fake clock: a check at once, then
// every pollMs; the wait before the last check is cut short so that it runs at the deadline; no
// check after a pending one that ended at or past the deadline. Then heartbeats and cancellation
// in a real (mock) activity context.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pollUntil, type Check, type Clock } from '../../src/activities/poll.js';

/** A clock that moves only when slept on, or when a check says it took time. */
function fakeClock(): Clock & { t: number; sleeps: number[] } {
  const clock = {
    t: 0,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

/** A check that is pending until `doneAt` (by the clock when it starts), taking `takesMs`. */
function checker(clock: { t: number }, { doneAt = Infinity, takesMs = 0 } = {}) {
  const starts: number[] = [];
  const check = async (): Promise<Check<string, number>> => {
    const start = clock.t;
    starts.push(start);
    clock.t += takesMs;
    return start >= doneAt ? { done: true, value: `done at ${start}` } : { done: false, progress: start };
  };
  return { starts, check };
}

describe('the deadline rule', () => {
  test.each<[string, { timeoutMs: number; pollMs: number; takesMs?: number; doneAt?: number }, number[], number[], 'done' | 'timed-out']>([
    ['checks every pollMs and once more at the deadline', { timeoutMs: 1_000, pollMs: 300 }, [0, 300, 600, 900, 1_000], [300, 300, 300, 100], 'timed-out'],
    ['a deadline on a poll boundary gets no extra check', { timeoutMs: 900, pollMs: 300 }, [0, 300, 600, 900], [300, 300, 300], 'timed-out'],
    ['slow checks: the wait follows each check, the last check still at the deadline', { timeoutMs: 1_000, pollMs: 300, takesMs: 250 }, [0, 550, 1_000], [300, 200], 'timed-out'],
    ['a check that ends past the deadline is the last', { timeoutMs: 1_000, pollMs: 300, takesMs: 1_200 }, [0], [], 'timed-out'],
    ['no time at all: one check', { timeoutMs: 0, pollMs: 300 }, [0], [], 'timed-out'],
    ['done before the deadline: no more checks', { timeoutMs: 1_000, pollMs: 300, doneAt: 600 }, [0, 300, 600], [300, 300], 'done'],
    ['done at the last check, at the deadline', { timeoutMs: 1_000, pollMs: 300, doneAt: 1_000 }, [0, 300, 600, 900, 1_000], [300, 300, 300, 100], 'done'],
  ])('%s', async (_, { timeoutMs, pollMs, takesMs, doneAt }, starts, sleeps, status) => {
    const clock = fakeClock();
    const c = checker(clock, { ...(takesMs !== undefined ? { takesMs } : {}), ...(doneAt !== undefined ? { doneAt } : {}) });
    const outcome = await pollUntil({ timeoutMs, pollMs, check: c.check, clock });
    expect(c.starts).toEqual(starts);
    expect(clock.sleeps).toEqual(sleeps);
    expect(outcome.status).toBe(status);
    // a timeout reports the last check's progress; done reports its value
    expect(outcome).toEqual(status === 'done' ? { status, value: `done at ${starts.at(-1)}` } : { status, last: starts.at(-1) });
  });

  test('a check that throws ends the poll with its failure', async () => {
    const clock = fakeClock();
    let n = 0;
    const failing = async (): Promise<Check<never, number>> => {
      if (++n === 2) throw ApplicationFailure.nonRetryable('rollout failed', 'RolloutFailed');
      return { done: false, progress: n };
    };
    await expect(pollUntil({ timeoutMs: 10_000, pollMs: 100, check: failing, clock })).rejects.toMatchObject({ type: 'RolloutFailed' });
    expect(n).toBe(2);
  });
});

describe('in an activity', () => {
  test('each pending check heartbeats its progress; the real clock keeps the rule', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    let n = 0;
    const started = Date.now();
    const outcome = await env.run(() =>
      pollUntil({
        timeoutMs: 200,
        pollMs: 30,
        check: async (): Promise<Check<never, number>> => ({ done: false, progress: ++n }),
        heartbeat: (checks) => ({ checks }),
      }),
    );
    expect(outcome).toEqual({ status: 'timed-out', last: n });
    expect(beats).toEqual(Array.from({ length: n }, (_, i) => ({ checks: i + 1 })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(n).toBeGreaterThanOrEqual(2);
  });

  test('cancellation stops the wait at once, with no check after it', async () => {
    const env = new MockActivityEnvironment();
    let n = 0;
    const started = Date.now();
    const waiting = env.run(() => pollUntil({ timeoutMs: 600_000, pollMs: 60_000, check: async (): Promise<Check<never, number>> => ({ done: false, progress: ++n }) }));
    setTimeout(() => env.cancel('CANCELLED'), 50);
    await expect(waiting).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(n).toBe(1);
  });

  test('outside an activity it still waits (scripts and tests call activities directly)', async () => {
    let n = 0;
    const outcome = await pollUntil({ timeoutMs: 10_000, pollMs: 10, check: async (): Promise<Check<string, number>> => (++n < 3 ? { done: false, progress: n } : { done: true, value: 'ok' }) });
    expect([outcome, n]).toEqual([{ status: 'done', value: 'ok' }, 3]);
  });
});
