// Workers dying on the production-shaped Temporal cluster: two workers share the task queue and the
// one running a rollback's compensation is SIGKILLed; then 20 releases of 20 services run while a
// worker is SIGKILLed (and replaced) every 10 s, five times. Every release must end as it would
// undisturbed, with the same external effects: GitHub writes, Kubernetes generations (nothing
// applied twice, nothing lost), one notification per event and sink, one hook Job.
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import type { ReleaseStatus } from '../../src/core/status.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { generationDeltas, generations, githubWrites, notificationsOf, releaseSpec, startChaosWorld, type ChaosWorld } from '../../devkit/testing/chaos.js';
import { eventually, finishHookJob, startWorkerProcess, tidegate, tidegateWithin } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('chaos-workers');
const SERVICES = Array.from({ length: 20 }, (_, i) => `svc-${String(i + 1).padStart(2, '0')}`);
let world: ChaosWorld;
let workers: ManagedProcess[] = [];
let started = 0;
let kube: { batch: BatchV1Api; core: CoreV1Api };

const startWorker = async (): Promise<ManagedProcess> => startWorkerProcess(world.env, join(dir, `worker-${++started}.log`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(world.env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}

/** The pid of the worker running the release's pending activity of this type (worker identity is pid@host). */
async function workerRunning(id: string, activityType: string): Promise<number> {
  const connection = await Connection.connect({ address: world.cluster.address });
  try {
    const client = new Client({ connection, namespace: world.cluster.namespace });
    const found = await eventually(
      `${id} to run ${activityType} on a worker`,
      async () => (await client.workflow.getHandle(id).describe()).raw.pendingActivities?.find((a) => a.activityType?.name === activityType && a.lastWorkerIdentity),
      (a) => a !== undefined,
      120_000,
    );
    return Number(found?.lastWorkerIdentity?.split('@')[0]);
  } finally {
    await connection.close();
  }
}

interface Effects {
  github: string[];
  generations: Record<string, number>;
  notifications: string[];
}

async function effectsOf(service: string, version: string, sha: string, before: Record<string, number>, swapped: boolean, events: number): Promise<Effects> {
  const id = `${service}@${version}`;
  return {
    github: await githubWrites(world.env, `acme/${service}`, sha),
    generations: generationDeltas(before, await generations(world.view, service), swapped),
    notifications: await eventually(`the notifications of ${id}`, () => notificationsOf(world.env, id), (n) => n.length >= events, 60_000),
  };
}

let baseline: Effects;

beforeAll(async () => {
  world = await startChaosWorld(dir, SERVICES);
  const kc = new KubeConfig();
  kc.loadFromFile(world.state.kubernetes?.kubeconfig ?? '');
  kube = { batch: kc.makeApiClient(BatchV1Api), core: kc.makeApiClient(CoreV1Api) };
  workers = [await startWorker(), await startWorker()];
  // an undisturbed release of svc-01 without approval: what each of the 20 below must also have done
  const before = await generations(world.view, 'svc-01');
  expect((await tidegate(world.env, 'start', '-f', releaseSpec(dir, 'svc-01', '1.1.0', 'e0e0e0e0', { approval: false }), '--wait')).code).toBe(0);
  baseline = await effectsOf('svc-01', '1.1.0', 'e0e0e0e0', before, true, 2);
}, 600_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await world?.stop();
});

test('given two workers and a rejected release undoing its hook, when the worker running the undo Job is SIGKILLed, then the other adopts the same Job and the release ends rejected with everything put back', async () => {
  const hook = (phase: string) => ({ timeout: '10m', template: { template: { spec: { nodeSelector: { 'tidegate.test/held': 'yes' }, containers: [{ name: 'migrate', image: 'registry.local/migrations:1', args: [phase] }] } } } });
  const id = 'svc-02@1.1.0';
  const spec = releaseSpec(dir, 'svc-02', '1.1.0', 'f1f1f1f1', { hooks: { beforeSwitch: [{ name: 'expand', job: hook('expand'), undo: { job: hook('undo') } }] } });
  expect((await tidegate(world.env, 'start', '-f', spec)).code).toBe(0);
  await finishHookJob(kube, id, 'expand', 'run', 0);
  await eventually(`${id} to wait for approval`, () => status(id), (s) => s.stage === 'approval', 180_000);
  expect((await tidegate(world.env, 'reject', id, '--as', 'carol', '--reason', 'not today')).code).toBe(0);

  // the rollback puts traffic and workloads back, then runs the undo Job (held until the test lets it finish)
  const undoJob = await eventually('the undo Job', async () => (await kube.batch.listNamespacedJob({ namespace: 'prod', labelSelector: 'tidegate.io/hook=expand' })).items.filter((j) => j.metadata?.annotations?.['tidegate.io/phase'] === 'undo'), (jobs) => jobs.length === 1, 120_000);
  const pid = await workerRunning(id, 'runHook');
  const victim = workers.find((w) => w.pid === pid);
  expect(victim).toBeDefined();
  await victim?.kill();
  workers = workers.filter((w) => w !== victim);
  // the survivor takes the activity over after its heartbeat timeout, and adopts the Job rather than creating another
  await eventually('the undo to move to the other worker', () => workerRunning(id, 'runHook'), (p) => p !== pid, 120_000);
  await finishHookJob(kube, id, 'expand', 'undo', 0);
  const done = await tidegate(world.env, 'status', id, '--wait', '--json');
  expect(done.code).toBe(11);
  const result = JSON.parse(done.stdout) as { status: ReleaseStatus };
  expect(result.status.outcome).toBe('rejected');
  expect(result.status.compensations.map((c) => c.status)).toEqual(result.status.compensations.map(() => 'done'));
  expect(result.status.compensations.map((c) => c.label)).toContain('undo hook expand of svc-02 (Job prod/' + (undoJob[0]?.metadata?.name ?? '?') + ')');
  const jobs = (await kube.batch.listNamespacedJob({ namespace: 'prod', labelSelector: 'tidegate.io/hook=expand' })).items.filter((j) => j.metadata?.annotations?.['tidegate.io/release'] === id);
  expect(jobs.map((j) => `${j.metadata?.annotations?.['tidegate.io/phase']} ${j.metadata?.uid === undoJob[0]?.metadata?.uid ? 'same' : j.metadata?.name}`).sort()).toEqual([expect.stringMatching(/^run /), 'undo same']);
  // production is as it was: svc-02's route all on the live color
  const route = await world.view.custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: 'prod', plural: 'httproutes', name: 'svc-02' }) as { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };
  expect(route.spec.rules[0]?.backendRefs.map((b) => `${b.name}=${b.weight}`)).toEqual(['svc-02-blue=100', 'svc-02-green=0']);
  expect(await notificationsOf(world.env, id)).toEqual(['slack approval-needed', 'slack rolled-back', 'webhook approval-needed', 'webhook rolled-back']);
  workers.push(await startWorker());
}, 600_000);

test('given 20 releases of 20 services in flight, when a worker is SIGKILLed and replaced every 10 s five times, then every release is released with the same effects as an undisturbed one', async () => {
  const before = new Map<string, Record<string, number>>();
  for (const s of SERVICES) before.set(s, await generations(world.view, s));
  const version = (s: string) => (s === 'svc-01' || s === 'svc-02' ? '1.2.0' : '1.1.0');
  const sha = (s: string) => `a${s.slice(4)}00000`;
  // started four at a time, as a CI fan-out would
  for (let i = 0; i < SERVICES.length; i += 4) {
    await Promise.all(SERVICES.slice(i, i + 4).map(async (s) => expect((await tidegate(world.env, 'start', '-f', releaseSpec(dir, s, version(s), sha(s), { approval: false, canaryPause: '5s' }))).code).toBe(0)));
  }
  // each wait may take minutes under load: a lost activity is retried after its start-to-close timeout
  const waits = SERVICES.map((s) => tidegateWithin(840_000, world.env, 'status', `${s}@${version(s)}`, '--wait'));
  for (let kill = 0; kill < 5; kill++) {
    await sleep(10_000);
    const victim = workers.shift();
    await victim?.kill();
    workers.push(await startWorker());
  }
  const ends = await Promise.all(waits);
  // a release that did not end released shows what status --wait printed about it
  expect(ends.map((e, i) => `${SERVICES[i]} ${e.code}${e.code === 0 ? '' : `\n${e.stdout}${e.stderr}`}`)).toEqual(SERVICES.map((s) => `${s} 0`));
  for (const s of SERVICES) {
    const effects = await effectsOf(s, version(s), sha(s), before.get(s) ?? {}, true, 2);
    expect({ service: s, ...effects }).toEqual({ service: s, ...baseline });
  }
}, 900_000);
