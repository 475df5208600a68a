// Release trains through the CLI against the local stack (Temporal dev server, the control plane
// with the sample service, the GitHub fake holding the repository's tags) and a `tidegate worker`
// process: a schedule on a one-minute cron fires by itself, releases the newest tag as an ordinary
// release that approvers approve as usual, reports it on the tag's commit, and the next firing
// starts nothing; list / pause / resume / delete act on the schedule.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseStatus } from '../../src/core/status.js';
import type { TrainSchedule } from '../../src/client/schedules.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { stackDown, stackEnv, stackUp } from '../../devkit/stack/stack.js';
import { clusterView, eventually, productionState, startWorkerProcess, tidegate, userEnv, type ClusterView } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('e2e-schedules');
const REPO = 'acme/checkout';
const SPEC = join(dir, 'release.json');
let env: NodeJS.ProcessEnv;
let worker: ManagedProcess;
let view: ClusterView;

async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}
async function schedules(): Promise<TrainSchedule[]> {
  const r = await tidegate(env, 'schedule', 'list', '--json');
  if (r.code !== 0) throw new Error(`schedule list exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as TrainSchedule[];
}

beforeAll(async () => {
  // the spec as the team keeps it: the version and image are whatever the train resolves
  writeFileSync(
    SPEC,
    JSON.stringify({
      service: 'checkout',
      version: '0.0.0',
      image: 'registry.local/checkout:0.0.0',
      source: { repo: REPO, sha: '0000000' },
      staging: { namespace: 'staging', deployment: 'checkout' },
      production: {
        namespace: 'prod',
        blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', scaleDownDelay: '1s' },
        canary: { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 20 }, { pause: { duration: '2s' } }] },
        approval: { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, timeout: '10m' },
      },
    }),
  );
  const state = await stackUp({ dir, components: ['temporal', 'kubernetes', 'github'] });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci' });
  view = clusterView(state.kubernetes?.kubeconfig ?? '');
  worker = await startWorkerProcess(env, join(dir, 'worker.log'));
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await stackDown(dir);
});

test('a train on a one-minute cron releases the newest tag, approved as usual; the next firing starts nothing', async () => {
  // given the repository's tags: two releases, a release candidate, and a tag that is no version
  const tags = [
    { name: 'v3.4.0', sha: 'aaaa3400' },
    { name: 'v3.5.0', sha: 'bbbb3500' },
    { name: 'v3.6.0-rc.1', sha: 'cccc3601' },
    { name: 'latest', sha: 'bbbb3500' },
  ];
  expect((await fetch(`${env.GITHUB_API_URL}/_fake/repos/${REPO}/tags`, { method: 'PUT', body: JSON.stringify(tags) })).status).toBe(200);

  // when carol puts checkout on a train firing every minute
  const created = await tidegate(env, 'schedule', 'create', 'checkout-train', '-f', SPEC, '--cron', '* * * * *', '--from-tags', '--as', 'carol');
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  expect(created.stdout).toMatch(/^schedule checkout-train created: checkout-train {2}checkout {2}"\* \* \* \* \*" {2}newest tag {2}next \S+\n$/);
  // a second schedule of the same id is refused, the first left as it was
  const again = await tidegate(env, 'schedule', 'create', 'checkout-train', '-f', SPEC, '--cron', '0 3 * * *', '--versions', '9.9.9');
  expect(again).toMatchObject({ code: 3, stderr: expect.stringContaining('schedule checkout-train exists') });

  // then within the minute the train releases checkout@3.5.0, an ordinary release waiting for its approvers
  const gate = await eventually('checkout@3.5.0 to wait for approval', () => status('checkout@3.5.0').catch(() => undefined), (s) => s?.stage === 'approval', 150_000);
  if (!gate) throw new Error('unreachable: eventually returned no status');
  expect(gate.initiator).toBe('schedule:checkout-train (by carol)');
  expect(gate.services[0]).toMatchObject({ version: '3.5.0', image: 'registry.local/checkout:3.5.0' });
  expect((await productionState(view)).staging).toBe('registry.local/checkout:3.5.0');
  const [running] = await schedules();
  expect(running?.last).toMatch(/^running since /);

  for (const who of ['alice', 'bob']) expect((await tidegate(env, 'approve', 'checkout@3.5.0', '--as', who)).code).toBe(0);
  expect((await tidegate(env, 'status', 'checkout@3.5.0', '--wait')).code).toBe(0);
  const after = await productionState(view);
  expect(after.images[after.live ?? '']).toBe('registry.local/checkout:3.5.0');
  // reported on the tag's commit, not on the spec's placeholder
  const statuses = (await (await fetch(`${env.GITHUB_API_URL}/repos/${REPO}/commits/bbbb3500/statuses`, { headers: { authorization: `token ${env.GITHUB_TOKEN}` } })).json()) as { context: string; state: string }[];
  expect(statuses[0]).toMatchObject({ context: 'tidegate/checkout', state: 'success' });

  // and the next firing finds nothing new: the list says so
  const [idle] = await eventually('a firing after the release', schedules, (all) => all[0]?.last?.startsWith('started nothing') === true, 150_000);
  expect(idle?.last).toBe('started nothing: checkout@3.5.0 has a release already: nothing new to ship');
  expect((await tidegate(env, 'schedule', 'list')).stdout).toContain('last fired');
}, 420_000);

test('pause, resume and delete act on the schedule; deleting it twice says there is none', async () => {
  const paused = await tidegate(env, 'schedule', 'pause', 'checkout-train', '--reason', 'sale week', '--as', 'erin');
  expect(paused.code).toBe(0);
  expect(paused.stdout).toContain('PAUSED (paused by erin: sale week)');
  expect((await schedules())[0]).toMatchObject({ id: 'checkout-train', paused: true, note: 'paused by erin: sale week' });
  expect((await tidegate(env, 'schedule', 'resume', 'checkout-train', '--as', 'erin')).stdout).toMatch(/resumed: .* next \S+/);
  expect((await tidegate(env, 'schedule', 'delete', 'checkout-train')).code).toBe(0);
  expect((await tidegate(env, 'schedule', 'list')).stdout).toBe('no release trains (tidegate schedule create …)\n');
  expect(await tidegate(env, 'schedule', 'delete', 'checkout-train')).toMatchObject({ code: 2, stderr: expect.stringContaining('no schedule checkout-train') });
}, 120_000);
