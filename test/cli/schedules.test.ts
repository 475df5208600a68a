// Given the Temporal dev server, a worker with in-memory adapters (the repository's tags in the
// fake), and release trains created through src/client/schedules.ts… a firing releases the newest
// tag as an ordinary release with its own id, a second firing finds nothing new, an explicit list is
// shipped in order, and pause / resume / delete act on the schedule, not on the releases it started.
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { Releases } from '../../src/client/releases.js';
import { createSchedule, deleteSchedule, describeSchedule, describeTrainResult, listSchedules, pauseSchedule, renderSchedule, resumeSchedule, SCHEDULE_PREFIX } from '../../src/client/schedules.js';
import { validateSpec, type ReleaseSpec } from '../../src/spec/index.js';
import { createWorker } from '../../src/workers/main.js';
import type { TrainResult } from '../../src/workflows/train.js';
import type { DevServer } from '../../devkit/stack/temporal.js';
import { FakeWorld } from '../../devkit/testing/harness.js';
import { startTestDevServer } from '../../devkit/testing/servers.js';

let server: DevServer & { dir: string };
let connection: Connection;
let client: Client;
let releases: Releases;
let world: FakeWorld;
let worker: Worker;
let running: Promise<void>;
let closeWorker: () => Promise<void>;

function spec(service: string): ReleaseSpec {
  const parsed = validateSpec({
    service,
    version: '0.0.0',
    image: `registry.local/${service}:0.0.0`,
    source: { repo: `acme/${service}`, sha: '0000000' },
    production: {
      namespace: 'prod',
      blueGreen: { activeService: service, deploymentPrefix: service, scaleDownDelay: '1s' },
      approval: { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, timeout: '24h' },
    },
    analyses: {},
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec;
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Fires the schedule now and returns its train's result. */
async function fire(id: string): Promise<TrainResult> {
  const before = (await client.schedule.getHandle(`${SCHEDULE_PREFIX}${id}`).describe()).info.recentActions.length;
  await client.schedule.getHandle(`${SCHEDULE_PREFIX}${id}`).trigger();
  const d = await until('the schedule to fire', () => client.schedule.getHandle(`${SCHEDULE_PREFIX}${id}`).describe(), (x) => x.info.recentActions.length > before);
  const train = d.info.recentActions.at(-1)!.action.workflow;
  return client.workflow.getHandle<() => Promise<TrainResult>>(train.workflowId, train.firstExecutionRunId).result();
}

beforeAll(async () => {
  server = await startTestDevServer();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace });
  releases = new Releases(client, 'tidegate');
  world = new FakeWorld();
  const { measure, watch, awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags, runHook, ...kubernetes } = world.activities();
  ({ worker, close: closeWorker } = await createWorker({
    temporal: { address: server.address, namespace: server.namespace },
    taskQueue: 'tidegate',
    adapters: { kubernetes, metrics: { measure, watch }, github: { awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags }, hooks: { runHook } },
  }));
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await closeWorker?.();
  await connection?.close();
  await server?.stop();
});

test('a firing releases the newest release tag as cart@<version>; the next firing finds nothing new', async () => {
  world.tags.set('acme/cart', [
    { name: 'v1.3.0-rc.1', sha: 'c0ffee13' },
    { name: 'v1.2.0', sha: 'c0ffee12' },
    { name: 'v1.10.0-beta', sha: 'c0ffee1b' },
    { name: 'v1.1.0', sha: 'c0ffee11' },
  ]);
  const created = await createSchedule(client, 'tidegate', { id: 'cart-nightly', spec: spec('cart'), cron: '0 3 * * *', timeZone: 'Europe/Berlin', version: { from: 'tags' }, by: 'carol' });
  expect(created).toMatchObject({ id: 'cart-nightly', cron: '0 3 * * *', timeZone: 'Europe/Berlin', paused: false, release: 'cart', version: 'newest tag', createdBy: 'carol' });
  expect(created.nextRuns).toHaveLength(3);

  const firing = fire('cart-nightly');
  const status = await until('cart@1.2.0 to wait for approval', () => releases.status('cart@1.2.0'), (s) => s.stage === 'approval');
  expect(status.initiator).toBe('schedule:cart-nightly (by carol)');
  expect(status.services[0]).toMatchObject({ version: '1.2.0', image: 'registry.local/cart:1.2.0' });
  expect((await describeSchedule(client, 'cart-nightly')).last).toMatch(/^running since /);
  await releases.approve('cart@1.2.0', 'alice');
  await releases.approve('cart@1.2.0', 'bob');
  expect(await firing).toEqual({ started: true, releaseId: 'cart@1.2.0', version: '1.2.0', outcome: 'released' });
  expect(world.service('cart').active).toBe('green');

  expect((await describeSchedule(client, 'cart-nightly')).last).toBe('shipped cart@1.2.0: released');
  expect(await fire('cart-nightly')).toEqual({ started: false, reason: 'cart@1.2.0 has a release already: nothing new to ship' });
  // the list says what the newest firing did
  const [listed] = await listSchedules(client);
  expect(listed?.recent).toHaveLength(2);
  expect(renderSchedule(listed!)).toMatch(/^cart-nightly {2}cart {2}"0 3 \* \* \*" Europe\/Berlin {2}newest tag {2}next \S+ {2}last fired \S+: started nothing: cart@1.2.0 has a release already: nothing new to ship$/);
  await deleteSchedule(client, 'cart-nightly');
}, 180_000);

test('an explicit list ships its next version; pause, resume and delete act on the schedule only', async () => {
  await createSchedule(client, 'tidegate', { id: 'pay-train', spec: spec('pay'), cron: '30 9 * * 1-5', version: { from: 'list', versions: ['2.0.0', '2.1.0'] }, by: 'carol' });
  const paused = await pauseSchedule(client, 'pay-train', 'erin', 'incident 4711');
  expect(paused).toMatchObject({ paused: true, note: 'paused by erin: incident 4711' });
  expect((await listSchedules(client)).map((s) => `${s.id} ${s.paused}`)).toEqual(['pay-train true']);
  expect(await resumeSchedule(client, 'pay-train', 'erin')).toMatchObject({ paused: false, note: 'resumed by erin' });

  const firing = fire('pay-train');
  await until('pay@2.0.0 to wait for approval', () => releases.status('pay@2.0.0'), (s) => s.stage === 'approval');
  // deleting the schedule leaves the release it started running
  await deleteSchedule(client, 'pay-train');
  expect(await listSchedules(client)).toEqual([]);
  await releases.reject('pay@2.0.0', 'bob', 'not this week');
  expect(await firing).toMatchObject({ started: true, releaseId: 'pay@2.0.0', outcome: 'rejected' });
  expect(describeTrainResult(await firing)).toBe('shipped pay@2.0.0: rejected (bob rejected pay: not this week)');
  await expect(pauseSchedule(client, 'pay-train', 'erin', 'x')).rejects.toThrow('no schedule pay-train (tidegate schedule list shows them)');
}, 180_000);

test('bad schedule arguments exit 2 naming the problem, before any server is asked', async () => {
  const { runCli } = await import('../../src/client/cli.js');
  const specPath = new URL('../fixtures/specs/checkout.yaml', import.meta.url).pathname;
  const cases: [string[], string][] = [
    [['schedule'], 'schedule needs one of create, list, pause, resume, delete (got "")'],
    [['schedule', 'create'], "schedule create needs the schedule's id"],
    [['schedule', 'create', 'nightly', '-f', specPath, '--from-tags'], 'schedule create needs --cron EXPR'],
    [['schedule', 'create', 'nightly', '-f', specPath, '--cron', '0 3 * * *'], 'schedule create needs --from-tags'],
    [['schedule', 'create', 'nightly', '-f', specPath, '--cron', '0 3 * * *', '--from-tags', '--versions', '1.0.0'], 'give --from-tags or --versions, not both'],
    [['schedule', 'create', 'nightly', '-f', specPath, '--cron', '0 3 * * *', '--versions', '1.0.0,latest'], '--versions: latest is not a version (X.Y.Z)'],
    [['schedule', 'create', 'nightly', '-f', specPath, '--cron', '0 3 * * *', '--from-tags', '--time-zone', 'Mars/Base'], '--time-zone Mars/Base is not an IANA time zone'],
    [['schedule', 'pause', 'nightly'], 'schedule pause needs --reason TEXT'],
  ];
  for (const [argv, message] of cases) {
    let stderr = '';
    const code = await runCli(argv, {
      stdout: () => undefined,
      stderr: (t) => void (stderr += t),
      env: {},
      connect: () => Promise.reject(new Error('no server should be asked')),
    });
    expect({ argv, code, stderr }).toEqual({ argv, code: 2, stderr: expect.stringContaining(message) as unknown as string });
  }
});
