// Given a real control plane built from the registries (etcd, kube-apiserver, controller-manager,
// scheduler) with kwok's fake nodes, Deployments roll out and Services follow their selectors —
// the behaviour tidegate's Kubernetes activities rely on.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import { startKubeCluster, type KubeCluster } from '../../devkit/stack/kube.js';
import { eventually } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

let cluster: KubeCluster;
let apps: AppsV1Api;
let core: CoreV1Api;
let discovery: DiscoveryV1Api;
let custom: CustomObjectsApi;
const namespace = 'stack-test';

function deployment(name: string, labels: Record<string, string>, replicas: number): V1Deployment {
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: `registry.local/${name}:1.0.0` }] } },
    },
  };
}

async function endpointIps(service: string): Promise<string[]> {
  const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return slices.items
    .flatMap((s) => s.endpoints)
    .filter((e) => e.conditions?.ready)
    .flatMap((e) => e.addresses)
    .sort();
}

async function podIps(labelSelector: string): Promise<string[]> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector });
  return pods.items.map((p) => p.status?.podIP ?? '').filter(Boolean).sort();
}

beforeAll(async () => {
  cluster = await startKubeCluster({ dir: tempDir('kube'), nodes: 2 });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
  discovery = kc.makeApiClient(DiscoveryV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // the namespace's default ServiceAccount (created by the controller-manager) gates Pod creation
  await eventually('default ServiceAccount', () => core.listNamespacedServiceAccount({ namespace }), (l) => l.items.some((sa) => sa.metadata?.name === 'default'));
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

test('a Deployment becomes Available on kwok nodes', async () => {
  await apps.createNamespacedDeployment({ namespace, body: deployment('web', { app: 'web' }, 3) });
  const ready = await eventually(
    'web to become Available',
    () => apps.readNamespacedDeployment({ name: 'web', namespace }),
    (d) => d.status?.availableReplicas === 3,
  );
  expect(ready.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
  expect(ready.status?.updatedReplicas).toBe(3);
  const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
  expect(new Set(pods.items.map((p) => p.spec?.nodeName)).size).toBeGreaterThanOrEqual(1);
  expect(pods.items.every((p) => p.status?.phase === 'Running')).toBe(true);
});

test('patching a Service selector moves its endpoints from blue to green', async () => {
  await apps.createNamespacedDeployment({ namespace, body: deployment('shop-blue', { app: 'shop', color: 'blue' }, 2) });
  await apps.createNamespacedDeployment({ namespace, body: deployment('shop-green', { app: 'shop', color: 'green' }, 2) });
  await core.createNamespacedService({
    namespace,
    body: { metadata: { name: 'shop' }, spec: { selector: { app: 'shop', color: 'blue' }, ports: [{ port: 80 }] } },
  });
  const blue = await eventually('blue pods', () => podIps('app=shop,color=blue'), (ips) => ips.length === 2);
  const green = await eventually('green pods', () => podIps('app=shop,color=green'), (ips) => ips.length === 2);
  await eventually('endpoints on blue', () => endpointIps('shop'), (ips) => JSON.stringify(ips) === JSON.stringify(blue));

  await core.patchNamespacedService(
    { name: 'shop', namespace, body: { spec: { selector: { app: 'shop', color: 'green' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const moved = await eventually('endpoints on green', () => endpointIps('shop'), (ips) => JSON.stringify(ips) === JSON.stringify(green));
  expect(moved).toEqual(green);
  expect(moved.some((ip) => blue.includes(ip))).toBe(false);
});

interface HTTPRoute {
  spec: { rules: { backendRefs: { name: string; port: number; weight: number }[] }[] };
}

test('an HTTPRoute splits 90/10 between two Services, a merge patch moves the weights, and bad weights are refused', async () => {
  const route = (blue: number, green: number) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'shop' },
    spec: {
      rules: [{ backendRefs: [{ name: 'shop-blue', port: 80, weight: blue }, { name: 'shop-green', port: 80, weight: green }] }],
    },
  });
  const gw = { group: 'gateway.networking.k8s.io', version: 'v1', namespace, plural: 'httproutes' };
  await custom.createNamespacedCustomObject({ ...gw, body: route(90, 10) });
  const read = (await custom.getNamespacedCustomObject({ ...gw, name: 'shop' })) as HTTPRoute;
  expect(read.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight])).toEqual([
    ['shop-blue', 90],
    ['shop-green', 10],
  ]);

  await custom.patchNamespacedCustomObject(
    { ...gw, name: 'shop', body: { spec: route(50, 50).spec } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const patched = (await custom.getNamespacedCustomObject({ ...gw, name: 'shop' })) as HTTPRoute;
  expect(patched.spec.rules[0]?.backendRefs.map((b) => b.weight)).toEqual([50, 50]);

  // the CRD's schema is enforced by the apiserver: a negative weight is a 422
  const refused = await custom.createNamespacedCustomObject({ ...gw, body: { ...route(-1, 10), metadata: { name: 'bad' } } }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ApiException);
  expect((refused as ApiException<unknown>).code).toBe(422);
});

test('the Istio VirtualService fixture CRD accepts route weights and refuses weights over 100', async () => {
  const vs = { group: 'networking.istio.io', version: 'v1', namespace, plural: 'virtualservices' };
  const body = (weight: number) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: weight > 100 ? 'bad' : 'shop' },
    spec: { hosts: ['shop'], http: [{ route: [{ destination: { host: 'shop', subset: 'green' }, weight }, { destination: { host: 'shop', subset: 'blue' }, weight: 100 - weight }] }] },
  });
  await custom.createNamespacedCustomObject({ ...vs, body: body(20) });
  const read = (await custom.getNamespacedCustomObject({ ...vs, name: 'shop' })) as { spec: { http: { route: { weight: number }[] }[] } };
  expect(read.spec.http[0]?.route.map((r) => r.weight)).toEqual([20, 80]);
  const refused = await custom.createNamespacedCustomObject({ ...vs, body: body(150) }).catch((e: unknown) => e);
  expect((refused as ApiException<unknown>).code).toBe(422);
});
