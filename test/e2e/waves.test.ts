// A release across clusters on the whole local stack with three control planes (`stack up --clusters
// 3`): a `tidegate worker` process holding the three as kubeconfig contexts, Prometheus labelling
// each cluster's simulated traffic by cluster, the CLI as a user runs it. Given / when / then: a
// release in two waves ships to all three though its worker is SIGKILLed during the first wave's
// bake; the next release, whose canary fails only in the last wave's cluster, puts every cluster
// back as it was — the first wave's too — and exits 10.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseStatus } from '../../src/core/status.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { stackClusters, stackDown, stackEnv, stackUp, type StackState } from '../../devkit/stack/stack.js';
import { clusterView, eventually, productionState, startWorkerProcess, tidegate, userEnv, type ClusterView } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('e2e-waves');
const CONTEXTS = ['cluster-1', 'cluster-2', 'cluster-3'] as const;
let state: StackState;
let env: NodeJS.ProcessEnv;
let worker: ManagedProcess;
let workers = 0;
const views = new Map<string, ClusterView>();

const startWorker = (): Promise<ManagedProcess> => startWorkerProcess(env, join(dir, `worker-${++workers}.log`));

/** checkout to cluster-1 (baked 15 s), then cluster-2 and cluster-3 together; each canary judged on its own cluster's traffic. */
function spec(version: string): string {
  const file = join(dir, `release-${version}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      service: 'checkout',
      version,
      image: `registry.local/checkout:${version}`,
      production: {
        namespace: 'prod',
        blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', scaleDownDelay: '1s' },
        canary: { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 30 }, { analysis: { analyses: ['success-rate'] } }, { setWeight: 60 }] },
      },
      analyses: {
        'success-rate': {
          query:
            'sum(rate(http_requests_total{service="{{service}}",color="{{color}}",cluster="{{cluster}}",code!~"5.."}[5s])) / sum(rate(http_requests_total{service="{{service}}",color="{{color}}",cluster="{{cluster}}"}[5s]))',
          successCondition: '>= 0.95',
          interval: '3s',
          count: 3,
          failureLimit: 1,
        },
      },
      clusters: Object.fromEntries(CONTEXTS.map((c) => [c, { context: c }])),
      waves: [
        { name: 'first', clusters: ['cluster-1'], bake: '15s' },
        { name: 'rest', clusters: ['cluster-2', 'cluster-3'], maxParallel: 2 },
      ],
    }),
  );
  return file;
}

async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}

const production = (context: string) => productionState(views.get(context) as ClusterView);

beforeAll(async () => {
  state = await stackUp({ dir, components: ['temporal', 'kubernetes', 'simulator', 'prometheus'], clusters: 3 });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci' });
  for (const c of stackClusters(state)) views.set(c.context, clusterView(c.kubeconfig));
  worker = await startWorker();
}, 420_000);

afterAll(async () => {
  await worker?.stop();
  await stackDown(dir);
});

test('two waves to three clusters ship everywhere, though the worker is SIGKILLed during the bake', async () => {
  for (const c of CONTEXTS) expect(await production(c)).toMatchObject({ live: 'blue' });
  const started = await tidegate(env, 'start', '-f', spec('2.0.0'));
  expect(started.code).toBe(0);
  const id = 'checkout@2.0.0';
  // the first wave released and baking; the second not started
  const baking = await eventually(`${id} to bake its first wave`, () => status(id), (s) => s.stage === 'bake', 180_000);
  expect(baking.waves?.[0]).toMatchObject({ state: 'baking', clusters: [{ cluster: 'cluster-1', phase: 'released' }] });
  expect(await production('cluster-1')).toMatchObject({ live: 'green', images: { green: 'registry.local/checkout:2.0.0' } });
  expect(await production('cluster-2')).toMatchObject({ live: 'blue', route: { 'checkout-blue': 100, 'checkout-green': 0 } });
  // when the worker dies during the bake and another takes its place
  await worker.kill();
  // (the kill landed during the bake: the release's stage as the server holds it, no worker needed)
  const listed = JSON.parse((await tidegate(env, 'list', '--running', '--json')).stdout) as { releaseId: string; stage: string }[];
  expect(listed.find((r) => r.releaseId === id)?.stage).toBe('bake');
  worker = await startWorker();
  const done = await tidegate(env, 'status', id, '--wait', '--json');
  expect(done.code).toBe(0);
  const result = JSON.parse(done.stdout) as { outcome: string; status: ReleaseStatus };
  expect(result.outcome).toBe('released');
  for (const c of CONTEXTS) {
    expect(await production(c)).toMatchObject({ live: 'green', route: { 'checkout-blue': 0, 'checkout-green': 100 }, images: { green: 'registry.local/checkout:2.0.0' } });
  }
  // the old color scaled down once every wave had released (committed), in each cluster
  for (const c of CONTEXTS) await eventually(`blue scaled down in ${c}`, () => production(c), (p) => p.replicas.blue === 0, 30_000);
  expect((await tidegate(env, 'status', id)).stdout).toMatch(/2 rest: released\n\s+✓ cluster-2\s+released\n\s+✓ cluster-3\s+released/);
}, 420_000);

test("a canary failing only in the last wave's cluster rolls every cluster back, the first wave's too, and exits 10", async () => {
  // cluster-3's traffic to 2.1.0 fails 30% of requests; the same image is healthy in the other clusters
  const sims = new Map((env.TIDEGATE_SIM_URLS ?? '').split(',').map((kv) => kv.split('=') as [string, string]));
  const res = await fetch(`${sims.get('cluster-3') ?? ''}/images/${encodeURIComponent('registry.local/checkout:2.1.0')}`, { method: 'PUT', body: JSON.stringify({ errorRate: 0.3 }) });
  expect(res.status).toBe(200);
  expect((await tidegate(env, 'start', '-f', spec('2.1.0'))).code).toBe(0);
  const done = await tidegate(env, 'status', 'checkout@2.1.0', '--wait', '--json');
  expect(done.code).toBe(10);
  const result = JSON.parse(done.stdout) as { outcome: string; reason: string; status: ReleaseStatus };
  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toMatch(/^cluster-3: analysis success-rate failed at canary step 2 of checkout/);
  // every cluster as before the release: green live with 2.0.0, all traffic on it
  for (const c of CONTEXTS) {
    expect(await production(c)).toMatchObject({ live: 'green', route: { 'checkout-blue': 0, 'checkout-green': 100 }, images: { green: 'registry.local/checkout:2.0.0' } });
  }
  const text = (await tidegate(env, 'status', 'checkout@2.1.0')).stdout;
  expect(text).toContain('rollback, newest first: cluster-3 rolled itself back, then cluster-2 undone, cluster-1 undone');
}, 420_000);
