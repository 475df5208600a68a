// Windows, freezes and stop-the-line through the CLI against the local stack (Temporal dev server,
// the control plane with the sample service) and a `tidegate worker` process whose calendar file
// (TIDEGATE_CALENDAR) the test edits: a release inside a freeze waits before its first change and
// says until when; `tidegate freeze` holds every release, `unfreeze` lets them go on at once, and
// `abort --all --service` aborts every running release of a service.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseStatus } from '../../src/core/status.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { stackDown, stackEnv, stackUp } from '../../devkit/stack/stack.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import { clusterView, eventually, productionState, startWorkerProcess, tidegate, userEnv, type ClusterView } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('e2e-freeze');
const SPEC = join(repoRoot, 'test/fixtures/specs/checkout-without-analysis.yaml');
const CALENDAR = join(dir, 'calendar.yaml');
let env: NodeJS.ProcessEnv;
let worker: ManagedProcess;
let view: ClusterView;

const start = (version: string) => tidegate(env, 'start', '-f', SPEC, '--version', version, '--image', `registry.local/checkout:${version}`);
async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}
const waiting = (id: string) => eventually(`${id} to wait for its window`, () => status(id), (s) => s.waiting !== undefined, 90_000);
const noFreeze = (): void => writeFileSync(CALENDAR, '# no windows, no freezes\nfreezes: []\n');

beforeAll(async () => {
  noFreeze();
  const state = await stackUp({ dir, components: ['temporal', 'kubernetes'] });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci', TIDEGATE_CALENDAR: CALENDAR });
  view = clusterView(state.kubernetes?.kubeconfig ?? '');
  worker = await startWorkerProcess(env, join(dir, 'worker.log'));
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await stackDown(dir);
});

test("a freeze in the worker's calendar holds a release before staging and says until when; an edit of the file and unfreeze let it go on at once", async () => {
  const until = new Date(Date.now() + 3 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  writeFileSync(CALENDAR, `freezes:\n  - from: "2020-01-01T00:00:00Z"\n    until: "${until}"\n    reason: change freeze for the sale\n`);
  expect((await start('3.1.0')).code).toBe(0);
  const held = await waiting('checkout@3.1.0');
  expect(held.waiting).toMatchObject({ stage: 'staging', source: 'worker', opensAt: new Date(until).toISOString() });
  expect((await tidegate(env, 'status', 'checkout@3.1.0')).stdout).toContain(`WAITING (staging of checkout) for the window that opens at ${new Date(until).toISOString()}: frozen until ${until}: change freeze for the sale (the worker's calendar)`);
  expect((await productionState(view)).staging).toBe('registry.local/checkout:1.0.0');

  // when the freeze is taken out of the file and the releases are told (unfreeze with no freeze in force)
  noFreeze();
  const told = await tidegate(env, 'unfreeze', '--as', 'oncall');
  expect(told.code).toBe(0);
  expect(told.stdout).toContain('no freeze was in force; told 1 running release');
  // then it goes on without waiting for its hourly check: staging gets the new image
  await eventually('staging to get 3.1.0', () => productionState(view), (p) => p.staging === 'registry.local/checkout:3.1.0', 90_000);
  expect((await tidegate(env, 'abort', 'checkout@3.1.0', '--reason', 'end of test')).code).toBe(0);
  expect((await tidegate(env, 'status', 'checkout@3.1.0', '--wait')).code).toBe(12);
}, 240_000);

test('tidegate freeze holds new releases, abort --all --service aborts them, unfreeze lets the next one through', async () => {
  const frozen = await tidegate(env, 'freeze', '--as', 'erin', '--reason', 'incident 4711');
  expect(frozen.code).toBe(0);
  expect(frozen.stdout).toContain('frozen by erin: incident 4711');
  // a second freeze changes nothing and says who froze
  expect((await tidegate(env, 'freeze', '--as', 'frank', '--reason', 'another')).stdout).toMatch(/^already frozen by erin since .*: incident 4711; nothing changed/);
  expect((await tidegate(env, 'freeze')).stdout).toMatch(/^frozen by erin since \S+: incident 4711/);

  expect((await start('3.2.0')).code).toBe(0);
  const held = await waiting('checkout@3.2.0');
  expect(held.waiting).toMatchObject({ stage: 'staging', source: 'global-freeze' });
  expect(held.waiting?.opensAt).toBeUndefined();
  expect((await tidegate(env, 'status', 'checkout@3.2.0')).stdout).toMatch(/WAITING \(staging of checkout\): frozen by erin since \S+: incident 4711 \(tidegate unfreeze lifts it\)/);

  // stop the line: every running release of checkout is aborted, through the search attributes
  const none = await tidegate(env, 'abort', '--all', '--service', 'payments', '--reason', 'wrong service');
  expect(none).toMatchObject({ code: 0, stdout: 'no running release of payments; nothing to abort\n' });
  const all = await tidegate(env, 'abort', '--all', '--service', 'checkout', '--as', 'erin', '--reason', 'incident 4711', '--json');
  expect(all.code).toBe(0);
  expect(JSON.parse(all.stdout)).toEqual({ aborted: [{ releaseId: 'checkout@3.2.0', outcome: 'accepted' }] });
  const done = await tidegate(env, 'status', 'checkout@3.2.0', '--wait', '--json');
  expect(done.code).toBe(12);
  expect(JSON.parse(done.stdout)).toMatchObject({ outcome: 'aborted', reason: 'aborted by erin: incident 4711' });

  // a release started during the freeze goes on as soon as it is lifted
  expect((await start('3.3.0')).code).toBe(0);
  await waiting('checkout@3.3.0');
  const lifted = await tidegate(env, 'unfreeze', '--as', 'erin');
  expect(lifted.code).toBe(0);
  expect(lifted.stdout).toMatch(/^unfrozen by erin \(frozen by erin since \S+: incident 4711\); told 1 running release/);
  expect((await tidegate(env, 'freeze')).stdout).toContain('no freeze in force');
  await eventually('checkout@3.3.0 to pass staging', () => status('checkout@3.3.0'), (s) => s.waiting === undefined && s.services[0]?.stages.staging === 'done', 90_000);
  expect((await tidegate(env, 'abort', '--all', '--reason', 'end of test')).code).toBe(0);
  expect((await tidegate(env, 'status', 'checkout@3.3.0', '--wait')).code).toBe(12);
}, 300_000);
