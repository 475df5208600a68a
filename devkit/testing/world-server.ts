// One in-memory world for several worker processes: a release's activities land on whichever worker
// polls first, so workers with a FakeWorld each would see different clusters (a rollout one world
// never saw, a drift that is not there). The world is served over HTTP from one process, and each
// worker's adapters call it — as real workers share one real cluster.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeWorld } from './harness.js';

type Activities = ReturnType<FakeWorld['activities']>;

/** Serves `world`'s activities at POST /<name> (body: the arguments as a JSON array). */
export async function serveWorld(world: FakeWorld): Promise<{ url: string; close(): Promise<void> }> {
  const activities = world.activities() as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const name = (req.url ?? '').slice(1);
      const fn = activities[name];
      const answer = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body ?? null));
      };
      if (req.method !== 'POST' || !fn) return answer(404, { message: `no activity ${name}` });
      let args: unknown[];
      try {
        args = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[];
      } catch (err) {
        return answer(400, { message: `bad arguments: ${String(err)}` });
      }
      fn(...args).then((result) => answer(200, result), (err: unknown) => answer(500, { message: err instanceof Error ? err.message : String(err) }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Activities that call the world served at `url`: the same names and shapes as FakeWorld's. */
export function remoteWorld(url: string, names: readonly (keyof Activities)[]): Activities {
  const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of names) {
    out[name] = async (...args: unknown[]) => {
      const res = await fetch(`${url}/${name}`, { method: 'POST', body: JSON.stringify(args) });
      const body = (await res.json()) as unknown;
      if (!res.ok) throw new Error(`world: ${(body as { message?: string } | null)?.message ?? `HTTP ${res.status}`}`);
      return body ?? undefined;
    };
  }
  return out as unknown as Activities;
}
