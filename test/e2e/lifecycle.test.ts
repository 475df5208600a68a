// How releases end, through the CLI against the local stack (Temporal dev server, the control plane
// with the sample service) and a `tidegate worker` process: a rejection exits 11 and an abort during
// a pause exits 12, both rolling the cluster back; an invalid spec exits 2 and starts nothing; and a
// release survives its worker being SIGKILLed mid-canary and the Temporal server restarting.
import { join } from 'node:path';
import type { ReleaseStatus } from '../../src/core/status.js';
import { stopProcessGroup, type ManagedProcess } from '../../devkit/stack/process.js';
import { readState, stackDown, stackEnv, stackUp } from '../../devkit/stack/stack.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import { clusterView, eventually, productionState, startWorkerProcess, tidegate, userEnv, type ClusterView } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('e2e-lifecycle');
const SPEC = join(repoRoot, 'test/fixtures/specs/checkout-without-analysis.yaml');
let env: NodeJS.ProcessEnv;
let worker: ManagedProcess;
let view: ClusterView;
let workerLogs = 0;

const startWorker = async (): Promise<ManagedProcess> => startWorkerProcess(env, join(dir, `worker-${++workerLogs}.log`));
const start = (version: string) => tidegate(env, 'start', '-f', SPEC, '--version', version, '--image', `registry.local/checkout:${version}`);
async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}
const waitingForPromote = (id: string) => eventually(`${id} to wait for promote`, () => status(id), (s) => s.pause?.code === 'awaiting-promote', 90_000);
const atApproval = (id: string) => eventually(`${id} to reach approval`, () => status(id), (s) => s.stage === 'approval', 90_000);

beforeAll(async () => {
  const state = await stackUp({ dir, components: ['temporal', 'kubernetes'] });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci' });
  view = clusterView(state.kubernetes?.kubeconfig ?? '');
  worker = await startWorker();
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await stackDown(dir);
});

test('an invalid spec exits 2, names the field, and starts nothing', async () => {
  const before = await tidegate(env, 'list', '--json');
  const bad = await tidegate(env, 'start', '-f', join(repoRoot, 'test/fixtures/specs/invalid-weight.yaml'));
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('production.canary.steps[2].setWeight: must be 0..100');
  expect(bad.stderr).toContain('nothing was started');
  expect((await tidegate(env, 'list', '--json')).stdout).toBe(before.stdout);
  expect((await productionState(view)).live).toBe('blue');
});

test('a rejection exits 11 and puts everything back', async () => {
  // given a release waiting for approval, canary at 50% on green
  expect((await start('2.1.0')).code).toBe(0);
  await waitingForPromote('checkout@2.1.0');
  expect((await tidegate(env, 'promote', 'checkout@2.1.0')).code).toBe(0);
  await atApproval('checkout@2.1.0');
  // when an approver rejects it
  const rejected = await tidegate(env, 'reject', 'checkout@2.1.0', '--as', 'carol', '--reason', 'error budget is spent');
  expect(rejected.code).toBe(0);
  // then it exits 11 and the cluster is as before the release
  const done = await tidegate(env, 'status', 'checkout@2.1.0', '--wait', '--json');
  expect(done.code).toBe(11);
  expect(JSON.parse(done.stdout)).toMatchObject({ outcome: 'rejected', reason: 'carol rejected checkout: error budget is spent' });
  expect(await productionState(view)).toMatchObject({ live: 'blue', route: { 'checkout-blue': 100, 'checkout-green': 0 }, images: { green: 'registry.local/checkout:1.0.0' }, staging: 'registry.local/checkout:1.0.0' });
}, 180_000);

test('an abort during a pause exits 12 and rolls back', async () => {
  expect((await start('2.2.0')).code).toBe(0);
  await waitingForPromote('checkout@2.2.0');
  expect((await productionState(view)).route).toEqual({ 'checkout-blue': 50, 'checkout-green': 50 });
  expect((await tidegate(env, 'abort', 'checkout@2.2.0', '--as', 'oncall', '--reason', 'incident in payments')).code).toBe(0);
  const done = await tidegate(env, 'status', 'checkout@2.2.0', '--wait');
  expect(done.code).toBe(12);
  expect(await productionState(view)).toMatchObject({ live: 'blue', route: { 'checkout-blue': 100, 'checkout-green': 0 } });
}, 180_000);

test('a worker SIGKILLed during the canary and restarted: the release still ends released', async () => {
  expect((await start('2.3.0')).code).toBe(0);
  await waitingForPromote('checkout@2.3.0');
  // when the worker dies without a chance to clean up
  await worker.kill();
  // the release is durable state on the server, listed as running with no worker at all
  const running = JSON.parse((await tidegate(env, 'list', '--running', '--json')).stdout) as { releaseId: string }[];
  expect(running.map((r) => r.releaseId)).toContain('checkout@2.3.0');
  worker = await startWorker();
  // and the new worker picks it up exactly where it was
  expect((await status('checkout@2.3.0')).pausedFor).toMatch(/waiting for promote/);
  expect((await tidegate(env, 'promote', 'checkout@2.3.0')).code).toBe(0);
  await atApproval('checkout@2.3.0');
  for (const who of ['alice', 'bob']) expect((await tidegate(env, 'approve', 'checkout@2.3.0', '--as', who)).code).toBe(0);
  expect((await tidegate(env, 'status', 'checkout@2.3.0', '--wait')).code).toBe(0);
  expect(await productionState(view)).toMatchObject({ live: 'green', images: { green: 'registry.local/checkout:2.3.0' } });
}, 240_000);

test('the Temporal server restarted mid-release: the release still ends released', async () => {
  // green is live now; this release goes to blue
  expect((await start('2.4.0')).code).toBe(0);
  await waitingForPromote('checkout@2.4.0');
  // when the server stops and comes back (same database, same port)
  await stopProcessGroup(readState(dir).temporal?.pid ?? 0);
  expect((await tidegate(env, 'status', 'checkout@2.4.0')).code).toBe(1);
  await stackUp({ dir, components: ['temporal'] });
  // then the release is where it was, the worker reconnects, and it completes
  expect((await status('checkout@2.4.0')).pausedFor).toMatch(/waiting for promote/);
  await eventually('the worker to reconnect and take the promote', () => tidegate(env, 'promote', 'checkout@2.4.0'), (r) => r.code === 0, 120_000);
  await atApproval('checkout@2.4.0');
  for (const who of ['alice', 'bob']) expect((await tidegate(env, 'approve', 'checkout@2.4.0', '--as', who)).code).toBe(0);
  expect((await tidegate(env, 'status', 'checkout@2.4.0', '--wait')).code).toBe(0);
  expect(await productionState(view)).toMatchObject({ live: 'blue', images: { blue: 'registry.local/checkout:2.4.0' } });
  expect(worker.running).toBe(true);
}, 300_000);
