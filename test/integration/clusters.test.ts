// One worker, two real control planes: the Kubernetes activities act on the cluster whose kubeconfig
// context a call names (a release across clusters), on the current context when it names none (every
// release before waves), and refuse a context the worker does not hold, naming the ones it has. A
// staging snapshot remembers its cluster, so that its undo restores it there; a hook's Job runs there.
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { createClusterKubernetesActivities } from '../../src/activities/kubernetes/clusters.js';
import { createHookActivities } from '../../src/activities/hooks/index.js';
import { hookRun } from '../../src/core/hooks.js';
import type { KubernetesActivities } from '../../src/activities/types.js';
import type { ProductionTarget } from '../../src/core/snapshot.js';
import { applyManifestFile, startKubeCluster, type KubeCluster } from '../../devkit/stack/kube.js';
import { waitForRollouts } from '../../devkit/stack/stack.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import { tempDir } from '../../devkit/testing/servers.js';
import { throughPayloads } from '../../devkit/testing/payloads.js';

const NAMES = ['east', 'west'] as const;
type Name = (typeof NAMES)[number];

const clusters = new Map<Name, KubeCluster>();
const apis = new Map<Name, { apps: AppsV1Api; core: CoreV1Api; batch: BatchV1Api }>();
let worker: KubeConfig;
let k8s: KubernetesActivities;

/** One kubeconfig holding both clusters as contexts "east" and "west", the current one east — as a worker's would. */
function merged(): KubeConfig {
  const parts = NAMES.map((name) => {
    const kc = new KubeConfig();
    kc.loadFromFile((clusters.get(name) as KubeCluster).kubeconfig);
    const cluster = kc.getCurrentCluster() as Cluster;
    const user = kc.getCurrentUser() as User;
    return { cluster: { ...cluster, name: `${name}-cluster` }, user: { ...user, name: `${name}-user` }, context: { name, cluster: `${name}-cluster`, user: `${name}-user` } as Context };
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: parts.map((p) => p.cluster), users: parts.map((p) => p.user), contexts: parts.map((p) => p.context), currentContext: 'east' });
  return kc;
}

const target = (cluster?: Name): ProductionTarget => ({
  service: 'checkout',
  namespace: 'prod',
  blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', colorLabel: 'color', scaleDownDelay: 0 },
  traffic: { router: 'gateway-api', httpRoute: 'checkout' },
  ...(cluster ? { cluster } : {}),
});

const selectorIn = async (name: Name): Promise<string | undefined> =>
  (await apis.get(name)?.core.readNamespacedService({ namespace: 'prod', name: 'checkout' }))?.spec?.selector?.color;
const stagingImageIn = async (name: Name): Promise<string | undefined> =>
  (await apis.get(name)?.apps.readNamespacedDeployment({ namespace: 'staging', name: 'checkout' }))?.spec?.template.spec?.containers[0]?.image;

beforeAll(async () => {
  // given two control planes, each with the sample service (blue live) and its staging
  for (const name of NAMES) {
    const cluster = await startKubeCluster({ dir: tempDir(`kube-${name}`), name: `tidegate-${name}`, nodes: 2 });
    clusters.set(name, cluster);
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    apis.set(name, { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), batch: kc.makeApiClient(BatchV1Api) });
    await applyManifestFile(cluster.kubeconfig, join(repoRoot, 'examples/checkout/cluster.yaml'));
    await waitForRollouts(cluster.kubeconfig, [{ namespace: 'prod', name: 'checkout-blue' }, { namespace: 'staging', name: 'checkout' }]);
  }
  // and a worker holding both as contexts of one kubeconfig
  worker = merged();
  k8s = throughPayloads(createClusterKubernetesActivities(worker, { pollMs: 250 }));
}, 360_000);

afterAll(async () => {
  for (const cluster of clusters.values()) await cluster.stop();
});

test('a call naming a context acts on that cluster only; one naming none acts on the current context', async () => {
  // when west, snapshotted first, gets the canary weight and the switch
  const snapshot = await k8s.snapshotProduction(target('west'));
  await k8s.setCanaryWeight({ target: target('west'), color: 'green', weight: 10 });
  expect(await k8s.observeTraffic(target('west'))).toEqual({ selected: 'blue', weights: { blue: 90, green: 10 }, replicas: { blue: 3, green: 0 } });
  await k8s.switchActive({ target: target('west'), color: 'green' });
  // then west serves green, and east is untouched
  expect(await selectorIn('west')).toBe('green');
  expect(await selectorIn('east')).toBe('blue');
  expect(await k8s.observeTraffic(target('east'))).toEqual({ selected: 'blue', weights: { blue: 100, green: 0 }, replicas: { blue: 3, green: 0 } });
  // and a target without a cluster (a release before waves) is the current context's: east
  expect(await k8s.observeTraffic(target())).toEqual(await k8s.observeTraffic(target('east')));
  // when west's traffic is put back from its snapshot, east still is as it was
  await k8s.restoreTraffic({ target: target('west'), snapshot });
  expect(await selectorIn('west')).toBe('blue');
  expect(await k8s.observeTraffic(target('west'))).toEqual({ selected: 'blue', weights: { blue: 100, green: 0 }, replicas: { blue: 3, green: 0 } });
}, 60_000);

test('a staging snapshot remembers its cluster, and its undo restores it there', async () => {
  const before = await stagingImageIn('east');
  const snapshot = await k8s.snapshotStaging({ namespace: 'staging', deployment: 'checkout', cluster: 'west' });
  expect(snapshot.cluster).toBe('west');
  const env = new MockActivityEnvironment();
  await env.run(k8s.deployImage, { namespace: 'staging', deployment: 'checkout', image: 'registry.local/checkout:9.9.9', timeoutMs: 60_000, cluster: 'west' });
  expect(await stagingImageIn('west')).toBe('registry.local/checkout:9.9.9');
  expect(await stagingImageIn('east')).toBe(before);
  await env.run(k8s.restoreStaging, { snapshot });
  expect(await stagingImageIn('west')).toBe(snapshot.deployment.image);
}, 90_000);

test('a context the worker does not hold fails the call as unavailable (retried: another worker may hold it), naming the ones it has', async () => {
  const failureOf = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as ApplicationFailure,
    );
  const err = await failureOf(k8s.observeTraffic({ ...target(), cluster: 'north' }));
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err?.type).toBe('KubernetesUnavailable');
  expect(err?.nonRetryable).toBe(false);
  expect(err?.message).toBe(`this worker's kubeconfig has no context "north" (its contexts: east, west); every worker must hold each context the releases' clusters name`);
  // and a context whose user is missing from the kubeconfig, the same way
  const partial = new KubeConfig();
  partial.loadFromOptions({ clusters: worker.clusters, users: worker.users.filter((u) => u.name !== 'west-user'), contexts: worker.contexts, currentContext: 'east' });
  const broken = await failureOf(createClusterKubernetesActivities(partial).observeTraffic(target('west')));
  expect(broken?.message).toBe(`this worker's kubeconfig has a context "west" without its user "west-user" (its contexts: east, west); every worker must hold each context the releases' clusters name`);
});

test('a worker whose current context is unusable fails when it builds its activities, not at its first call', () => {
  const none = new KubeConfig();
  none.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
  expect(() => createClusterKubernetesActivities(none)).toThrow(/No active cluster/);
});

test("a hook's Job runs in the cluster its run names", async () => {
  const hooks = createHookActivities({ kubeConfig: worker, env: {}, pollMs: 250 });
  const run = hookRun({
    releaseId: 'checkout@2.0.0',
    runId: 'west',
    point: 'beforeSwitch',
    phase: 'run',
    vars: { release: 'checkout@2.0.0', service: 'checkout', version: '2.0.0', image: 'registry.local/checkout:2.0.0', namespace: 'prod' },
    hook: { name: 'migrate', action: { kind: 'job', timeout: 60_000, template: { template: { spec: { containers: [{ name: 'migrate', image: 'm' }] } } } } },
  });
  const job = { ...(run.job as { name: string; namespace: string }), cluster: 'west' };
  const outcome = new MockActivityEnvironment().run(hooks.runHook, { ...run, job });
  // its pod appears in west (kwok runs it; the test ends it as a finished migration would)
  const west = apis.get('west') as { core: CoreV1Api; batch: BatchV1Api };
  let pod: string | undefined;
  for (let i = 0; i < 150 && !pod; i++) {
    pod = (await west.core.listNamespacedPod({ namespace: 'prod', labelSelector: `job-name=${job.name}` })).items[0]?.metadata?.name;
    if (!pod) await new Promise((r) => setTimeout(r, 200));
  }
  const terminated = { exitCode: 0, reason: 'Completed' };
  await west.core.patchNamespacedPodStatus(
    { namespace: 'prod', name: pod ?? '', body: { status: { phase: 'Succeeded', containerStatuses: [{ name: 'migrate', image: 'm', imageID: '', ready: false, restartCount: 0, state: { terminated } }] } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(await outcome).toMatchObject({ phase: 'Succeeded' });
  // and east never had it
  expect((await apis.get('east')?.batch.listNamespacedJob({ namespace: 'prod' }))?.items.map((j) => j.metadata?.name)).toEqual([]);
  expect((await west.batch.listNamespacedJob({ namespace: 'prod' })).items.map((j) => j.metadata?.name)).toEqual([job.name]);
}, 90_000);
