// Notifications end to end: the local stack (Temporal dev server, the control plane with the sample
// service, the notification receiver) and a `tidegate worker` process configured as `stack env` says
// (a Slack-compatible sink and a signed JSON webhook). One message per event reaches each sink, even
// when the worker is SIGKILLed while the receiver holds a send open: the next worker sends it again
// with the same Idempotency-Key, and the receiver counts it once.
import { join } from 'node:path';
import type { ReleaseStatus } from '../../src/core/status.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { stackDown, stackEnv, stackUp } from '../../devkit/stack/stack.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import type { ReceivedRequest } from '../../devkit/notify-receiver/server.js';
import { eventually, startWorkerProcess, tidegate, userEnv } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('e2e-notify');
const SPEC = join(repoRoot, 'test/fixtures/specs/checkout-without-analysis.yaml');
let env: NodeJS.ProcessEnv;
let worker: ManagedProcess;
let receiver = '';
let workerLogs = 0;

const startWorker = async (): Promise<ManagedProcess> => startWorkerProcess(env, join(dir, `worker-${++workerLogs}.log`));
const start = (version: string) => tidegate(env, 'start', '-f', SPEC, '--version', version, '--image', `registry.local/checkout:${version}`);
async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}
const received = async (): Promise<ReceivedRequest[]> => (await (await fetch(`${receiver}/_receiver/received`)).json()) as ReceivedRequest[];
/** Per sink and event of one release: how many messages the receiver counted (repeats of a key are not). */
async function counted(releaseId: string): Promise<string[]> {
  return (await received()).filter((r) => r.first && r.status === 200 && r.key.startsWith(`${releaseId}/`)).map((r) => `${r.sink} ${r.event ?? ''}`);
}

beforeAll(async () => {
  const state = await stackUp({ dir, components: ['temporal', 'kubernetes', 'notify'] });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci' });
  receiver = state.notify?.url ?? '';
  worker = await startWorker();
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await stackDown(dir);
});

test('approval needed and released, once per sink, with the worker SIGKILLed while the receiver holds the approval message', async () => {
  expect((await start('5.1.0')).code).toBe(0);
  await eventually('5.1.0 to wait for promote', () => status('checkout@5.1.0'), (s) => s.pause?.code === 'awaiting-promote', 90_000);
  // the receiver takes the next message but does not answer it
  await fetch(`${receiver}/_receiver/hold?count=1`, { method: 'POST' });
  expect((await tidegate(env, 'promote', 'checkout@5.1.0')).code).toBe(0);
  await eventually('the approval message to arrive', received, (r) => r.some((m) => m.event === 'approval-needed'), 90_000);
  // when the worker dies mid-send, and another starts
  await worker.kill();
  worker = await startWorker();
  // then the unanswered send is retried with the same key, and every sink has the message once
  await eventually('both sinks to have approval-needed', () => counted('checkout@5.1.0'), (c) => c.filter((x) => x.endsWith('approval-needed')).length === 2, 120_000);
  await eventually('the repeat to arrive', received, (r) => r.filter((m) => m.event === 'approval-needed' && m.key.startsWith('checkout@5.1.0/')).length >= 3, 120_000);
  const approval = (await received()).filter((m) => m.event === 'approval-needed' && m.key.startsWith('checkout@5.1.0/'));
  expect(new Set(approval.map((m) => m.key)).size).toBe(1);
  const slack = approval.find((m) => m.sink === 'slack')?.body as { text: string };
  expect(slack.text).toContain('checkout@5.1.0 needs approval of checkout: 2 of alice, bob, carol (none yet)');
  expect(slack.text).toContain('approve: `tidegate approve checkout@5.1.0`');
  expect(slack.text).toMatch(/<http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/checkout%405\.1\.0\|open in the Temporal UI>/);

  for (const who of ['alice', 'bob']) expect((await tidegate(env, 'approve', 'checkout@5.1.0', '--as', who)).code).toBe(0);
  expect((await tidegate(env, 'status', 'checkout@5.1.0', '--wait')).code).toBe(0);
  await eventually('released to arrive', () => counted('checkout@5.1.0'), (c) => c.length === 4, 60_000);
  expect((await counted('checkout@5.1.0')).sort()).toEqual(['slack approval-needed', 'slack released', 'webhook approval-needed', 'webhook released']);
  const webhook = (await received()).find((m) => m.sink === 'webhook' && m.event === 'released' && m.key.startsWith('checkout@5.1.0/'));
  expect(webhook?.body).toMatchObject({ kind: 'released', releaseId: 'checkout@5.1.0', outcome: 'released', services: [{ service: 'checkout', version: '5.1.0' }] });
}, 400_000);

test('a rejected release and an aborted one: one rolled-back and one aborted message per sink, with the reason', async () => {
  expect((await start('5.2.0')).code).toBe(0);
  await eventually('5.2.0 to wait for promote', () => status('checkout@5.2.0'), (s) => s.pause?.code === 'awaiting-promote', 90_000);
  expect((await tidegate(env, 'promote', 'checkout@5.2.0')).code).toBe(0);
  await eventually('5.2.0 to reach approval', () => status('checkout@5.2.0'), (s) => s.stage === 'approval', 90_000);
  expect((await tidegate(env, 'reject', 'checkout@5.2.0', '--as', 'carol', '--reason', 'error budget is spent')).code).toBe(0);
  expect((await tidegate(env, 'status', 'checkout@5.2.0', '--wait')).code).toBe(11);
  await eventually('rolled-back to arrive', () => counted('checkout@5.2.0'), (c) => c.filter((x) => x.endsWith('rolled-back')).length === 2, 60_000);
  const rolled = (await received()).find((m) => m.sink === 'slack' && m.event === 'rolled-back' && m.key.startsWith('checkout@5.2.0/'))?.body as { text: string };
  expect(rolled.text).toMatch(/^:rewind: checkout@5\.2\.0 rejected, rolled back: carol rejected checkout: error budget is spent/);

  expect((await start('5.3.0')).code).toBe(0);
  await eventually('5.3.0 to wait for promote', () => status('checkout@5.3.0'), (s) => s.pause?.code === 'awaiting-promote', 90_000);
  expect((await tidegate(env, 'abort', 'checkout@5.3.0', '--as', 'erin', '--reason', 'incident 4711')).code).toBe(0);
  expect((await tidegate(env, 'status', 'checkout@5.3.0', '--wait')).code).toBe(12);
  await eventually('aborted to arrive', () => counted('checkout@5.3.0'), (c) => c.length === 2, 60_000);
  expect((await counted('checkout@5.3.0')).sort()).toEqual(['slack aborted', 'webhook aborted']);
  const aborted = (await received()).find((m) => m.sink === 'webhook' && m.event === 'aborted' && m.key.startsWith('checkout@5.3.0/'))?.body;
  expect(aborted).toMatchObject({ kind: 'aborted', reason: 'aborted by erin: incident 4711' });
}, 300_000);
