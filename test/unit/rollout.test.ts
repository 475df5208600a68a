// Rollout judgement (kubectl rollout status rules plus stuck pods) and the router writers — table-driven.
import { rolloutState, type DeploymentLike, type PodLike, type RolloutState } from '../../src/core/rollout.js';
import { httpRouteWeights, replicaCanaryCount, withHttpRouteWeights, withVirtualServiceWeights, virtualServiceWeights } from '../../src/core/traffic.js';

const IMAGE = 'registry.local/checkout:1.1.0';
const deployment = (spec: number, status: NonNullable<DeploymentLike['status']>, generation = 2): DeploymentLike => ({
  metadata: { generation },
  spec: { replicas: spec },
  status: { observedGeneration: 2, ...status },
});
const pod = (name: string, image: string, waiting?: string): PodLike => ({
  metadata: { name },
  spec: { containers: [{ image }] },
  status: { containerStatuses: [{ name: 'app', restartCount: 4, ...(waiting ? { state: { waiting: { reason: waiting, message: 'back-off 40s' } } } : {}) }] },
});

describe('rollout state', () => {
  test.each<[string, DeploymentLike, PodLike[], RolloutState['phase'], RegExp?]>([
    ['controller has not seen the change', deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 3), [], 'progressing', /controller/],
    ['2 of 3 updated', deployment(3, { replicas: 4, updatedReplicas: 2, availableReplicas: 3 }), [], 'progressing', /2 of 3 replicas updated/],
    ['old replicas still terminating', deployment(3, { replicas: 4, updatedReplicas: 3, availableReplicas: 3 }), [], 'progressing', /1 old replicas/],
    ['updated but not yet available', deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 1 }), [], 'progressing', /1 of 3 updated replicas available/],
    ['complete', deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3 }), [], 'complete', undefined],
    ['scaled to zero', deployment(0, {}), [], 'complete', undefined],
    [
      'progress deadline exceeded',
      deployment(3, { replicas: 3, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x" has timed out progressing.' }] }),
      [],
      'failed',
      /progress deadline: ReplicaSet "x" has timed out/,
    ],
    ['a new pod crash-looping', deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 2 }), [pod('checkout-green-abc', IMAGE, 'CrashLoopBackOff')], 'failed', /pod checkout-green-abc container app is in CrashLoopBackOff: back-off 40s \(restarts: 4\)/],
    ['an image that cannot be pulled', deployment(3, { replicas: 3, updatedReplicas: 1 }), [pod('p', IMAGE, 'ImagePullBackOff')], 'failed', /ImagePullBackOff/],
    ['an old pod crash-looping is not this rollout', deployment(3, { replicas: 4, updatedReplicas: 3, availableReplicas: 3 }), [pod('old', 'registry.local/checkout:1.0.0', 'CrashLoopBackOff')], 'progressing', undefined],
    ['a pod still creating', deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 2 }), [pod('p', IMAGE, 'ContainerCreating')], 'progressing', undefined],
  ])('%s', (_, d, pods, phase, message) => {
    const state = rolloutState(d, pods, IMAGE);
    expect(state.phase).toBe(phase);
    if (message) expect(state.phase === 'failed' ? state.reason : state.phase === 'progressing' ? state.detail : '').toMatch(message);
  });
});

describe('router writers', () => {
  const route = {
    spec: {
      rules: [
        { matches: [{ path: { value: '/' } }], backendRefs: [{ name: 'checkout-blue', port: 80, weight: 100 }, { name: 'checkout-green', port: 80, weight: 0 }, { name: 'mirror', port: 80, weight: 0 }] },
        { backendRefs: [{ name: 'checkout-blue', port: 8080 }] },
        { backendRefs: [{ name: 'other', port: 80 }] },
      ],
    },
  };
  test('HTTPRoute: every rule that routes to a color gets both weights; other backends and fields stay', () => {
    const input = JSON.stringify(route);
    const out = withHttpRouteWeights(route, 'checkout', { blue: 70, green: 30 });
    expect(out.spec.rules[0]).toEqual({ matches: [{ path: { value: '/' } }], backendRefs: [{ name: 'checkout-blue', port: 80, weight: 70 }, { name: 'checkout-green', port: 80, weight: 30 }, { name: 'mirror', port: 80, weight: 0 }] });
    expect(out.spec.rules[1]?.backendRefs).toEqual([{ name: 'checkout-blue', port: 8080, weight: 70 }, { name: 'checkout-green', port: 8080, weight: 30 }]);
    expect(out.spec.rules[2]).toEqual(route.spec.rules[2]);
    expect(httpRouteWeights(out, 'checkout')).toEqual({ blue: 70, green: 30 });
    expect(JSON.stringify(route)).toBe(input); // the input is not modified
  });

  test('VirtualService: destinations by subset or host', () => {
    const vs = { spec: { http: [{ route: [{ destination: { host: 'checkout', subset: 'blue' }, weight: 100 }, { destination: { host: 'checkout-green.prod.svc.cluster.local' }, weight: 0 }] }] } };
    const out = withVirtualServiceWeights(vs, 'checkout', { blue: 0, green: 100 });
    expect(out.spec.http[0]?.route.map((r) => r.weight)).toEqual([0, 100]);
    expect(virtualServiceWeights(out, 'checkout')).toEqual({ blue: 0, green: 100 });
  });

  test.each<[number, number, number]>([
    [3, 0, 0],
    [3, 10, 1],
    [9, 10, 1],
    [3, 50, 3],
    [3, 75, 9],
    [4, 100, 4],
    [0, 30, 1],
  ])('replica canary: stable %d at %d%% → %d pods', (stable, weight, expected) => expect(replicaCanaryCount(stable, weight)).toBe(expected));
});
