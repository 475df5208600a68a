// The order of the Kubernetes activities' writes, per router, against an in-memory API server that
// records every write (test/integration/kubernetes.test.ts reads the end states back from a real
// one). The order is what keeps traffic on ready pods:
//   switch   replicas scales the new color up (and waits) first; gateway-api/istio send it 100%
//            before the active Service's selector moves; nginx deletes its canary Ingress after
//   restore  the router first, then the active Service, then the preview Service
import { ApplicationFailure } from '@temporalio/common';
import { createKubernetesActivities, type KubeApis } from '../../src/activities/kubernetes/index.js';
import type { ProductionTarget } from '../../src/core/snapshot.js';

type Router = 'gateway-api' | 'istio' | 'nginx' | 'replicas';
type RouterOrNone = Router | 'none';
type Obj = { metadata?: { name?: string; generation?: number; resourceVersion?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown>; status?: Record<string, unknown> };
interface Call {
  namespace: string;
  name: string;
  body?: Obj & { spec?: { replicas?: number; selector?: Record<string, string | null>; template?: { spec?: { containers?: { image?: string }[] } } } };
  plural?: string;
}

const notFound = (what: string) => Object.assign(new Error('HTTP-Code: 404'), { code: 404, body: JSON.stringify({ message: `${what} not found` }) });

/** One namespace of the sample service with blue live: Deployments, Services, every router's object. */
function fakeCluster() {
  const writes: string[] = [];
  const deployment = (color: string, replicas: number): Obj => ({
    metadata: { name: `checkout-${color}`, generation: 1 },
    spec: { replicas, selector: { matchLabels: { app: 'checkout', color } }, template: { spec: { containers: [{ name: 'app', image: 'registry.local/checkout:1.0.0' }] } } },
    status: { observedGeneration: 1, replicas, updatedReplicas: replicas, availableReplicas: replicas, readyReplicas: replicas },
  });
  const store = new Map<string, Obj>([
    ['Deployment/checkout-blue', deployment('blue', 3)],
    ['Deployment/checkout-green', deployment('green', 0)],
    ['Service/checkout', { spec: { selector: { app: 'checkout', color: 'blue' } } }],
    ['Service/checkout-preview', { spec: { selector: { app: 'checkout', color: 'green' } } }],
    ['httproutes/checkout', { metadata: { resourceVersion: '1' }, spec: { rules: [{ backendRefs: [{ name: 'checkout-blue', weight: 100 }, { name: 'checkout-green', weight: 0 }] }] } }],
    ['virtualservices/checkout', { metadata: { resourceVersion: '1' }, spec: { http: [{ route: [{ destination: { host: 'checkout', subset: 'blue' }, weight: 100 }, { destination: { host: 'checkout', subset: 'green' }, weight: 0 }] }] } }],
    ['Ingress/checkout', { spec: { ingressClassName: 'nginx', rules: [{ host: 'checkout.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'checkout', port: { number: 80 } } } }] } }] } }],
  ]);
  const read = (key: string) => async (c: Call): Promise<Obj> => {
    const obj = store.get(`${c.plural ?? key}/${c.name}`);
    if (!obj) throw notFound(`${key} ${c.name}`);
    return structuredClone(obj);
  };
  const apis = {
    apps: {
      readNamespacedDeployment: read('Deployment'),
      async patchNamespacedDeployment(c: Call) {
        const d = await read('Deployment')(c);
        const spec = d.spec as NonNullable<Call['body']>['spec'] & { replicas: number };
        const replicas = c.body?.spec?.replicas;
        const image = c.body?.spec?.template?.spec?.containers?.[0]?.image;
        if (replicas !== undefined) writes.push(`scale Deployment ${c.name} to ${replicas}`);
        if (image !== undefined) writes.push(`set image of Deployment ${c.name} to ${image}`);
        spec.replicas = replicas ?? spec.replicas;
        const container = spec.template?.spec?.containers?.[0];
        if (container && image) container.image = image;
        const generation = (d.metadata?.generation ?? 1) + 1;
        // the fake's controller rolls out at once
        store.set(`Deployment/${c.name}`, { ...d, metadata: { ...d.metadata, generation }, status: { observedGeneration: generation, replicas: spec.replicas, updatedReplicas: spec.replicas, availableReplicas: spec.replicas, readyReplicas: spec.replicas } });
        return d;
      },
    },
    core: {
      readNamespacedService: read('Service'),
      async patchNamespacedService(c: Call) {
        const svc = await read('Service')(c);
        const selector = { ...(svc.spec?.selector as Record<string, string>) };
        for (const [k, v] of Object.entries(c.body?.spec?.selector ?? {})) {
          if (v === null) delete selector[k];
          else selector[k] = v;
        }
        writes.push(`select ${selector.color ? `color=${selector.color}` : 'both colors'} on Service ${c.name}`);
        store.set(`Service/${c.name}`, { ...svc, spec: { ...svc.spec, selector } });
        return svc;
      },
      listNamespacedPod: async () => ({ items: [] }),
    },
    custom: {
      getNamespacedCustomObject: read('custom'),
      async replaceNamespacedCustomObject(c: Call) {
        writes.push(`replace ${c.plural} ${c.name}`);
        store.set(`${c.plural}/${c.name}`, structuredClone(c.body ?? {}));
        return c.body;
      },
    },
    networking: {
      readNamespacedIngress: read('Ingress'),
      async patchNamespacedIngress(c: Call) {
        writes.push(`apply Ingress ${c.name} weight ${c.body?.metadata?.annotations?.['nginx.ingress.kubernetes.io/canary-weight']}`);
        store.set(`Ingress/${c.name}`, structuredClone(c.body ?? {}));
        return c.body;
      },
      async deleteNamespacedIngress(c: Call) {
        if (!store.delete(`Ingress/${c.name}`)) throw notFound(`Ingress ${c.name}`);
        writes.push(`delete Ingress ${c.name}`);
        return {};
      },
    },
  };
  return { writes, store, k8s: createKubernetesActivities(apis as unknown as KubeApis, { pollMs: 1 }) };
}

function target(routerOrNone: RouterOrNone): ProductionTarget {
  const router = routerOrNone === 'none' ? undefined : routerOrNone;
  const names = { 'gateway-api': { httpRoute: 'checkout' }, istio: { virtualService: 'checkout' }, nginx: { ingress: 'checkout' }, replicas: {} };
  return {
    service: 'checkout',
    namespace: 'prod',
    blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', colorLabel: 'color', scaleDownDelay: 0 },
    ...(router ? { traffic: { router, ...names[router] } } : {}),
  };
}

describe('the switch', () => {
  test.each<[RouterOrNone, string[]]>([
    ['gateway-api', ['replace httproutes checkout', 'select color=green on Service checkout']],
    ['istio', ['replace virtualservices checkout', 'select color=green on Service checkout']],
    ['nginx', ['select color=green on Service checkout', 'delete Ingress checkout-canary']],
    ['replicas', ['scale Deployment checkout-green to 3', 'select color=green on Service checkout']],
    ['none', ['select color=green on Service checkout']],
  ])('%s', async (router, order) => {
    const { k8s, writes } = fakeCluster();
    if (router !== 'none' && router !== 'replicas') await k8s.setCanaryWeight({ target: target(router), color: 'green', weight: 10 });
    writes.length = 0;
    await k8s.switchActive({ target: target(router), color: 'green' });
    expect(writes).toEqual(order);
    // and again: nothing left to write
    writes.length = 0;
    await k8s.switchActive({ target: target(router), color: 'green' });
    expect(writes).toEqual([]);
  });
});

describe('the canary weight', () => {
  test.each<[Router, string[]]>([
    ['gateway-api', ['replace httproutes checkout']],
    ['istio', ['replace virtualservices checkout']],
    ['nginx', ['apply Ingress checkout-canary weight 25']],
    ['replicas', ['scale Deployment checkout-green to 1', 'select both colors on Service checkout']],
  ])('%s', async (router, order) => {
    const { k8s, writes } = fakeCluster();
    await k8s.setCanaryWeight({ target: target(router), color: 'green', weight: 25 });
    expect(writes).toEqual(order);
  });

  test('without a router it is a mistake in the spec', async () => {
    const failure = await fakeCluster().k8s.setCanaryWeight({ target: target('none'), color: 'green', weight: 25 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect([(failure as ApplicationFailure).type, (failure as ApplicationFailure).nonRetryable]).toEqual(['InvalidSpec', true]);
  });
});

describe('restoring traffic: the router first, then the Services', () => {
  test.each<[RouterOrNone, string[]]>([
    ['gateway-api', ['replace httproutes checkout', 'select color=blue on Service checkout', 'select color=green on Service checkout-preview']],
    ['istio', ['replace virtualservices checkout', 'select color=blue on Service checkout', 'select color=green on Service checkout-preview']],
    ['nginx', ['delete Ingress checkout-canary', 'select color=blue on Service checkout', 'select color=green on Service checkout-preview']],
    ['replicas', ['select color=blue on Service checkout', 'select color=green on Service checkout-preview']],
    ['none', ['select color=blue on Service checkout', 'select color=green on Service checkout-preview']],
  ])('%s', async (router, order) => {
    const { k8s, writes } = fakeCluster();
    const snapshot = await k8s.snapshotProduction(target(router));
    if (router !== 'none') await k8s.setCanaryWeight({ target: target(router), color: 'green', weight: 50 });
    await k8s.pointPreview({ target: target(router), color: 'blue' });
    await k8s.switchActive({ target: target(router), color: 'green' });
    if (router === 'nginx') await k8s.setCanaryWeight({ target: target(router), color: 'blue', weight: 5 }); // a canary left behind
    writes.length = 0;
    await k8s.restoreTraffic({ target: target(router), snapshot });
    expect(writes).toEqual(order);
    expect({ ...(await k8s.snapshotProduction(target(router))), deployments: snapshot.deployments }).toEqual(snapshot);
  });

  test('nginx: a canary the snapshot had is applied back', async () => {
    const { k8s, writes } = fakeCluster();
    await k8s.setCanaryWeight({ target: target('nginx'), color: 'green', weight: 30 });
    const snapshot = await k8s.snapshotProduction(target('nginx'));
    expect(snapshot).toMatchObject({ weights: { blue: 70, green: 30 }, nginxCanary: { color: 'green', weight: 30, enabled: true } });
    await k8s.switchActive({ target: target('nginx'), color: 'green' });
    writes.length = 0;
    await k8s.restoreTraffic({ target: target('nginx'), snapshot });
    expect(writes).toEqual(['apply Ingress checkout-canary weight 30', 'select color=blue on Service checkout']);
  });
});

test('what the snapshot and the drift read record of each router', async () => {
  const rows: unknown[] = [];
  for (const router of ['gateway-api', 'istio', 'nginx', 'replicas', 'none'] as const) {
    const { k8s } = fakeCluster();
    const snapshot = await k8s.snapshotProduction(target(router));
    const observed = await k8s.observeTraffic(target(router));
    rows.push([router, snapshot.weights, snapshot.nginxCanary, observed.weights]);
  }
  expect(rows).toEqual([
    ['gateway-api', { blue: 100, green: 0 }, undefined, { blue: 100, green: 0 }],
    ['istio', { blue: 100, green: 0 }, undefined, { blue: 100, green: 0 }],
    ['nginx', { blue: 100, green: 0 }, undefined, { blue: 100, green: 0 }],
    ['replicas', { blue: 100, green: 0 }, undefined, undefined],
    ['none', undefined, undefined, undefined],
  ]);
});
