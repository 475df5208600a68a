// The traffic simulator without a cluster: a fixed routing source (as the judge-accuracy benchmark
// uses it) decides where requests go, and changing it moves them; with neither a kubeconfig nor a
// routing source it refuses to start.
import { simulatorConfigSchema } from '../../devkit/simulator/config.js';
import { StaticRouting, staticView } from '../../devkit/simulator/routing.js';
import { startSimulator, type Simulator } from '../../devkit/simulator/simulator.js';
import { freePort } from '../../devkit/stack/ports.js';

const config = simulatorConfigSchema.parse({
  services: ['shop', 'cart'].map((service) => ({ service, requestsPerSecond: 1000, production: { namespace: 'prod', activeService: service, deploymentPrefix: service } })),
  images: { 'shop:broken': { errorRate: 1 } },
});

interface State {
  services: Record<string, { weights?: Record<string, number>; from?: string }>;
  requests: { labels: Record<string, string>; value: number }[];
}

async function state(sim: Simulator): Promise<State> {
  return (await (await fetch(`${sim.url}/state`)).json()) as State;
}

/** Requests so far by service/color/code. */
async function counts(sim: Simulator): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of (await state(sim)).requests) out.set(`${r.labels.service}/${r.labels.color}/${r.labels.code}`, r.value);
  return out;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const v = await read();
    if (ok(v) || i > 400) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the simulator with a fixed routing source', () => {
  let sim: Simulator;
  const routing = new StaticRouting({ shop: staticView({ blue: 90, green: 10 }, { blue: 'shop:1', green: 'shop:broken' }) });

  beforeAll(async () => {
    sim = await startSimulator({ config, routing, port: await freePort(), pollMs: 20, tickMs: 10 });
  });
  afterAll(() => sim.stop());

  test('sends requests by the given weights, with each image behaving as configured, and nothing to an unrouted service', async () => {
    const c = await until(() => counts(sim), (m) => (m.get('shop/green/500') ?? 0) >= 100);
    const blue = (c.get('shop/blue/200') ?? 0) + (c.get('shop/blue/500') ?? 0);
    const green = c.get('shop/green/500') ?? 0;
    expect(c.get('shop/green/200')).toBeUndefined(); // shop:broken fails every request
    expect(green / (blue + green)).toBeGreaterThan(0.05);
    expect(green / (blue + green)).toBeLessThan(0.15);
    expect([...c.keys()].some((k) => k.startsWith('cart/'))).toBe(false);
    expect((await state(sim)).services.shop).toMatchObject({ weights: { blue: 90, green: 10 }, from: 'static routing' });
  });

  test('a changed view moves the traffic', async () => {
    routing.set('cart', staticView({ blue: 0, green: 100 }, { blue: 'cart:1', green: 'cart:2' }));
    const c = await until(() => counts(sim), (m) => (m.get('cart/green/200') ?? 0) >= 50);
    expect(c.get('cart/green/200')).toBeGreaterThanOrEqual(50);
    expect(c.get('cart/blue/200')).toBeUndefined();
  });
});

test('without a kubeconfig or a routing source the simulator does not start', async () => {
  await expect(startSimulator({ config, port: await freePort() })).rejects.toThrow('needs a kubeconfig or a routing source');
});
