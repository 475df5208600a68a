// Given the local stack brought up with three Kubernetes clusters (`stack up --clusters 3`; only
// Kubernetes, the simulators and Prometheus), each cluster runs the sample service on a control plane
// of its own, reached as contexts cluster-1..3 of one kubeconfig; a route moved in one cluster moves
// only that cluster's simulated traffic, as Prometheus sees it by the `cluster` label; and `down`
// leaves none of their processes running.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { renderQuery } from '../../src/core/template.js';
import { clusterProcessesMarker } from '../../devkit/stack/kube.js';
import { processesMentioning, running } from '../../devkit/stack/procfs.js';
import { readState, stackClusters, stackDown, stackEnv, stackSimulators, stackStatus, stackUp, type Component, type StackState } from '../../devkit/stack/stack.js';
import { repoRoot, toolPath } from '../../devkit/toolchain/tools.js';
import { eventually, processesUsing } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const run = promisify(execFile);
const dir = tempDir('stack-clusters');
const components: Component[] = ['kubernetes', 'simulator', 'prometheus'];
const CONTEXTS = ['cluster-1', 'cluster-2', 'cluster-3'];
const gw = { group: 'gateway.networking.k8s.io', version: 'v1', namespace: 'prod', plural: 'httproutes', name: 'checkout' };

let state: StackState;
let env: Record<string, string>;
/** The state once `up --clusters 1` made it a stack of one again. */
let shrunk: StackState | undefined;

/** `npm run stack -- <args>` on this test's stack: its exit code and output. */
async function stack(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TIDEGATE_STACK_DIR: dir };
  delete childEnv.NODE_OPTIONS;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'devkit/stack/cli.ts'), ...args], { env: childEnv, cwd: repoRoot, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The merged kubeconfig with `context` as its current one. */
function kubeConfigFor(context: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(env.KUBECONFIG ?? '');
  kc.setCurrentContext(context);
  return kc;
}

async function promQuery(query: string, time?: number): Promise<number | undefined> {
  const url = new URL('/api/v1/query', env.PROMETHEUS_URL);
  url.searchParams.set('query', query);
  if (time !== undefined) url.searchParams.set('time', String(time / 1000));
  const body = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
  const v = body.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

/**
 * Production requests per second of a cluster's checkout, and the share of them sent to green, over
 * the last 10 s: queries templated with {{cluster}} as a release's analyses are, the stack's context names as its values.
 */
async function traffic(cluster: string, at?: number): Promise<{ rate: number; green: number }> {
  const vars = { service: 'checkout', cluster };
  const rate = (await promQuery(renderQuery('sum(rate(http_requests_total{service="{{service}}",cluster="{{cluster}}",color=~"blue|green"}[10s]))', vars), at)) ?? 0;
  const green = (await promQuery(renderQuery('sum(rate(http_requests_total{service="{{service}}",cluster="{{cluster}}",color="green"}[10s])) or vector(0)', vars), at)) ?? 0;
  return { rate, green: rate > 0 ? green / rate : 0 };
}

/** Resident memory of the processes whose command line mentions `text`, in MiB. */
function rssMiB(text: string): number {
  const kb = processesMentioning(text).reduce((sum, pid) => {
    try {
      return sum + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return sum; // gone
    }
  }, 0);
  return kb / 1024;
}

beforeAll(async () => {
  const started = Date.now();
  state = await stackUp({ dir, components, clusters: 3 });
  env = stackEnv(state);
  console.log(`stack up --clusters 3 (kubernetes, simulators, prometheus): ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 360_000);

afterAll(async () => {
  await stackDown(dir);
}, 120_000);

test('a --clusters that is not a whole number of 1 or more exits 2 naming the flag', async () => {
  const before = readState(dir);
  for (const bad of ['0', 'three', '-1']) {
    const r = await stack('up', '--clusters', bad);
    expect([r.code, r.stderr]).toEqual([2, `--clusters takes a whole number of Kubernetes clusters, 1 or more (default: as many as run now, else 1), not ${bad}\n`]);
  }
  expect(readState(dir)).toEqual(before);
}, 60_000);

test('three contexts of one kubeconfig, each its own control plane with the sample service live on blue, each with a simulator of its own', async () => {
  expect(stackClusters(state).map((c) => [c.name, c.context, c.dir])).toEqual([
    ['tidegate', 'cluster-1', join(dir, 'kubernetes')],
    ['tidegate-2', 'cluster-2', join(dir, 'kubernetes-2')],
    ['tidegate-3', 'cluster-3', join(dir, 'kubernetes-3')],
  ]);
  // the fields a stack of one has keep their meaning: the first cluster, and the kubeconfig to use
  expect(state.kubernetes).toMatchObject({ cluster: 'tidegate', dir: join(dir, 'kubernetes'), kubeconfig: join(dir, 'kubeconfig') });
  expect(env.KUBECONFIG).toBe(join(dir, 'kubeconfig'));
  const kc = new KubeConfig();
  kc.loadFromFile(env.KUBECONFIG ?? '');
  expect(kc.getContexts().map((c) => c.name)).toEqual(CONTEXTS);
  expect(kc.getCurrentContext()).toBe('cluster-1');
  expect(new Set(kc.getClusters().map((c) => c.server)).size).toBe(3);

  for (const context of CONTEXTS) {
    const ctx = kubeConfigFor(context);
    const apps = ctx.makeApiClient(AppsV1Api);
    const core = ctx.makeApiClient(CoreV1Api);
    const blue = await apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout-blue' });
    expect([context, blue.spec?.template.spec?.containers[0]?.image, blue.status?.availableReplicas]).toEqual([context, 'registry.local/checkout:1.0.0', 3]);
    expect((await core.readNamespacedService({ namespace: 'prod', name: 'checkout' })).spec?.selector).toEqual({ app: 'checkout', color: 'blue' });
    const route = (await ctx.makeApiClient(CustomObjectsApi).getNamespacedCustomObject(gw)) as { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };
    expect(route.spec.rules[0]?.backendRefs.map((b) => b.weight)).toEqual([100, 0]);
  }

  const sims = stackSimulators(state);
  expect(sims.map((s) => s.context)).toEqual(CONTEXTS);
  expect(env.TIDEGATE_SIM_URL).toBe(sims[0]?.url);
  expect(env.TIDEGATE_SIM_URLS).toBe(sims.map((s) => `${s.context ?? ''}=${s.url}`).join(','));
  for (const sim of sims) {
    const view = (await (await fetch(`${sim.url}/state`)).json()) as { services: { checkout: { weights: { blue: number; green: number }; from: string } } };
    expect(view.services.checkout).toMatchObject({ weights: { blue: 100, green: 0 }, from: 'HTTPRoute prod/checkout' });
  }

  // kubectl takes the merged kubeconfig as it is
  const { stdout } = await run(toolPath('kubectl'), ['--context', 'cluster-3', '-n', 'prod', 'get', 'service', 'checkout', '-o', 'jsonpath={.spec.selector.color}'], { env: { ...process.env, KUBECONFIG: env.KUBECONFIG } });
  expect(stdout).toBe('blue');

  const statuses = await stackStatus(dir);
  const kube = statuses.find((s) => s.component === 'kubernetes');
  expect(kube?.up).toBe(true);
  expect(kube?.parts?.map((p) => [p.name, p.up])).toEqual(CONTEXTS.map((c) => [c, true]));
  expect(statuses.find((s) => s.component === 'simulator')?.parts?.map((p) => [p.name, p.up])).toEqual(CONTEXTS.map((c) => [c, true]));
  // and `stack status` lists each cluster under its component
  const printed = await stack('status');
  for (const context of CONTEXTS) expect(printed.stdout).toMatch(new RegExp(`^kubernetes\\s+up[^]*^  ${context}\\s+up\\s+kwok cluster`, 'm'));

  const perCluster = stackClusters(state).map((c) => rssMiB(clusterProcessesMarker(c.dir, c.name)));
  console.log(`resident memory of each control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok): ${perCluster.map((m) => `${m.toFixed(0)} MiB`).join(', ')}; total ${perCluster.reduce((a, b) => a + b, 0).toFixed(0)} MiB`);
});

test('a second up, with --clusters 3 or without the flag, keeps the same three and restarts nothing', async () => {
  const started = Date.now();
  await stackUp({ dir, components, clusters: 3 });
  expect(readState(dir)).toEqual(state);
  await stackUp({ dir, components });
  expect(readState(dir)).toEqual(state);
  console.log(`two more ups of the running 3-cluster stack: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 60_000);

test("a route moved in cluster-2 moves cluster-2's simulated traffic only, as Prometheus sees it by the cluster label", async () => {
  // every cluster's simulator is scraped, its series labelled with its cluster
  await eventually('each cluster sending about 100 requests/s to blue', () => Promise.all(CONTEXTS.map((c) => traffic(c))), (t) => t.every((c) => c.rate > 80 && c.rate < 120 && c.green === 0), 30_000);

  // when cluster-2's HTTPRoute alone sends half of the requests to green
  await kubeConfigFor('cluster-2')
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObject(
      { ...gw, body: { spec: { rules: [{ backendRefs: [{ name: 'checkout-blue', port: 80, weight: 50 }, { name: 'checkout-green', port: 80, weight: 50 }] }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  // then cluster-2's simulator follows it (it re-reads routing every 500 ms) …
  const patched = Date.now();
  const sim2 = stackSimulators(state).find((s) => s.context === 'cluster-2')?.url ?? '';
  await eventually('the cluster-2 simulator to follow its route', async () => (await (await fetch(`${sim2}/state`)).json()) as { services: { checkout: { weights: { green: number } } } }, (v) => v.services.checkout.weights.green === 50, 15_000);
  // … and over the next 10 s Prometheus sees half of cluster-2's requests on green (refused with 503:
  // green has no pods; what counts is where they go), and none of the other clusters'
  const at = Date.now() + 12_000; // a 10 s window after a scrape that followed the route
  await new Promise((r) => setTimeout(r, at + 1_500 - Date.now()));
  const seen = await Promise.all(CONTEXTS.map((c) => traffic(c, at)));
  console.log(`cluster-2 at 50/50, over the 10 s to ${((at - patched) / 1000).toFixed(1)} s after the patch: ${seen.map((t, i) => `${CONTEXTS[i] ?? ''} ${t.rate.toFixed(0)} rps, ${(t.green * 100).toFixed(1)}% green`).join('; ')}`);
  expect(seen[1]?.green).toBeGreaterThan(0.45);
  expect(seen[1]?.green).toBeLessThan(0.55);
  expect(seen[0]?.green).toBe(0);
  expect(seen[2]?.green).toBe(0);
  expect(seen.every((t) => t.rate > 80 && t.rate < 120)).toBe(true);
  // and the other simulators still read 100/0 from their own clusters
  for (const sim of stackSimulators(state)) {
    const view = (await (await fetch(`${sim.url}/state`)).json()) as { services: { checkout: { weights: { green: number } } } };
    expect([sim.context, view.services.checkout.weights.green]).toEqual([sim.context, sim.context === 'cluster-2' ? 50 : 0]);
  }
}, 120_000);

test('up --clusters 1 goes back to a stack of one: the others stopped, the state and environment as a stack of one has them', async () => {
  const three = readState(dir);
  const one = await stackUp({ dir, components, clusters: 1 });
  shrunk = one;
  expect(one.kubernetes).toEqual({ cluster: 'tidegate', kubeconfig: join(dir, 'kubernetes', 'kubeconfig'), dir: join(dir, 'kubernetes') });
  expect(one.simulators).toBeUndefined();
  expect(Object.keys(one.simulator ?? {}).sort()).toEqual(['config', 'pid', 'port', 'url']);
  expect(stackEnv(one).KUBECONFIG).toBe(join(dir, 'kubernetes', 'kubeconfig'));
  expect(stackEnv(one).TIDEGATE_SIM_URLS).toBeUndefined();
  expect(existsSync(join(dir, 'kubeconfig'))).toBe(false);
  for (const c of stackClusters(three).slice(1)) expect([c.context, processesMentioning(clusterProcessesMarker(c.dir, c.name)), existsSync(c.dir)]).toEqual([c.context, [], false]);
  expect(stackSimulators(three).slice(1).filter((s) => running(s.pid))).toEqual([]);
  // the first cluster kept its control plane, and Prometheus scrapes its one simulator without a cluster label, as before
  expect(processesMentioning(clusterProcessesMarker(join(dir, 'kubernetes'), 'tidegate')).length).toBeGreaterThanOrEqual(4);
  const config = readFileSync(join(dir, 'prometheus', 'prometheus.yml'), 'utf8');
  expect(config).toContain(`"targets": [\n            "127.0.0.1:${one.simulator?.port ?? 0}"\n          ]\n        }`);
  expect(config).not.toContain('cluster');
}, 120_000);

test('down stops every control plane and every simulator; nothing is left running', async () => {
  await stackDown(dir);
  expect(processesUsing(dir)).toEqual([]);
  for (const c of stackClusters(state)) expect([c.context, processesMentioning(clusterProcessesMarker(c.dir, c.name))]).toEqual([c.context, []]);
  // a stopped server may stay a zombie until init reaps it: "still running" is what counts
  const pids = [...stackSimulators(state).map((s) => s.pid), ...stackSimulators(shrunk ?? {}).map((s) => s.pid), state.prometheus?.pid ?? 0];
  expect(pids.filter((pid) => running(pid))).toEqual([]);
  expect(existsSync(join(dir, 'kubeconfig'))).toBe(false);
  expect(readState(dir)).toEqual({});
  const statuses = await stackStatus(dir);
  expect(statuses.filter((s) => s.up)).toEqual([]);
}, 120_000);
