// Given the local stack (Temporal dev server, the control plane with the sample service) and a
// `tidegate worker` process with the real Kubernetes adapter, when CI starts a release and two
// approvers approve through the CLI, then the release ends released with green live on the new image;
// and when another tool moves traffic back under a running release, the release does not act on it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseStatus } from '../../src/core/status.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { stackDown, stackEnv, stackReset, stackUp } from '../../devkit/stack/stack.js';
import { clusterView, eventually, productionState, startWorkerProcess, tidegate, userEnv, type ClusterView } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('e2e-k8s');
const spec = join(repoRoot, 'test/fixtures/specs/checkout-without-analysis.yaml');
let env: NodeJS.ProcessEnv;
let worker: ManagedProcess;
let view: ClusterView;

beforeAll(async () => {
  const state = await stackUp({ dir, components: ['temporal', 'kubernetes'] });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci' });
  view = clusterView(state.kubernetes?.kubeconfig ?? '');
  worker = await startWorkerProcess(env, join(dir, 'worker.log'));
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await stackDown(dir);
});

test('a healthy release of the sample service, approved through the CLI, ends with green live on the new image', async () => {
  // given blue live on 1.0.0
  expect(await productionState(view)).toMatchObject({ live: 'blue', images: { blue: 'registry.local/checkout:1.0.0' }, route: { 'checkout-blue': 100, 'checkout-green': 0 } });

  // when CI starts the release (twice: a retry returns the same release)
  const started = await tidegate(env, 'start', '-f', spec, '--version', '1.1.0', '--image', 'registry.local/checkout:1.1.0');
  expect(started).toMatchObject({ code: 0 });
  expect(started.stdout).toContain('checkout@1.1.0 started');
  expect((await tidegate(env, 'start', '-f', spec, '--version', '1.1.0', '--image', 'registry.local/checkout:1.1.0')).stdout).toContain('checkout@1.1.0 already running');

  // the canary reaches 50% on green and waits to be promoted
  await eventually('the canary to pause at 50%', async () => JSON.parse((await tidegate(env, 'status', 'checkout@1.1.0', '--json')).stdout) as { pause?: { code: string } }, (s) => s.pause?.code === 'awaiting-promote');
  expect(await productionState(view)).toMatchObject({ live: 'blue', route: { 'checkout-blue': 50, 'checkout-green': 50 }, images: { green: 'registry.local/checkout:1.1.0' }, replicas: { green: 3 }, staging: 'registry.local/checkout:1.1.0' });
  expect((await tidegate(env, 'promote', 'checkout@1.1.0')).code).toBe(0);

  // approvals: the initiator and strangers are refused, two listed approvers approve
  await eventually('the approval gate', async () => JSON.parse((await tidegate(env, 'status', 'checkout@1.1.0', '--json')).stdout) as { stage: string }, (s) => s.stage === 'approval');
  const self = await tidegate(env, 'approve', 'checkout@1.1.0', '--as', 'ci');
  expect(self.code).toBe(3);
  expect(self.stderr).toMatch(/refused: .*ci/);
  expect((await tidegate(env, 'approve', 'checkout@1.1.0', '--as', 'mallory')).code).toBe(3);
  expect((await tidegate(env, 'approve', 'checkout@1.1.0', '--as', 'alice', '--comment', 'canary looks good')).code).toBe(0);
  expect((await tidegate(env, 'approve', 'checkout@1.1.0', '--as', 'bob')).code).toBe(0);

  // then the release ends released (exit 0), green is live on 1.1.0 and blue is scaled down
  const done = await tidegate(env, 'status', 'checkout@1.1.0', '--wait', '--json');
  expect(done.code).toBe(0);
  expect(JSON.parse(done.stdout)).toMatchObject({ outcome: 'released' });
  const after = await productionState(view);
  expect(after).toMatchObject({ live: 'green', route: { 'checkout-blue': 0, 'checkout-green': 100 }, images: { green: 'registry.local/checkout:1.1.0' }, replicas: { green: 3 } });
  const blue = await eventually('blue scaled down', () => view.apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout-blue' }), (d) => d.spec?.replicas === 0, 10_000);
  expect(blue.spec?.replicas).toBe(0);
}, 240_000);

test('the sample reset by another tool during the scale-down delay: the release pauses instead of scaling the serving color down, and an abort leaves it serving', async () => {
  // given blue live on 1.0.0 again, and a release to green with a 40 s scale-down delay
  await stackReset(dir);
  const file = join(dir, 'release-1.2.0.json');
  writeFileSync(
    file,
    JSON.stringify({
      service: 'checkout',
      version: '1.2.0',
      image: 'registry.local/checkout:1.2.0',
      production: {
        namespace: 'prod',
        blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', scaleDownDelay: '40s' },
        canary: { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { pause: { duration: '1s' } }] },
      },
    }),
  );
  expect((await tidegate(env, 'start', '-f', file)).code).toBe(0);
  const status = async (): Promise<ReleaseStatus> => JSON.parse((await tidegate(env, 'status', 'checkout@1.2.0', '--json')).stdout) as ReleaseStatus;
  await eventually('the scale-down delay', status, (s) => s.stage === 'scale-down', 120_000);
  expect(await productionState(view)).toMatchObject({ live: 'green', route: { 'checkout-blue': 0, 'checkout-green': 100 } });

  // when another tool puts the sample service back as it was (blue live, all traffic on blue)
  await stackReset(dir);
  expect(await productionState(view)).toMatchObject({ live: 'blue', route: { 'checkout-blue': 100, 'checkout-green': 0 } });

  // then, at the end of the delay, the release reads where traffic goes, sees blue serving and pauses
  const paused = await eventually('the drift pause', status, (s) => s.pausedFor !== undefined, 180_000);
  expect(paused.pausedFor).toMatch(/^traffic of checkout changed outside this release \(the active Service selects blue \(expected green\); the router sends blue 100% \/ green 0% \(expected blue 0% \/ green 100%\)\); not scaling checkout-blue down/);
  expect((await view.apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout-blue' })).spec?.replicas).toBe(3);
  expect((await tidegate(env, 'status', 'checkout@1.2.0')).stdout).toContain('PAUSED: traffic of checkout changed outside this release');

  // and an abort rolls back only what is still the release's: blue keeps serving on its 3 replicas
  expect((await tidegate(env, 'abort', 'checkout@1.2.0', '--reason', 'someone reset the service')).code).toBe(0);
  const done = await tidegate(env, 'status', 'checkout@1.2.0', '--wait', '--json');
  expect(done.code).toBe(12);
  expect(await productionState(view)).toMatchObject({ live: 'blue', route: { 'checkout-blue': 100, 'checkout-green': 0 }, images: { blue: 'registry.local/checkout:1.0.0' }, replicas: { blue: 3 } });
  expect((await view.apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout-blue' })).spec?.replicas).toBe(3);
}, 420_000);
