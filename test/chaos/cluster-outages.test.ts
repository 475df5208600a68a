// Chaos on the production-shaped Temporal cluster (frontend, history, matching and worker services on
// PostgreSQL): its history service SIGKILLed mid-canary, its database restarted during an approval
// wait, its frontend unreachable for 30 s while the CLI watches and approves. Each release must end
// as an undisturbed one does, with the same external effects: the same GitHub writes, the same
// Kubernetes generations (no patch applied twice, none lost), one notification per event and sink.
import { join } from 'node:path';
import type { ReleaseStatus } from '../../src/core/status.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { generationDeltas, generations, githubWrites, notificationsOf, releaseSpec, startChaosWorld, type ChaosWorld } from '../../devkit/testing/chaos.js';
import { eventually, productionState, startWorkerProcess, tidegate, tidegateRunning, type RunningCli } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('chaos-cluster');
let world: ChaosWorld;
let worker: ManagedProcess;

interface Effects {
  github: string[];
  generations: Record<string, number>;
  notifications: string[];
}

async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(world.env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const atApproval = (id: string) => eventually(`${id} to wait for approval`, () => status(id), (s) => s.stage === 'approval', 180_000);
const approve = async (id: string, ...who: string[]) => {
  for (const by of who) expect((await tidegate(world.env, 'approve', id, '--as', by)).code).toBe(0);
};

/**
 * Releases checkout@version (a canary with an 8 s pause, two approvals), doing `during` to it
 * while it runs; then reads what it changed outside Temporal.
 */
async function release(version: string, sha: string, during: (id: string) => Promise<void>, canaryPause = '8s'): Promise<Effects & { status: ReleaseStatus }> {
  const id = `checkout@${version}`;
  const before = await generations(world.view, 'checkout');
  expect((await tidegate(world.env, 'start', '-f', releaseSpec(dir, 'checkout', version, sha, { canaryPause }))).code).toBe(0);
  try {
    await during(id);
  } catch (err) {
    // a failed test must not leave its release holding the service for the next one
    await tidegate(world.env, 'abort', id, '--reason', 'the test failed');
    await tidegate(world.env, 'status', id, '--wait');
    throw err;
  }
  const done = await tidegate(world.env, 'status', id, '--wait', '--json');
  expect(done.code).toBe(0);
  const after = await generations(world.view, 'checkout');
  const notifications = await eventually(`the notifications of ${id}`, () => notificationsOf(world.env, id), (n) => n.length >= 4, 60_000);
  return {
    status: (JSON.parse(done.stdout) as { status: ReleaseStatus }).status,
    github: await githubWrites(world.env, 'acme/checkout', sha),
    generations: generationDeltas(before, after, true),
    notifications,
  };
}

let baseline: Effects;

beforeAll(async () => {
  world = await startChaosWorld(dir);
  worker = await startWorkerProcess(world.env, join(dir, 'worker.log'));
  // an undisturbed release on the same cluster: what every release below must also have done
  const { status: _s, ...effects } = await release('2.0.0', 'a0a0a0a0', async (id) => {
    await atApproval(id);
    await approve(id, 'alice', 'bob');
  });
  baseline = effects;
}, 600_000);

/** CLI processes a test left running because it failed before they ended. */
const running: RunningCli[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.kill();
});

afterAll(async () => {
  await worker?.stop();
  await world?.stop();
});

test('the baseline release wrote to GitHub, Kubernetes and both sinks as a release should', () => {
  expect(baseline.github).toEqual(expect.arrayContaining(['POST /repos/{owner}/{repo}/deployments staging', 'POST /repos/{owner}/{repo}/deployments production', 'POST /repos/{owner}/{repo}/statuses/{sha} success']));
  expect(baseline.generations.route).toBeGreaterThanOrEqual(3); // 20%, 50%, the switch
  expect(baseline.notifications).toEqual(['slack approval-needed', 'slack released', 'webhook approval-needed', 'webhook released']);
});

test('given a release mid-canary, when the history service is SIGKILLed and restarted, then it is released with the same effects', async () => {
  // a 60 s canary pause, so that the test sees it at 20% however slowly its status calls run under load
  // (with 8 s, a loaded run once saw it only at approval); the pause's length changes none of the effects
  const effects = await release('2.1.0', 'b1b1b1b1', async (id) => {
    await eventually(`${id} to hold 20% in its canary pause`, () => status(id), (s) => s.stage === 'canary' && s.services[0]?.canaryWeight === 20, 120_000);
    await world.cluster.kill('history');
    await sleep(5_000);
    await world.cluster.startService('history');
    await atApproval(id);
    await approve(id, 'alice', 'bob');
  }, '60s');
  expect(effects.status.outcome).toBe('released');
  expect(effects.github).toEqual(baseline.github);
  expect(effects.generations).toEqual(baseline.generations);
  expect(effects.notifications).toEqual(baseline.notifications);
  expect((await productionState(world.view)).images).toMatchObject({ [effects.status.services[0]?.newColor ?? '?']: 'registry.local/checkout:2.1.0' });
}, 600_000);

test('given a release waiting for approval, when PostgreSQL is restarted, then the approvals count once each and it is released with the same effects', async () => {
  const effects = await release('2.2.0', 'c2c2c2c2', async (id) => {
    await atApproval(id);
    await approve(id, 'alice');
    await world.cluster.stopPostgres('fast');
    await sleep(5_000);
    await world.cluster.startPostgres();
    await approve(id, 'bob');
  });
  expect(effects.status.outcome).toBe('released');
  expect(effects.status.services[0]?.approvals.map((a) => a.by)).toEqual(['alice', 'bob']);
  expect(effects.github).toEqual(baseline.github);
  expect(effects.generations).toEqual(baseline.generations);
  expect(effects.notifications).toEqual(baseline.notifications);
}, 600_000);

test('given `status --watch` running, when the frontend is unreachable for 30 s and `approve` runs meanwhile, then both wait it out saying so, and the approval is applied once', async () => {
  let watch: RunningCli | undefined;
  let approveRun: Awaited<ReturnType<typeof tidegate>> | undefined;
  const effects = await release('2.3.0', 'd3d3d3d3', async (id) => {
    await atApproval(id);
    const watching = tidegateRunning(world.env, 'status', id, '--watch');
    watch = watching;
    running.push(watching);
    // it is watching: it has shown the release waiting for approval
    await eventually('status --watch to show the release', async () => watching.output().stdout, (out) => out.includes(`${id}  stage approval`), 120_000);
    await world.cluster.kill('frontend');
    const approving = tidegate(world.env, 'approve', id, '--as', 'alice');
    await sleep(30_000);
    await world.cluster.startService('frontend');
    approveRun = await approving;
    await approve(id, 'bob');
  });
  expect(approveRun?.code).toBe(0);
  expect(approveRun?.stderr).toMatch(/tidegate: (cannot connect to )?Temporal at 127\.0\.0\.1:\d+ .*retrying for up to 120 s/);
  expect(approveRun?.stdout).toContain('checkout@2.3.0: approved by alice');
  const watched = await watch?.done;
  expect(watched?.code).toBe(0);
  expect(watched?.stderr).toMatch(/tidegate: Temporal at 127\.0\.0\.1:\d+ is not answering .*retrying for up to 120 s/);
  expect(watched?.stdout).toContain('checkout@2.3.0  released');
  expect(effects.status.services[0]?.approvals.map((a) => a.by)).toEqual(['alice', 'bob']);
  expect(effects.github).toEqual(baseline.github);
  expect(effects.generations).toEqual(baseline.generations);
  expect(effects.notifications).toEqual(baseline.notifications);
}, 600_000);
