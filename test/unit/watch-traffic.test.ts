// The watch's own traffic undo at a Failed verdict (src/activities/watch-traffic.ts), on scripted
// measurements and traffic calls: it runs once the verdict is Failed — also when a retry resumes
// from a lost attempt's heartbeat that already holds it — leaves traffic someone else moved alone,
// reports a failed call as data, and keeps heartbeating the observations while traffic moves.
import { MockActivityEnvironment } from '@temporalio/testing';
import { EMPTY_TALLY } from '../../src/core/analysis.js';
import type { MeasureRequest, TimedObservation, TrafficState, WatchAnswer, WatchRequest } from '../../src/activities/types.js';
import { watchActivity, WATCH_HEARTBEAT_EVERY_MS } from '../../src/activities/watch.js';
import { putTrafficBack, restoringTraffic, type TrafficCalls } from '../../src/activities/watch-traffic.js';
import { activityContext } from '../../src/activities/context.js';
import type { ProductionSnapshot, ProductionTarget } from '../../src/core/snapshot.js';

const target: ProductionTarget = {
  service: 'checkout',
  namespace: 'prod',
  blueGreen: { activeService: 'checkout', deploymentPrefix: 'checkout', colorLabel: 'color', scaleDownDelay: 0 },
  traffic: { router: 'gateway-api', httpRoute: 'checkout' },
};
const snapshot: ProductionSnapshot = {
  service: 'checkout',
  namespace: 'prod',
  activeColor: 'blue',
  deployments: { blue: { name: 'checkout-blue', exists: true, image: 'r/checkout:1', replicas: 3 }, green: { name: 'checkout-green', exists: true, image: 'r/checkout:2', replicas: 3 } },
  weights: { blue: 100, green: 0 },
};
/** Where the release left traffic: everything on green. */
const switched: TrafficState = { selected: 'green', weights: { blue: 0, green: 100 }, replicas: { blue: 3, green: 3 } };

/** A batch of `n` 1 s measurements that started in the past (so nothing waits), failing at the first Failed one. */
const request = (n: number, withUndo = true): WatchRequest => ({
  query: 'ratio',
  firstAt: new Date(Date.now() - 10_000).toISOString(),
  intervalMs: 1_000,
  until: new Date(Date.now() - 10_000 + (n - 1) * 1_000).toISOString(),
  judge: { conditions: { successCondition: { op: '>=', value: 0.99, text: '>= 0.99' } }, limits: { count: 100, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 }, tally: EMPTY_TALLY },
  ...(withUndo ? { onFailed: { target, snapshot, expected: { selected: 'green', weights: { blue: 0, green: 100 } } } } : {}),
});

/** Measurements answering `values` in turn; traffic calls on a state that restoreTraffic puts back. */
function world(values: number[], traffic: TrafficState = switched, restore: () => Promise<void> = async () => undefined) {
  const asked: string[] = [];
  const calls: string[] = [];
  let state = traffic;
  const measure = async (r: MeasureRequest): Promise<TimedObservation[]> => {
    asked.push(r.at ?? '');
    return [{ at: r.at ?? '', observation: { kind: 'value', value: values[asked.length - 1] ?? 1 } }];
  };
  const k8s: TrafficCalls = {
    observeTraffic: async () => {
      calls.push('observeTraffic');
      return state;
    },
    restoreTraffic: async ({ snapshot: s }) => {
      calls.push(`restoreTraffic ${s.activeColor}`);
      await restore();
      state = { selected: s.activeColor, weights: { blue: 100, green: 0 }, replicas: state.replicas };
    },
  };
  return { asked, calls, measure, k8s, traffic: () => state };
}

type World = ReturnType<typeof world>;

/** The watch as the worker composes it, run as an activity. */
async function watchWith(w: World, r: WatchRequest, env = new MockActivityEnvironment()): Promise<TimedObservation[] | WatchAnswer> {
  return (await env.run(restoringTraffic(watchActivity(w.measure, activityContext), w.k8s), r)) as TimedObservation[] | WatchAnswer;
}

/** The answer to a request with the undo: a WatchAnswer, never the plain list. */
async function answerWith(w: World, r: WatchRequest, env?: MockActivityEnvironment): Promise<WatchAnswer> {
  const answer = await watchWith(w, r, env);
  if (Array.isArray(answer)) throw new Error('a request with the traffic undo was answered with the plain list');
  return answer;
}

test('a Failed verdict: traffic goes back as in the snapshot before the watch answers, which says so', async () => {
  const w = world([1, 0.5, 1]);
  const answer = await answerWith(w, request(3));
  expect(answer.observations).toHaveLength(2); // the batch ended at the failing measurement
  expect(answer.trafficBack).toMatchObject({ outcome: 'restored' });
  expect(w.calls).toEqual(['observeTraffic', 'restoreTraffic blue']);
  expect(w.traffic()).toMatchObject({ selected: 'blue', weights: { blue: 100, green: 0 } });
});

test('a retry resuming from a heartbeat that already holds the Failed measurement puts traffic back without measuring again', async () => {
  const w = world([]);
  const r = request(3);
  const heartbeat: TimedObservation[] = [
    { at: r.firstAt, observation: { kind: 'value', value: 1 } },
    { at: new Date(Date.parse(r.firstAt) + 1_000).toISOString(), observation: { kind: 'value', value: 0.5 } },
  ];
  const answer = await answerWith(w, r, new MockActivityEnvironment({ heartbeatDetails: heartbeat }));
  expect(w.asked).toEqual([]);
  expect(answer).toEqual({ observations: heartbeat, trafficBack: expect.objectContaining({ outcome: 'restored' }) });
  expect(w.calls).toEqual(['observeTraffic', 'restoreTraffic blue']);
});

test.each<[string, number[], boolean]>([
  ['a batch that passes', [1, 1, 1], true],
  ['a Failed verdict asked without the undo (a release started before it)', [1, 0.5, 1], false],
])('%s: traffic is not touched', async (_, values, withUndo) => {
  const w = world(values);
  const answer = await watchWith(w, request(3, withUndo));
  expect(w.calls).toEqual([]);
  // the plain list for a request without the undo, as older releases expect
  expect(Array.isArray(answer)).toBe(!withUndo);
  if (!Array.isArray(answer)) expect(answer.trafficBack).toBeUndefined();
});

test('traffic someone else moved is left alone, and the answer names the drift', async () => {
  const w = world([0.5], { ...switched, weights: { blue: 30, green: 70 } });
  const answer = await answerWith(w, request(3));
  expect(answer.trafficBack).toMatchObject({ outcome: 'left', detail: 'the router sends blue 30% / green 70% (expected blue 0% / green 100%)' });
  expect(w.calls).toEqual(['observeTraffic']);
});

test('an undo a lost attempt cut short (the route back, the Service not yet) is finished, not left alone', async () => {
  const w = world([0.5], { ...switched, weights: { blue: 100, green: 0 } });
  const answer = await answerWith(w, request(3));
  expect(answer.trafficBack).toMatchObject({ outcome: 'restored' });
  expect(w.calls).toEqual(['observeTraffic', 'restoreTraffic blue']);
});

test('a traffic call that fails is reported, not thrown: the observations still reach the workflow, whose rollback tries again', async () => {
  const w = world([0.5], switched, async () => {
    throw new Error('patch Service prod/checkout: 503 Service Unavailable');
  });
  const answer = await answerWith(w, request(3));
  expect(answer.observations).toHaveLength(1);
  expect(answer.trafficBack).toMatchObject({ outcome: 'failed', detail: 'patch Service prod/checkout: 503 Service Unavailable' });
});

test('heartbeats with the observations go on while traffic moves slowly', async () => {
  const slow = 2.5 * WATCH_HEARTBEAT_EVERY_MS;
  const w = world([0.5], switched, () => new Promise((resolve) => setTimeout(resolve, slow)));
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 });
  const beats: { at: number; details: unknown }[] = [];
  env.on('heartbeat', (details: unknown) => beats.push({ at: Date.now(), details }));
  const started = Date.now();
  const answer = await answerWith(w, request(3), env);
  const during = beats.filter((b) => b.at > started + 500);
  expect(during.length).toBeGreaterThanOrEqual(2);
  for (const b of during) expect(b.details).toEqual(answer.observations);
});

test('a traffic call that hangs is reported failed after the timeout: the verdict and the rollback do not wait for it', async () => {
  const w = world([0.5], switched, () => new Promise(() => undefined));
  const r = request(1);
  if (!r.onFailed) throw new Error('the request carries the undo');
  const started = Date.now();
  const back = await putTrafficBack(r.onFailed, w.k8s, 300);
  expect(back).toMatchObject({ outcome: 'failed', detail: 'no answer from Kubernetes within 0.3 s' });
  expect(Date.now() - started).toBeLessThan(5_000);
});

test('a watch cancelled before it moves traffic leaves traffic to the rollback', async () => {
  const w = world([0.5]);
  const env = new MockActivityEnvironment();
  const watch = restoringTraffic(async (req: WatchRequest) => {
    const out = await watchActivity(w.measure, activityContext)(req);
    env.cancel('CANCELLED');
    return out;
  }, w.k8s);
  const answer = (await env.run(watch, request(3))) as TimedObservation[] | WatchAnswer;
  expect(Array.isArray(answer) ? undefined : answer.trafficBack).toBeUndefined();
  expect(w.calls).toEqual([]);
});
