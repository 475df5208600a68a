// Given a real control plane built from the registries (etcd, kube-apiserver, controller-manager,
// scheduler) with kwok's fake nodes, Deployments roll out and Services follow their selectors —
// the behaviour tidegate's Kubernetes activities rely on.
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { startKubeCluster, type KubeCluster } from '../../src/stack/kube.js';
import { tempDir } from '../support/servers.js';

let cluster: KubeCluster;
let apps: AppsV1Api;
let core: CoreV1Api;
let discovery: DiscoveryV1Api;
const namespace = 'stack-test';

async function eventually<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms; last: ${JSON.stringify(last)?.slice(0, 500)}`);
}

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
