// Given the time-skipping test server built from Maven Central (not downloaded by the SDK),
// a workflow with a 7-day timer completes in seconds of wall time.
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createTimeSkippingEnv } from '../../devkit/testing/servers.js';
import { approvalTimer, approveSignal, rejectedPayloadsQuery } from './workflows/approval-timer.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const workflowsPath = fileURLToPath(new URL('./workflows/approval-timer.ts', import.meta.url));

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'stack-time-skipping', workflowsPath });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

test('a 7-day approval timer times out after exactly 7 days of workflow time', async () => {
  const wallStart = performance.now();
  const result = await env.client.workflow.execute(approvalTimer, {
    args: [7],
    taskQueue: 'stack-time-skipping',
    workflowId: 'timer-times-out',
  });
  const wallMs = performance.now() - wallStart;
  expect(env.supportsTimeSkipping).toBe(true);
  console.log(`7-day timer on the time-skipping server: ${Math.round(wallMs)} ms wall time`);
  expect(result.outcome).toBe('timed-out');
  // The timer fires at 7 days; the workflow task that reads the clock follows within moments.
  expect(result.waitedMs).toBeGreaterThanOrEqual(7 * DAY_MS);
  expect(result.waitedMs).toBeLessThan(7 * DAY_MS + 60_000);
});

test('a signal on day 3 ends the wait; an invalid payload is refused by the zod schema', async () => {
  const handle = await env.client.workflow.start(approvalTimer, {
    args: [7],
    taskQueue: 'stack-time-skipping',
    workflowId: 'timer-signalled',
  });
  await env.sleep('3 days');
  await handle.signal(approveSignal, { by: '' });
  const refused = await handle.query(rejectedPayloadsQuery);
  expect(refused).toHaveLength(1);
  expect(refused[0]).toMatch(/^by: /);
  await handle.signal(approveSignal, { by: 'alice', comment: 'ship it' });
  const result = await handle.result();
  expect(result.outcome).toBe('approved');
  expect(result.by).toBe('alice');
  // 3 days skipped plus the few real milliseconds the signals took.
  expect(result.waitedMs).toBeGreaterThanOrEqual(3 * DAY_MS);
  expect(result.waitedMs).toBeLessThan(3 * DAY_MS + 60_000);
});
