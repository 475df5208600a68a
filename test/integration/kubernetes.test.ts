// The Kubernetes activities against a real control plane (etcd, kube-apiserver, controller-manager,
// scheduler, kwok nodes): every router moves the weights and the switch flips the selector, read
// back from the API server; writes are idempotent; a real 409 is retried; missing objects are
// permanent errors naming them; a half-done release restores to its snapshot exactly; rollouts
// heartbeat, fail clearly and honour cancellation; and all of it works under deploy/'s RBAC.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CancelledFailure } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { createKubernetesActivities, kubeApis, type KubeApis } from '../../src/activities/kubernetes/index.js';
import { createHookActivities } from '../../src/activities/hooks/index.js';
import { hookRun } from '../../src/core/hooks.js';
import type { KubernetesActivities } from '../../src/activities/types.js';
import type { ProductionTarget } from '../../src/core/snapshot.js';
import { applyManifestFile, applyObjects, readManifests, startKubeCluster, type KubeCluster } from '../../devkit/stack/kube.js';
import { waitForRollouts } from '../../devkit/stack/stack.js';
import { repoRoot, toolPath } from '../../devkit/toolchain/tools.js';
import { tempDir } from '../../devkit/testing/servers.js';
import { throughPayloads } from '../../devkit/testing/payloads.js';

const run = promisify(execFile);
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
type Router = 'gateway-api' | 'istio' | 'nginx' | 'replicas';

let cluster: KubeCluster;
let kc: KubeConfig;
let apps: AppsV1Api;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let networking: NetworkingV1Api;
let k8s: KubernetesActivities;

const gwRoute = (ns: string) => ({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'httproutes', name: 'checkout' });
const istioVs = (ns: string) => ({ group: 'networking.istio.io', version: 'v1', namespace: ns, plural: 'virtualservices', name: 'checkout' });

function targetIn(namespace: string, router: Router): ProductionTarget {
  const names = { 'gateway-api': { httpRoute: 'checkout' }, istio: { virtualService: 'checkout' }, nginx: { ingress: 'checkout' }, replicas: {} }[router];
  return {
    service: 'checkout',
    namespace,
    blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', colorLabel: 'color', scaleDownDelay: 0 },
    traffic: { router, ...names },
  };
}

/** The sample service's production objects (examples/checkout/cluster.yaml) in a namespace of their own, plus the router's object. */
async function sampleIn(namespace: string, router: Router): Promise<ProductionTarget> {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const deadline = Date.now() + 30_000;
  while (!(await core.listNamespacedServiceAccount({ namespace })).items.some((sa) => sa.metadata?.name === 'default')) {
    if (Date.now() > deadline) throw new Error(`no default ServiceAccount in ${namespace}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const objects = readManifests(join(repoRoot, 'examples/checkout/cluster.yaml'))
    .filter((o) => o.metadata?.namespace === 'prod')
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
  const extra: KubernetesObject[] = [];
  if (router === 'istio') {
    extra.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'checkout', namespace },
      spec: { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'checkout', subset: 'blue' }, weight: 100 }, { destination: { host: 'checkout', subset: 'green' }, weight: 0 }] }] },
    } as KubernetesObject);
  }
  if (router === 'nginx') {
    extra.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'checkout', namespace },
      spec: {
        ingressClassName: 'nginx',
        rules: [{ host: 'checkout.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'checkout', port: { number: 80 } } } }] } }],
      },
    } as KubernetesObject);
  }
  await applyObjects(cluster.kubeconfig, [...objects.filter((o) => router === 'gateway-api' || !['HTTPRoute', 'Gateway'].includes(o.kind ?? '')), ...extra]);
  await waitForRollouts(cluster.kubeconfig, [{ namespace, name: 'checkout-blue' }]);
  return targetIn(namespace, router);
}

async function selector(namespace: string, name = 'checkout'): Promise<Record<string, string> | undefined> {
  return (await core.readNamespacedService({ namespace, name })).spec?.selector;
}

async function routeWeights(namespace: string): Promise<[string, number][]> {
  const route = (await custom.getNamespacedCustomObject(gwRoute(namespace))) as { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };
  return route.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight]) ?? [];
}

/** What a write would change: Deployments' generation (their status moves on its own), other objects' resourceVersion. */
async function versions(namespace: string): Promise<Record<string, string | number | undefined>> {
  const [blue, green, svc, preview] = await Promise.all([
    apps.readNamespacedDeployment({ namespace, name: 'checkout-blue' }),
    apps.readNamespacedDeployment({ namespace, name: 'checkout-green' }),
    core.readNamespacedService({ namespace, name: 'checkout' }),
    core.readNamespacedService({ namespace, name: 'checkout-preview' }),
  ]);
  const route = (await custom.getNamespacedCustomObject(gwRoute(namespace)).catch(() => undefined)) as KubernetesObject | undefined;
  return { blue: blue.metadata?.generation, green: green.metadata?.generation, svc: svc.metadata?.resourceVersion, preview: preview.metadata?.resourceVersion, route: route?.metadata?.resourceVersion };
}

/** Runs an activity the way a worker does: in an activity context that records heartbeats. */
async function inActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<{ result: R; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment();
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  const result = (await env.run(fn, ...args)) as R;
  return { result, heartbeats };
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

beforeAll(async () => {
  cluster = await startKubeCluster({ dir: tempDir('kube-adapter'), nodes: 3 });
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  ({ apps, core, custom, networking } = kubeApis(kc));
  // every result is checked to cross Temporal's payload converter unchanged, as the workflow sees it
  k8s = throughPayloads(createKubernetesActivities(kubeApis(kc), { pollMs: 250 }));
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('routers move the weights and the switch flips the selector', () => {
  test('gateway-api: HTTPRoute backendRef weights', async () => {
    // given the sample service with blue live
    const target = await sampleIn('gw', 'gateway-api');
    // when the canary gets 10%, then the switch
    await k8s.setCanaryWeight({ target, color: 'green', weight: 10 });
    expect(await routeWeights('gw')).toEqual([['checkout-blue', 90], ['checkout-green', 10]]);
    expect((await selector('gw'))?.color).toBe('blue');
    expect(await k8s.observeTraffic(target)).toEqual({ selected: 'blue', weights: { blue: 90, green: 10 }, replicas: { blue: 3, green: 0 } });
    await k8s.switchActive({ target, color: 'green' });
    // then the route and the active Service both point at green
    expect(await routeWeights('gw')).toEqual([['checkout-blue', 0], ['checkout-green', 100]]);
    expect(await selector('gw')).toEqual({ app: 'checkout', color: 'green' });
    expect(await k8s.observeTraffic(target)).toMatchObject({ selected: 'green', weights: { blue: 0, green: 100 } });
  });

  test('istio: VirtualService route weights', async () => {
    const target = await sampleIn('istio', 'istio');
    await k8s.setCanaryWeight({ target, color: 'green', weight: 25 });
    const read = async () => ((await custom.getNamespacedCustomObject(istioVs('istio'))) as { spec: { http: { route: { destination: { subset: string }; weight: number }[] }[] } }).spec.http[0]?.route.map((r) => [r.destination.subset, r.weight]);
    expect(await read()).toEqual([['blue', 75], ['green', 25]]);
    expect(await k8s.observeTraffic(target)).toMatchObject({ selected: 'blue', weights: { blue: 75, green: 25 } });
    await k8s.switchActive({ target, color: 'green' });
    expect(await read()).toEqual([['blue', 0], ['green', 100]]);
    expect((await selector('istio'))?.color).toBe('green');
  });

  test('nginx: a canary Ingress with ingress-nginx annotations, removed by the switch', async () => {
    const target = await sampleIn('nginx', 'nginx');
    await k8s.setCanaryWeight({ target, color: 'green', weight: 20 });
    const canary = await networking.readNamespacedIngress({ namespace: 'nginx', name: 'checkout-canary' });
    expect(canary.metadata?.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '20' });
    expect(canary.spec?.rules?.[0]?.host).toBe('checkout.example.com');
    expect(canary.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.name).toBe('checkout-green');
    expect(canary.spec?.ingressClassName).toBe('nginx');
    await k8s.setCanaryWeight({ target, color: 'green', weight: 60 });
    expect((await networking.readNamespacedIngress({ namespace: 'nginx', name: 'checkout-canary' })).metadata?.annotations?.['nginx.ingress.kubernetes.io/canary-weight']).toBe('60');
    expect(await k8s.observeTraffic(target)).toMatchObject({ selected: 'blue', weights: { blue: 40, green: 60 } });
    await k8s.switchActive({ target, color: 'green' });
    expect((await selector('nginx'))?.color).toBe('green');
    const gone = await networking.readNamespacedIngress({ namespace: 'nginx', name: 'checkout-canary' }).catch((e: { code?: number }) => e.code);
    expect(gone).toBe(404);
  });

  test('replicas: the canary gets pods beside the stable color and the Service selects both', async () => {
    const target = await sampleIn('rep', 'replicas');
    await inActivity(k8s.deployImage, { namespace: 'rep', deployment: 'checkout-green', image: 'registry.local/checkout:1.1.0', replicas: 0, timeoutMs: 60_000 });
    await k8s.setCanaryWeight({ target, color: 'green', weight: 50 });
    expect((await apps.readNamespacedDeployment({ namespace: 'rep', name: 'checkout-green' })).spec?.replicas).toBe(3);
    expect((await apps.readNamespacedDeployment({ namespace: 'rep', name: 'checkout-blue' })).spec?.replicas).toBe(3);
    expect(await selector('rep')).toEqual({ app: 'checkout' });
    // the Service selects both colors: no single live color, both take traffic
    expect(await k8s.observeTraffic(target)).toEqual({ selected: null, replicas: { blue: 3, green: 3 } });
    await k8s.setCanaryWeight({ target, color: 'green', weight: 10 });
    expect((await apps.readNamespacedDeployment({ namespace: 'rep', name: 'checkout-green' })).spec?.replicas).toBe(1);
    await inActivity(k8s.switchActive, { target, color: 'green' });
    expect(await selector('rep')).toEqual({ app: 'checkout', color: 'green' });
    const green = await apps.readNamespacedDeployment({ namespace: 'rep', name: 'checkout-green' });
    expect([green.spec?.replicas, green.status?.availableReplicas]).toEqual([3, 3]);
  });
});

test('every activity applied twice changes nothing the second time', async () => {
  const target = await sampleIn('twice', 'gateway-api');
  const steps: [string, () => Promise<unknown>][] = [
    ['deployImage', () => inActivity(k8s.deployImage, { namespace: 'twice', deployment: 'checkout-green', image: 'registry.local/checkout:1.1.0', replicas: 3, timeoutMs: 60_000 })],
    ['pointPreview', () => k8s.pointPreview({ target, color: 'green' })],
    ['setCanaryWeight', () => k8s.setCanaryWeight({ target, color: 'green', weight: 30 })],
    ['switchActive', () => k8s.switchActive({ target, color: 'green' })],
    ['scaleDeployment', () => k8s.scaleDeployment({ namespace: 'twice', deployment: 'checkout-blue', replicas: 0 })],
  ];
  for (const [name, step] of steps) {
    await step();
    const before = await versions('twice');
    await step();
    expect({ name, versions: await versions('twice') }).toEqual({ name, versions: before });
  }
});

test('a 409 conflict on the HTTPRoute is retried, keeping the concurrent change', async () => {
  await sampleIn('conflict', 'gateway-api');
  // given a writer that changes the route between the activity's read and its write
  const real = kc.makeApiClient(CustomObjectsApi);
  let raced = false;
  const replaceCodes: (number | 'ok')[] = [];
  const racing = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'getNamespacedCustomObject') {
        return async (...args: Parameters<CustomObjectsApi['getNamespacedCustomObject']>) => {
          const obj: unknown = await target.getNamespacedCustomObject(...args);
          if (!raced) {
            raced = true;
            await target.patchNamespacedCustomObject({ ...gwRoute('conflict'), body: { metadata: { annotations: { 'example.com/owner': 'someone-else' } } } }, MERGE);
          }
          return obj;
        };
      }
      if (prop === 'replaceNamespacedCustomObject') {
        return async (...args: Parameters<CustomObjectsApi['replaceNamespacedCustomObject']>) => {
          try {
            const r: unknown = await target.replaceNamespacedCustomObject(...args);
            replaceCodes.push('ok');
            return r;
          } catch (err) {
            replaceCodes.push((err as { code: number }).code);
            throw err;
          }
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const apis: KubeApis = { ...kubeApis(kc), custom: racing };
  // when the canary weight is set
  await createKubernetesActivities(apis).setCanaryWeight({ target: targetIn('conflict', 'gateway-api'), color: 'green', weight: 40 });
  // then the API server refused the stale write once, the retry succeeded, and both changes stand
  expect(replaceCodes).toEqual([409, 'ok']);
  expect(await routeWeights('conflict')).toEqual([['checkout-blue', 60], ['checkout-green', 40]]);
  const route = (await custom.getNamespacedCustomObject(gwRoute('conflict'))) as KubernetesObject;
  expect(route.metadata?.annotations?.['example.com/owner']).toBe('someone-else');
});

describe('missing objects are non-retryable errors that name them', () => {
  test.each<[string, () => Promise<unknown>, string, RegExp]>([
    ['a namespace that does not exist', () => k8s.snapshotProduction(targetIn('no-such-ns', 'gateway-api')), 'KubernetesNotFound', /Deployment no-such-ns\/checkout-blue not found/],
    ['a Deployment that does not exist', () => inActivity(k8s.deployImage, { namespace: 'gw', deployment: 'checkout-purple', image: 'x:1', timeoutMs: 10_000 }), 'KubernetesNotFound', /read Deployment gw\/checkout-purple: deployments.apps "checkout-purple" not found \(HTTP 404: check the namespace/],
    ['an HTTPRoute that does not exist', () => k8s.setCanaryWeight({ target: { ...targetIn('gw', 'gateway-api'), traffic: { router: 'gateway-api', httpRoute: 'nope' } }, color: 'green', weight: 10 }), 'KubernetesNotFound', /read HTTPRoute gw\/nope/],
    ['a staging Deployment that does not exist', () => k8s.snapshotStaging({ namespace: 'gw', deployment: 'nope' }), 'KubernetesNotFound', /staging Deployment gw\/nope not found/],
  ])('%s', async (_, call, type, message) => {
    const failure = await failureOf(call());
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe(type);
    expect(failure.message).toMatch(message);
  });

  test('an invalid object (422) is non-retryable too', async () => {
    await sampleIn('invalid', 'gateway-api');
    const failure = await failureOf(k8s.scaleDeployment({ namespace: 'invalid', deployment: 'checkout-blue', replicas: -1 }));
    expect([failure.type, failure.nonRetryable]).toEqual(['KubernetesInvalid', true]);
    expect(failure.message).toMatch(/patch Deployment invalid\/checkout-blue: .*replicas/);
  });
});

test('restoring after a half-done release returns every object to its snapshot', async () => {
  // given a snapshot, then a release that got as far as 50% canary on a new image
  const target = await sampleIn('restore', 'gateway-api');
  const snapshot = await k8s.snapshotProduction(target);
  expect(snapshot).toMatchObject({ activeColor: 'blue', weights: { blue: 100, green: 0 }, previewColor: 'green' });
  await inActivity(k8s.deployImage, { namespace: 'restore', deployment: 'checkout-green', image: 'registry.local/checkout:2.0.0', replicas: 3, timeoutMs: 60_000 });
  await k8s.pointPreview({ target, color: 'blue' });
  await k8s.setCanaryWeight({ target, color: 'green', weight: 50 });
  await k8s.switchActive({ target, color: 'green' });
  expect(await k8s.snapshotProduction(target)).not.toEqual(snapshot);
  // when the undos run, traffic first
  await k8s.restoreTraffic({ target, snapshot });
  await k8s.restoreWorkloads({ target, snapshot });
  // then every object reads back as it was
  expect(await k8s.snapshotProduction(target)).toEqual(snapshot);
  expect(await routeWeights('restore')).toEqual([['checkout-blue', 100], ['checkout-green', 0]]);
  expect(await selector('restore')).toEqual({ app: 'checkout', color: 'blue' });
  expect(await selector('restore', 'checkout-preview')).toEqual({ app: 'checkout', color: 'green' });
  const green = await apps.readNamespacedDeployment({ namespace: 'restore', name: 'checkout-green' });
  expect([green.spec?.replicas, green.spec?.template?.spec?.containers?.[0]?.image]).toEqual([0, 'registry.local/checkout:1.0.0']);

  // and staging is restored the same way
  const staging = await k8s.snapshotStaging({ namespace: 'restore', deployment: 'checkout-blue' });
  await inActivity(k8s.deployImage, { namespace: 'restore', deployment: 'checkout-blue', image: 'registry.local/checkout:2.0.0', timeoutMs: 60_000 });
  await k8s.restoreStaging({ snapshot: staging });
  expect(await k8s.snapshotStaging({ namespace: 'restore', deployment: 'checkout-blue' })).toEqual(staging);
});

test('a route sent elsewhere by someone else reads as drift, and a rollback can spare the color that serves now', async () => {
  // given a release at 10% on green, and then someone sends the whole route to green by hand
  const target = await sampleIn('drift', 'gateway-api');
  const snapshot = await k8s.snapshotProduction(target);
  await inActivity(k8s.deployImage, { namespace: 'drift', deployment: 'checkout-green', image: 'registry.local/checkout:2.0.0', replicas: 3, timeoutMs: 60_000 });
  await k8s.setCanaryWeight({ target, color: 'green', weight: 10 });
  const route = (await custom.getNamespacedCustomObject(gwRoute('drift'))) as { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };
  for (const ref of route.spec.rules[0]?.backendRefs ?? []) ref.weight = ref.name === 'checkout-green' ? 100 : 0;
  await custom.replaceNamespacedCustomObject({ ...gwRoute('drift'), body: route });
  // then the traffic read back shows it
  const observed = await k8s.observeTraffic(target);
  expect(observed).toEqual({ selected: 'blue', weights: { blue: 0, green: 100 }, replicas: { blue: 3, green: 3 } });
  // and restoring the workloads while sparing green leaves green running its image
  await k8s.restoreWorkloads({ target, snapshot, spare: ['green'] });
  const green = await apps.readNamespacedDeployment({ namespace: 'drift', name: 'checkout-green' });
  expect([green.spec?.replicas, green.spec?.template?.spec?.containers?.[0]?.image]).toEqual([3, 'registry.local/checkout:2.0.0']);
  // a route that sends to neither color reads as {0, 0}, not as an error
  const again = (await custom.getNamespacedCustomObject(gwRoute('drift'))) as typeof route;
  for (const ref of again.spec.rules[0]?.backendRefs ?? []) ref.name = `elsewhere-${ref.name}`;
  await custom.replaceNamespacedCustomObject({ ...gwRoute('drift'), body: again });
  expect((await k8s.observeTraffic(target)).weights).toEqual({ blue: 0, green: 0 });
});

describe('deployImage waits for the rollout, heartbeating', () => {
  test('a healthy rollout heartbeats its progress and reports ready replicas', async () => {
    await sampleIn('roll', 'gateway-api');
    // new pods count as available only 5 s after they are ready, so the rollout is still in progress
    // when deployImage first looks, however fast the control plane is (kwok readies pods at once)
    await apps.patchNamespacedDeployment({ namespace: 'roll', name: 'checkout-green', body: { spec: { minReadySeconds: 5 } } }, MERGE);
    const { result, heartbeats } = await inActivity(k8s.deployImage, { namespace: 'roll', deployment: 'checkout-green', image: 'registry.local/checkout:1.1.0', replicas: 2, timeoutMs: 60_000 });
    expect(result).toEqual({ readyReplicas: 2 });
    expect(heartbeats.length).toBeGreaterThan(0);
    expect(heartbeats[0]).toMatchObject({ deployment: 'roll/checkout-green', image: 'registry.local/checkout:1.1.0' });
  });

  test('a rollout past its progress deadline fails with the reason', async () => {
    // given pods that can never be scheduled, and a 2 s progress deadline
    await sampleIn('stuck', 'gateway-api');
    await apps.patchNamespacedDeployment(
      { namespace: 'stuck', name: 'checkout-green', body: { spec: { progressDeadlineSeconds: 2, template: { spec: { nodeSelector: { 'example.com/no-such-node': 'true' } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const failure = await failureOf(inActivity(k8s.deployImage, { namespace: 'stuck', deployment: 'checkout-green', image: 'registry.local/checkout:1.1.0', replicas: 1, timeoutMs: 60_000 }));
    expect([failure.type, failure.nonRetryable]).toEqual(['RolloutFailed', true]);
    expect(failure.message).toMatch(/rollout of registry.local\/checkout:1.1.0 to Deployment stuck\/checkout-green failed: exceeded its progress deadline/);
  });

  test('a rollout that outlasts its timeout fails, naming what it waited for', async () => {
    await sampleIn('slow', 'gateway-api');
    await apps.patchNamespacedDeployment(
      { namespace: 'slow', name: 'checkout-green', body: { spec: { template: { spec: { nodeSelector: { 'example.com/no-such-node': 'true' } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const failure = await failureOf(inActivity(k8s.deployImage, { namespace: 'slow', deployment: 'checkout-green', image: 'registry.local/checkout:1.1.0', replicas: 1, timeoutMs: 2_000 }));
    expect(failure.type).toBe('RolloutTimeout');
    expect(failure.message).toMatch(/did not roll out registry.local\/checkout:1.1.0 within 2s: .*available/);
  });

  test('cancellation stops the wait at once', async () => {
    const env = new MockActivityEnvironment();
    const started = Date.now();
    const waiting = env.run(k8s.deployImage, { namespace: 'slow', deployment: 'checkout-green', image: 'registry.local/checkout:1.2.0', replicas: 1, timeoutMs: 600_000 });
    setTimeout(() => env.cancel('CANCELLED'), 1_000);
    await expect(waiting).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("under deploy/'s ServiceAccount", () => {
  let sa: KubernetesActivities;
  let saApis: KubeApis;
  let saConfig: KubeConfig;

  beforeAll(async () => {
    // given the sample service (namespaces prod and staging) and deploy/'s namespace and RBAC
    await applyManifestFile(cluster.kubeconfig, join(repoRoot, 'examples/checkout/cluster.yaml'));
    await waitForRollouts(cluster.kubeconfig, [{ namespace: 'prod', name: 'checkout-blue' }, { namespace: 'staging', name: 'checkout' }]);
    await applyManifestFile(cluster.kubeconfig, join(repoRoot, 'deploy/base/namespace.yaml'));
    await applyManifestFile(cluster.kubeconfig, join(repoRoot, 'deploy/base/rbac.yaml'));
    const token = await core.createNamespacedServiceAccountToken({ name: 'tidegate-worker', namespace: 'tidegate', body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    const admin = kc.getCurrentCluster();
    if (!admin || !token.status?.token) throw new Error('no cluster or token');
    saConfig = new KubeConfig();
    saConfig.loadFromOptions({
      clusters: [admin],
      users: [{ name: 'tidegate-worker', token: token.status.token }],
      contexts: [{ name: 'worker', cluster: admin.name, user: 'tidegate-worker' }],
      currentContext: 'worker',
    });
    saApis = kubeApis(saConfig);
    sa = createKubernetesActivities(saApis, { pollMs: 250 });
    // the other routers' objects, created by an admin
    await applyObjects(cluster.kubeconfig, [
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'checkout', namespace: 'prod' }, spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'checkout', port: { number: 80 } } } }] } }] } } as KubernetesObject,
      { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'checkout', namespace: 'prod' }, spec: { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'checkout-blue' }, weight: 100 }, { destination: { host: 'checkout-green' }, weight: 0 }] }] } } as KubernetesObject,
    ]);
  }, 120_000);

  test('a whole release and its rollback succeed, with every router', async () => {
    const target = targetIn('prod', 'gateway-api');
    const snapshot = await sa.snapshotProduction(target);
    const staging = await sa.snapshotStaging({ namespace: 'staging', deployment: 'checkout' });
    await inActivity(sa.deployImage, { namespace: 'staging', deployment: 'checkout', image: 'registry.local/checkout:1.1.0', timeoutMs: 60_000 });
    await inActivity(sa.deployImage, { namespace: 'prod', deployment: 'checkout-green', image: 'registry.local/checkout:1.1.0', replicas: 3, timeoutMs: 60_000 });
    await sa.pointPreview({ target, color: 'green' });
    for (const router of ['gateway-api', 'istio', 'nginx', 'replicas'] as const) {
      await sa.setCanaryWeight({ target: targetIn('prod', router), color: 'green', weight: 10 });
    }
    await inActivity(sa.switchActive, { target, color: 'green' });
    for (const router of ['gateway-api', 'istio', 'nginx', 'replicas'] as const) await sa.observeTraffic(targetIn('prod', router));
    await sa.scaleDeployment({ namespace: 'prod', deployment: 'checkout-blue', replicas: 0 });
    await sa.restoreTraffic({ target: targetIn('prod', 'nginx'), snapshot: await sa.snapshotProduction(targetIn('prod', 'nginx')).then((s) => ({ ...s, nginxCanary: undefined })) });
    await sa.restoreTraffic({ target, snapshot });
    await sa.restoreWorkloads({ target, snapshot });
    await sa.restoreStaging({ snapshot: staging });
    expect(await sa.snapshotProduction(target)).toEqual(snapshot);
  });

  test('a hook Job runs under it: created, read until it ends, its pod and log read on failure', async () => {
    const hooks = createHookActivities({ kubeConfig: saConfig, env: {}, pollMs: 250 });
    const run = hookRun({
      releaseId: 'checkout@1.1.0',
      runId: 'rbac',
      point: 'beforeSwitch',
      phase: 'run',
      vars: { release: 'checkout@1.1.0', service: 'checkout', version: '1.1.0', image: 'registry.local/checkout:1.1.0', namespace: 'prod' },
      hook: { name: 'expand-schema', action: { kind: 'job', timeout: 60_000, template: { template: { spec: { nodeSelector: { 'tidegate.test/held': 'yes' }, containers: [{ name: 'migrate', image: 'm' }] } } } } },
    });
    const outcome = new MockActivityEnvironment().run(hooks.runHook, run);
    let pod: string | undefined;
    for (let i = 0; i < 100 && !pod; i++) {
      pod = (await core.listNamespacedPod({ namespace: 'prod', labelSelector: `job-name=${run.job?.name}` })).items[0]?.metadata?.name;
      if (!pod) await new Promise((r) => setTimeout(r, 200));
    }
    const terminated = { exitCode: 1, reason: 'Error', message: 'migration refused' };
    await core.patchNamespacedPodStatus({ namespace: 'prod', name: pod ?? '', body: { status: { phase: 'Failed', containerStatuses: [{ name: 'migrate', image: 'm', imageID: '', ready: false, restartCount: 0, state: { terminated } }] } } }, MERGE);
    expect(await outcome).toMatchObject({ phase: 'Failed', logTail: ['migration refused'] });
    // and a timed-out Job is deleted under it too
    const slow = { ...run, key: `${run.key}-slow`, job: { name: `${run.job?.name}-slow`, namespace: 'prod' }, action: { ...run.action, timeout: 500 } } as typeof run;
    expect(((await new MockActivityEnvironment().run(hooks.runHook, slow)) as { phase: string }).phase).toBe('TimedOut');
  });

  test('and nothing broader: other namespaces, secrets and deletes are forbidden', async () => {
    const failure = await failureOf(sa.snapshotStaging({ namespace: 'default', deployment: 'anything' }));
    expect([failure.type, failure.nonRetryable]).toEqual(['KubernetesForbidden', true]);
    expect(failure.message).toMatch(/HTTP 403: the worker's ServiceAccount lacks this permission/);
    const codeOf = (p: Promise<unknown>) => p.then(() => 200, (e: { code?: number }) => e.code);
    expect(await codeOf(saApis.core.listNamespacedSecret({ namespace: 'prod' }))).toBe(403);
    expect(await codeOf(saApis.apps.deleteNamespacedDeployment({ namespace: 'prod', name: 'checkout-blue' }))).toBe(403);
    expect(await codeOf(saApis.apps.createNamespacedDeployment({ namespace: 'prod', body: { metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } } } } } }))).toBe(403);
    expect(await codeOf(saApis.core.patchNamespacedService({ namespace: 'kube-system', name: 'kube-dns', body: {} }, MERGE))).toBe(403);
  });
});

test("deploy/ passes kubectl apply -k --dry-run=server (the README's install command)", async () => {
  // a server-side dry run creates nothing, so the objects in the namespace need it to exist already
  await applyManifestFile(cluster.kubeconfig, join(repoRoot, 'deploy/base/namespace.yaml'));
  const { stdout } = await run(toolPath('kubectl'), ['--kubeconfig', cluster.kubeconfig, 'apply', '--dry-run=server', '-k', join(repoRoot, 'deploy')], { timeout: 60_000 });
  for (const object of ['deployment.apps/tidegate-worker', 'serviceaccount/tidegate-worker', 'clusterrole.rbac.authorization.k8s.io/tidegate-worker', 'poddisruptionbudget.policy/tidegate-worker', 'configmap/tidegate-worker', 'namespace/tidegate']) {
    expect(stdout).toContain(object);
  }
  expect(stdout).toContain('(server dry run)');
});
