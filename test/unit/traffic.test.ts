// Router weights read off routing objects, and the simulator's request maths — table-driven.
import {
  httpRouteWeights,
  nginxWeights,
  replicaWeights,
  toPercent,
  virtualServiceWeights,
  type HttpRouteLike,
  type IngressLike,
  type VirtualServiceLike,
  type Weights,
} from '../../src/core/traffic.js';
import { completeBehaviour, simulatorConfigSchema } from '../../devkit/simulator/config.js';
import { RequestMetrics } from '../../devkit/simulator/metrics.js';
import { countRequests, lognormalFor, seededRandom, serve, splitRequests } from '../../devkit/simulator/requests.js';

const route = (...refs: [string, number | undefined][]): HttpRouteLike => ({
  spec: { rules: [{ backendRefs: refs.map(([name, weight]) => ({ name, ...(weight === undefined ? {} : { weight }) })) }] },
});

describe('weights read off router objects', () => {
  test.each<[string, Weights, Weights]>([
    ['9:1', { blue: 9, green: 1 }, { blue: 90, green: 10 }],
    ['1:2 rounds to 100 in all', { blue: 1, green: 2 }, { blue: 33, green: 67 }],
    ['0:0 takes no traffic', { blue: 0, green: 0 }, { blue: 0, green: 0 }],
    ['0:5', { blue: 0, green: 5 }, { blue: 0, green: 100 }],
  ])('toPercent %s', (_, raw, expected) => expect(toPercent(raw)).toEqual(expected));

  test.each<[string, HttpRouteLike, Weights | undefined]>([
    ['90/10', route(['checkout-blue', 90], ['checkout-green', 10]), { blue: 90, green: 10 }],
    ['weight defaults to 1', route(['checkout-blue', undefined], ['checkout-green', undefined]), { blue: 50, green: 50 }],
    ['one color only', route(['checkout-blue', undefined]), { blue: 100, green: 0 }],
    ['other backends ignored', route(['checkout-blue', 1], ['other', 99]), { blue: 100, green: 0 }],
    ['no color backend', route(['other', 1]), undefined],
    ['no rules', { spec: {} }, undefined],
  ])('HTTPRoute %s', (_, r, expected) => expect(httpRouteWeights(r, 'checkout')).toEqual(expected));

  const vs = (...routes: [{ host?: string; subset?: string }, number | undefined][]): VirtualServiceLike => ({
    spec: { http: [{ route: routes.map(([destination, weight]) => ({ destination, ...(weight === undefined ? {} : { weight }) })) }] },
  });
  test.each<[string, VirtualServiceLike, Weights | undefined]>([
    ['subsets 80/20', vs([{ host: 'checkout', subset: 'blue' }, 80], [{ host: 'checkout', subset: 'green' }, 20]), { blue: 80, green: 20 }],
    ['hosts 30/70', vs([{ host: 'checkout-blue' }, 30], [{ host: 'checkout-green.prod.svc.cluster.local' }, 70]), { blue: 30, green: 70 }],
    ['single destination without weight', vs([{ host: 'checkout', subset: 'green' }, undefined]), { blue: 0, green: 100 }],
    ['unknown destinations', vs([{ host: 'other' }, 100]), undefined],
  ])('VirtualService %s', (_, v, expected) => expect(virtualServiceWeights(v, 'checkout')).toEqual(expected));

  const canary = (backend: string, annotations: Record<string, string>): IngressLike => ({
    metadata: { annotations },
    spec: { rules: [{ http: { paths: [{ backend: { service: { name: backend } } }] } }] },
  });
  test.each<[string, 'blue' | 'green', IngressLike | undefined, Weights]>([
    ['no canary Ingress', 'blue', undefined, { blue: 100, green: 0 }],
    ['canary 25 to green', 'blue', canary('checkout-green', { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '25' }), { blue: 75, green: 25 }],
    ['canary disabled', 'blue', canary('checkout-green', { 'nginx.ingress.kubernetes.io/canary': 'false', 'nginx.ingress.kubernetes.io/canary-weight': '25' }), { blue: 100, green: 0 }],
    ['weight total 1000', 'green', canary('checkout-blue', { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '100', 'nginx.ingress.kubernetes.io/canary-weight-total': '1000' }), { blue: 10, green: 90 }],
    ['canary to the stable color', 'green', canary('checkout-green', { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '40' }), { blue: 0, green: 100 }],
  ])('nginx %s', (_, stable, c, expected) => expect(nginxWeights(stable, c, 'checkout')).toEqual(expected));

  test.each<[Weights, Weights]>([
    [{ blue: 3, green: 1 }, { blue: 75, green: 25 }],
    [{ blue: 0, green: 2 }, { blue: 0, green: 100 }],
  ])('replica ratio %j', (ready, expected) => expect(replicaWeights(ready)).toEqual(expected));
});

describe('simulated requests', () => {
  test('a 90/10 split gives exactly 10% of requests to the canary over time', () => {
    const carry = { blue: 0, green: 0 };
    const total = { blue: 0, green: 0 };
    for (let i = 0; i < 1000; i++) {
      const s = splitRequests(100, 0.1, { blue: 90, green: 10 }, carry);
      total.blue += s.blue;
      total.green += s.green;
    }
    expect(total).toEqual({ blue: 9000, green: 1000 });
  });

  test.each<[number, number, number]>([
    [10, 0.1, 10], // one request per tick
    [3, 0.1, 3], // fractions carried over: 3 in 10 ticks
    [0.5, 1, 5],
  ])('%d rps in ticks of %d s: %d requests in 10 ticks', (rps, tick, expected) => {
    const carry = { value: 0 };
    let n = 0;
    for (let i = 0; i < 10; i++) n += countRequests(rps, tick, carry);
    expect(n).toBe(expected);
  });

  test.each<[number, number]>([
    [20, 60],
    [50, 400],
  ])('latency fitted to p50 %d ms, p95 %d ms', (p50, p95) => {
    const random = seededRandom(7);
    const behaviour = { errorRate: 0, latencyMs: { p50, p95 } };
    const samples = Array.from({ length: 20_000 }, () => serve(behaviour, random).seconds * 1000).sort((a, b) => a - b);
    expect(samples[10_000]).toBeGreaterThan(p50 * 0.95);
    expect(samples[10_000]).toBeLessThan(p50 * 1.05);
    expect(samples[19_000]).toBeGreaterThan(p95 * 0.93);
    expect(samples[19_000]).toBeLessThan(p95 * 1.07);
    expect(lognormalFor(behaviour.latencyMs).sigma).toBeCloseTo(Math.log(p95 / p50) / 1.6449, 3);
  });

  test.each([0, 0.2, 1])('error rate %d', (errorRate) => {
    const random = seededRandom(11);
    const n = 10_000;
    const errors = Array.from({ length: n }, () => serve({ errorRate, latencyMs: { p50: 20, p95: 60 } }, random)).filter((r) => r.code === 500).length;
    expect(Math.abs(errors / n - errorRate)).toBeLessThan(0.015);
  });
});

describe('simulator config and exposition', () => {
  test('a partial behaviour keeps the rest of its base', () => {
    expect(completeBehaviour({ errorRate: 0.3 })).toEqual({ errorRate: 0.3, latencyMs: { p50: 20, p95: 60 } });
  });

  test.each<[string, unknown, string]>([
    ['error rate above 1', { services: [{ service: 'a', production: { namespace: 'p', activeService: 'a', deploymentPrefix: 'a' } }], images: { x: { errorRate: 2 } } }, 'images.x.errorRate: must be 0..1'],
    ['p95 below p50', { services: [{ service: 'a', production: { namespace: 'p', activeService: 'a', deploymentPrefix: 'a' } }], images: { x: { latencyMs: { p50: 50, p95: 10 } } } }, 'images.x.latencyMs.p95: must be at least p50'],
    ['no services', { services: [] }, 'services: must list at least one service'],
  ])('invalid config: %s', (_, doc, message) => {
    const r = simulatorConfigSchema.safeParse(doc);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toContain(message);
  });

  test('the exposition has a counter per code and a cumulative histogram', () => {
    const m = new RequestMetrics();
    m.observe({ service: 'checkout', color: 'green' }, 200, 0.02);
    m.observe({ service: 'checkout', color: 'green' }, 500, 0.3);
    const text = m.exposition();
    expect(text).toContain('http_requests_total{service="checkout",color="green",code="200"} 1');
    expect(text).toContain('http_requests_total{service="checkout",color="green",code="500"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{service="checkout",color="green",le="0.025"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{service="checkout",color="green",le="0.3"} 2');
    expect(text).toContain('http_request_duration_seconds_bucket{service="checkout",color="green",le="+Inf"} 2');
    expect(text).toContain('http_request_duration_seconds_count{service="checkout",color="green"} 2');
  });
});
