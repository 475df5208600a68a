// The traffic simulator: for each configured service it sends simulated requests to
// the colors the cluster routes to (or a fixed routing source gives, in benchmarks), with the
// behaviour of the image each color runs, and exposes
// the results for Prometheus to scrape. Its admin API changes an image's behaviour at run time:
//   GET /images                      behaviours (defaults, config, run-time overrides)
//   PUT /images/<url-encoded image>  {"errorRate": 0.3, "latencyMs": {"p50": 20, "p95": 400}}
//   DELETE /images/<image>           back to the configured behaviour
//   GET /state                       where each service's traffic goes now, and request totals
//   GET /metrics                     Prometheus exposition
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Color } from '../../src/core/snapshot.js';
import { COLORS } from '../../src/core/traffic.js';
import { behaviourSchema, completeBehaviour, type Behaviour, type SimulatorConfig } from './config.js';
import { ClusterReader, type Backend, type RoutingView } from './cluster.js';
import { RequestMetrics } from './metrics.js';
import { countRequests, serve, splitRequests } from './requests.js';
import type { RoutingSource } from './routing.js';

export interface SimulatorOptions {
  config: SimulatorConfig;
  /** Where routing is read from: a cluster (the local stack) … */
  kubeconfig?: KubeConfig;
  /** … or any other source, e.g. StaticRouting (benchmarks without a cluster). Wins over kubeconfig. */
  routing?: RoutingSource;
  port: number;
  host?: string;
  /** How often requests are generated (default 100 ms). */
  tickMs?: number;
  /** How often routing is re-read from the API server (default 500 ms). */
  pollMs?: number;
  random?: () => number;
}

export interface Simulator {
  url: string;
  stop(): Promise<void>;
}

interface ServiceState {
  view?: RoutingView;
  readAt?: string;
  readError?: string;
  carry: Record<Color, number>;
  stagingCarry: { value: number };
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const { config } = options;
  const random = options.random ?? Math.random;
  const tickMs = options.tickMs ?? 100;
  const reader: RoutingSource | undefined = options.routing ?? (options.kubeconfig ? new ClusterReader(options.kubeconfig) : undefined);
  if (!reader) throw new Error('startSimulator needs a kubeconfig or a routing source');
  const metrics = new RequestMetrics();
  const defaults = completeBehaviour(config.defaults);
  const overrides = new Map<string, Behaviour>();
  const states = new Map<string, ServiceState>(config.services.map((s) => [s.service, { carry: { blue: 0, green: 0 }, stagingCarry: { value: 0 } }]));

  const behaviourOf = (image: string | undefined): Behaviour => {
    if (!image) return defaults;
    return overrides.get(image) ?? completeBehaviour(config.images[image], defaults);
  };
  /** A request to a backend without ready pods fails fast, as a gateway's 503 would. */
  const send = (service: string, color: string, backend: Backend, n: number): void => {
    const behaviour = behaviourOf(backend.image);
    for (let i = 0; i < n; i++) {
      const r = backend.readyReplicas > 0 ? serve(behaviour, random) : { code: 503, seconds: 0.001 };
      metrics.observe({ service, color }, r.code, r.seconds);
    }
  };

  const poll = async (): Promise<void> => {
    await Promise.all(
      config.services.map(async (svc) => {
        const state = states.get(svc.service);
        if (!state) return;
        try {
          state.view = await reader.read(svc);
          state.readAt = new Date().toISOString();
          delete state.readError;
        } catch (err) {
          state.readError = err instanceof Error ? err.message : String(err); // keep routing as last seen
        }
      }),
    );
  };
  // Each tick sends the requests of the time that actually passed since the last one, so that a
  // busy event loop (hundreds of services in a benchmark) does not lower the configured rates.
  let lastTick = performance.now();
  const tick = (): void => {
    const now = performance.now();
    const seconds = Math.min(1, (now - lastTick) / 1000);
    lastTick = now;
    for (const svc of config.services) {
      const state = states.get(svc.service);
      const view = state?.view;
      if (!state || !view) continue;
      const split = splitRequests(svc.requestsPerSecond, seconds, view.weights, state.carry);
      for (const color of COLORS) send(svc.service, color, view.colors[color], split[color]);
      if (svc.staging && view.staging) send(svc.service, 'staging', view.staging, countRequests(svc.staging.requestsPerSecond, seconds, state.stagingCarry));
    }
  };

  await poll();
  let polling = false;
  const pollTimer = setInterval(() => {
    if (polling) return;
    polling = true;
    void poll().finally(() => (polling = false));
  }, options.pollMs ?? 500);
  const tickTimer = setInterval(tick, tickMs);

  const imagesView = () => ({
    defaults,
    configured: Object.fromEntries(Object.entries(config.images).map(([image, b]) => [image, completeBehaviour(b, defaults)])),
    overrides: Object.fromEntries(overrides),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const reply = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
    };
    if (req.method === 'GET' && url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.exposition());
      return;
    }
    if (req.method === 'GET' && url.pathname === '/healthz') return reply(200, { ok: true });
    if (req.method === 'GET' && url.pathname === '/images') return reply(200, imagesView());
    if (req.method === 'GET' && url.pathname === '/state') {
      return reply(200, {
        services: Object.fromEntries([...states].map(([name, s]) => [name, { ...s.view, readAt: s.readAt, readError: s.readError }])),
        requests: metrics.totals(),
      });
    }
    const match = /^\/images\/(.+)$/.exec(url.pathname);
    if (match?.[1] && (req.method === 'PUT' || req.method === 'DELETE')) {
      const image = decodeURIComponent(match[1]);
      if (req.method === 'DELETE') {
        overrides.delete(image);
        return reply(200, { image, behaviour: behaviourOf(image) });
      }
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return reply(400, { error: 'the body must be JSON like {"errorRate": 0.3, "latencyMs": {"p50": 20, "p95": 400}}' });
      }
      const parsed = behaviourSchema.safeParse(body);
      if (!parsed.success) {
        return reply(400, { error: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') });
      }
      const behaviour = completeBehaviour(parsed.data, behaviourOf(image));
      overrides.set(image, behaviour);
      return reply(200, { image, behaviour });
    }
    reply(404, { error: `no route ${req.method} ${url.pathname}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  return {
    url: `http://${host}:${options.port}`,
    stop: async () => {
      clearInterval(pollTimer);
      clearInterval(tickTimer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 65_536) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
