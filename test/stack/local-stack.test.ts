// Given the local stack brought up by its own command (`npm run stack -- up` with a directory of
// this test's), the sample service runs on the real control plane, the traffic simulator follows
// the HTTPRoute's weights and the admin API's behaviours, and Prometheus records what it sends.
import { payloadKeysFromEnv } from '../../src/temporal/codec.js';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { running } from '../../devkit/stack/procfs.js';
import { readState, type StackState } from '../../devkit/stack/stack.js';
import { canConnect } from '../../devkit/stack/temporal.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import { eventually, guardStack, processesUsing } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const run = promisify(execFile);
const dir = tempDir('stack');

async function stack(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TIDEGATE_STACK_DIR: dir };
  delete env.NODE_OPTIONS;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'devkit/stack/cli.ts'), ...args], { env, cwd: repoRoot, timeout: 300_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function parseExports(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1] ?? '', (m[2] ?? '').replace(/^'|'$/g, '')]));
}

async function promQuery(query: string, time?: number): Promise<number | undefined> {
  const url = new URL('/api/v1/query', env.PROMETHEUS_URL);
  url.searchParams.set('query', query);
  if (time !== undefined) url.searchParams.set('time', String(time / 1000));
  const body = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
  const v = body.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

let env: Record<string, string>;
let state: StackState;
let releaseGuard: (() => void) | undefined;
let apps: AppsV1Api;
let core: CoreV1Api;
let custom: CustomObjectsApi;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const gw = { group: 'gateway.networking.k8s.io', version: 'v1', namespace: 'prod', plural: 'httproutes', name: 'checkout' };

async function setRoute(blue: number, green: number): Promise<void> {
  await custom.patchNamespacedCustomObject(
    { ...gw, body: { spec: { rules: [{ backendRefs: [{ name: 'checkout-blue', port: 80, weight: blue }, { name: 'checkout-green', port: 80, weight: green }] }] } } },
    merge,
  );
  // the simulator re-reads routing every 500 ms
  await eventually('the simulator to follow the route', async () => (await (await fetch(`${env.TIDEGATE_SIM_URL}/state`)).json()) as { services: { checkout: { weights: { green: number } } } }, (s) => s.services.checkout.weights.green === green);
}

async function rollOutGreen(image: string, replicas: number): Promise<void> {
  await apps.patchNamespacedDeployment(
    { namespace: 'prod', name: 'checkout-green', body: { spec: { replicas, template: { spec: { containers: [{ name: 'checkout', image }] } } } } },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  await eventually('green to roll out', () => apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout-green' }), (d) =>
    d.status?.observedGeneration === d.metadata?.generation && d.status?.updatedReplicas === replicas && d.status?.availableReplicas === replicas);
}

beforeAll(async () => {
  const up = await stack('up');
  if (up.code !== 0) throw new Error(`stack up failed (${up.code}):\n${up.stderr}`);
  env = parseExports(up.stdout);
  state = readState(dir);
  // `up` leaves the stack running on purpose; this test must not, even if it is killed
  releaseGuard = guardStack(dir);
  const kc = new KubeConfig();
  kc.loadFromFile(env.KUBECONFIG ?? '');
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
}, 300_000);

afterAll(async () => {
  await stack('down');
  releaseGuard?.();
});

test('up prints the environment of every component, and each answers there', async () => {
  expect(Object.keys(env).sort()).toEqual(['GITHUB_API_URL', 'GITHUB_TOKEN', 'KUBECONFIG', 'PROMETHEUS_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_UI_URL', 'TIDEGATE_CODEC_URL', 'TIDEGATE_METRICS_ADDRESS', 'TIDEGATE_PAYLOAD_KEYS_FILE', 'TIDEGATE_SIM_URL', 'TIDEGATE_SLACK_WEBHOOK_URL', 'TIDEGATE_WEBHOOK_SECRET', 'TIDEGATE_WEBHOOK_URL']);
  expect((await fetch(`${env.GITHUB_API_URL}/_fake/health`)).status).toBe(200);
  // the notification receiver takes a Slack message at the URL the worker is given
  const slack = await fetch(env.TIDEGATE_SLACK_WEBHOOK_URL ?? '', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'stack-test/1' }, body: JSON.stringify({ text: 'hello' }) });
  expect(slack.status).toBe(200);
  // Prometheus scrapes the worker's metrics address (down until a worker of the stack serves it)
  type Targets = { data: { activeTargets: { labels: { job: string; instance: string } }[] } };
  const readTargets = async (): Promise<Targets['data']['activeTargets']> => ((await (await fetch(`${env.PROMETHEUS_URL}/api/v1/targets`)).json()) as Targets).data.activeTargets;
  const targets = await eventually('Prometheus to load its targets', readTargets, (t) => t.length >= 2, 15_000);
  expect(targets.map((t) => t.labels)).toContainEqual({ job: 'tidegate-worker', instance: env.TIDEGATE_METRICS_ADDRESS });
  expect(await canConnect(env.TEMPORAL_ADDRESS ?? '')).toBe(true);
  expect((await fetch(env.TEMPORAL_UI_URL ?? '')).status).toBe(200);
  expect((await fetch(`${env.PROMETHEUS_URL}/-/ready`)).status).toBe(200);
  const status = await stack('status');
  expect(status.stdout).not.toMatch(/\bdown\b/);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/^temporal\s+up/m);
  expect(status.stdout).toMatch(/^kubernetes\s+up/m);
  const printed = await stack('env');
  expect(parseExports(printed.stdout)).toEqual(env);
});

test('payloads are encrypted in the stack: the codec server answers with its key, and the Web UI decodes through it', async () => {
  expect(payloadKeysFromEnv(env)?.map((k) => k.id)).toEqual(['stack-1']);
  const health = (await (await fetch(`${env.TIDEGATE_CODEC_URL}/healthz`)).json()) as { encryptsWith: string };
  expect(health.encryptsWith).toBe('stack-1');
  // the UI's settings name the codec endpoint (the browser calls it from the UI's origin)
  const settings = (await (await fetch(`${env.TEMPORAL_UI_URL}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
  expect(settings.Codec?.Endpoint).toBe(env.TIDEGATE_CODEC_URL);
  const preflight = await fetch(`${env.TIDEGATE_CODEC_URL}/decode`, { method: 'OPTIONS', headers: { origin: env.TEMPORAL_UI_URL ?? '', 'access-control-request-method': 'POST' } });
  expect(preflight.headers.get('access-control-allow-origin')).toBe(env.TEMPORAL_UI_URL);
});

test('the sample service starts with blue live on 1.0.0 and green scaled to 0', async () => {
  const image = (d: { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }) => d.spec?.template?.spec?.containers?.[0]?.image;
  const blue = await apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout-blue' });
  const green = await apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout-green' });
  const staging = await apps.readNamespacedDeployment({ namespace: 'staging', name: 'checkout' });
  expect([image(blue), blue.status?.availableReplicas]).toEqual(['registry.local/checkout:1.0.0', 3]);
  expect([image(staging), staging.status?.availableReplicas]).toEqual(['registry.local/checkout:1.0.0', 1]);
  expect(green.spec?.replicas).toBe(0);
  expect((await core.readNamespacedService({ namespace: 'prod', name: 'checkout' })).spec?.selector).toEqual({ app: 'checkout', color: 'blue' });
  expect((await core.readNamespacedService({ namespace: 'prod', name: 'checkout-preview' })).spec?.selector).toEqual({ app: 'checkout', color: 'green' });
  for (const name of ['checkout-blue', 'checkout-green']) await core.readNamespacedService({ namespace: 'prod', name });
  const route = (await custom.getNamespacedCustomObject(gw)) as { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };
  expect(route.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight])).toEqual([['checkout-blue', 100], ['checkout-green', 0]]);
  // and the simulator is already sending blue's and staging's requests to Prometheus
  await eventually('blue and staging requests in Prometheus', () => promQuery('count(sum by (color) (http_requests_total{service="checkout"}))'), (n) => n === 2);
});

test('a second up finds everything answering and restarts nothing', async () => {
  const again = await stack('up');
  expect(again.code).toBe(0);
  expect(readState(dir)).toEqual(state);
  expect(parseExports(again.stdout)).toEqual(env);
  console.log(`second stack up: ${again.stderr.match(/ready in ([\d.]+ s)/)?.[1] ?? '?'}`);
});

test('an HTTPRoute at 90/10 gives about 10% of simulated requests on the canary color', async () => {
  await rollOutGreen('registry.local/checkout:1.0.0', 2);
  await setRoute(90, 10);
  const from = Date.now() + 2_000; // a scrape after the simulator followed the route
  await sleepUntil(from + 21_000);
  const at = from + 20_000;
  const share = await promQuery('sum(increase(http_requests_total{service="checkout",color="green"}[20s])) / sum(increase(http_requests_total{service="checkout",color=~"blue|green"}[20s]))', at);
  console.log(`canary share of requests at 90/10: ${share}`);
  expect(share).toBeGreaterThan(0.085);
  expect(share).toBeLessThan(0.115);
  // green has ready pods, so its requests are served, not refused
  const refused = await promQuery('sum(increase(http_requests_total{service="checkout",color="green",code="503"}[20s])) or vector(0)', at);
  expect(refused).toBe(0);
}, 120_000);

test('an error rate set through the admin API shows in Prometheus for that image only', async () => {
  const image = 'registry.local/checkout:1.2.0';
  const put = await fetch(`${env.TIDEGATE_SIM_URL}/images/${encodeURIComponent(image)}`, { method: 'PUT', body: JSON.stringify({ errorRate: 0.3 }) });
  expect(put.status).toBe(200);
  const listed = (await (await fetch(`${env.TIDEGATE_SIM_URL}/images`)).json()) as { overrides: Record<string, { errorRate: number }> };
  expect(listed.overrides[image]?.errorRate).toBe(0.3);
  const bad = await fetch(`${env.TIDEGATE_SIM_URL}/images/${encodeURIComponent(image)}`, { method: 'PUT', body: JSON.stringify({ errorRate: 3 }) });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toContain('errorRate: must be 0..1');

  await rollOutGreen(image, 2);
  await setRoute(50, 50);
  const from = Date.now() + 2_000;
  await sleepUntil(from + 21_000);
  const at = from + 20_000;
  const errorRatio = (color: string) =>
    promQuery(`(sum(increase(http_requests_total{service="checkout",color="${color}",code=~"5.."}[20s])) or vector(0)) / sum(increase(http_requests_total{service="checkout",color="${color}"}[20s]))`, at);
  const green = await errorRatio('green');
  const blue = await errorRatio('blue');
  console.log(`error ratio with errorRate 0.3 on green: ${green}; blue: ${blue}`);
  expect(green).toBeGreaterThan(0.24);
  expect(green).toBeLessThan(0.36);
  expect(blue).toBeLessThan(0.01);
}, 120_000);

test('down stops every process of the stack', async () => {
  await stack('down');
  const status = await stack('status');
  expect(status.code).toBe(1);
  expect(status.stdout).not.toMatch(/\bup\b/);
  expect(processesUsing(dir)).toEqual([]);
  const pids = [state.temporal?.pid, state.codec?.pid, state.simulator?.pid, state.prometheus?.pid, state.github?.pid, state.notify?.pid];
  expect(pids.every((pid) => pid !== undefined)).toBe(true);
  // A stopped server may stay a zombie until the machine's init reaps it (PID 1 here reaps lazily):
  // it holds no port and runs nothing, so "still running" is what counts, not "pid still exists".
  expect(pids.filter((pid) => pid !== undefined && running(pid))).toEqual([]);
  expect(await canConnect(env.TEMPORAL_ADDRESS ?? '')).toBe(false);
}, 120_000);
