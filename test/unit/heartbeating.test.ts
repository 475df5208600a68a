// A traffic call scheduled with a heartbeat timeout heartbeats while it runs (so a lost worker is
// noticed within that timeout), and passes its result and its failure through unchanged.
import { MockActivityEnvironment } from '@temporalio/testing';
import { ALIVE_EVERY_MS, heartbeating } from '../../src/activities/context.js';

const slow = {
  async read(ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return `read after ${ms} ms`;
  },
  async fail(): Promise<never> {
    throw new Error('apiserver said no');
  },
  async untouched(): Promise<number> {
    return 1;
  },
};

test('a wrapped call heartbeats at once and every second while it runs, and returns its result', async () => {
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => beats++);
  const wrapped = heartbeating(slow, ['read', 'fail']);
  await expect(env.run(wrapped.read, 2.5 * ALIVE_EVERY_MS)).resolves.toBe('read after 2500 ms');
  // at the start, after 1 s and after 2 s (a late timer under load may drop the last one)
  expect(beats).toBeGreaterThanOrEqual(2);
  expect(beats).toBeLessThanOrEqual(3);
  const after = beats;
  await new Promise((r) => setTimeout(r, 1.5 * ALIVE_EVERY_MS));
  expect(beats).toBe(after); // stopped with the call
});

test('a failure passes through, the heartbeat stops, and calls not named are left as they are', async () => {
  const env = new MockActivityEnvironment();
  const wrapped = heartbeating(slow, ['read', 'fail']);
  await expect(env.run(wrapped.fail)).rejects.toThrow('apiserver said no');
  expect(wrapped.untouched).toBe(slow.untouched);
  // outside an activity (scripts, tests calling adapters directly) it is the plain call
  await expect(wrapped.read(1)).resolves.toBe('read after 1 ms');
});
