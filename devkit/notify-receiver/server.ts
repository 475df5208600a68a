// A notification receiver for the local stack and the tests: it takes the worker's Slack-compatible
// and JSON webhook POSTs (/slack, /webhook), checks what a real receiver would (JSON, an
// Idempotency-Key, the signature when it has the secret), keeps every request, and de-duplicates on
// the key as a receiver is meant to — so a test can count deliveries per event and see the repeats.
// Its /_receiver/ admin API lists what it got and can hold the next request open (so a test can kill
// the worker mid-send) or answer the next ones with an error status.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface ReceivedRequest {
  sink: 'slack' | 'webhook';
  key: string;
  event?: string;
  body: unknown;
  /** The first request with this key and sink (false: a repeat, answered 200 and not counted). */
  first: boolean;
  /** What it answered. */
  status: number;
  at: string;
}

export interface NotifyReceiver {
  url: string;
  /** Every request, in order. */
  readonly received: ReceivedRequest[];
  /** The messages counted once per sink and key. */
  messages(): ReceivedRequest[];
  stop(): Promise<void>;
}

export interface ReceiverOptions {
  port?: number;
  /** The webhook's signing secret: a body without a matching X-Tidegate-Signature is answered 401. */
  secret?: string;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startNotifyReceiver(options: ReceiverOptions = {}): Promise<NotifyReceiver> {
  const received: ReceivedRequest[] = [];
  const seen = new Set<string>();
  /** Requests to hold open without answering (a test kills the sender meanwhile). */
  let hold = 0;
  const held: ServerResponse[] = [];
  /** Statuses to answer the next requests with, instead of taking them. */
  const failWith: number[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (req.method === 'GET' && path === '/_receiver/health') return reply(res, 200, { ok: true });
    if (req.method === 'GET' && path === '/_receiver/received') return reply(res, 200, received);
    if (req.method === 'GET' && path === '/_receiver/messages') return reply(res, 200, received.filter((r) => r.first && r.status === 200));
    if (req.method === 'POST' && path === '/_receiver/hold') {
      hold += Number(new URL(req.url ?? '/', 'http://receiver').searchParams.get('count') ?? '1');
      return reply(res, 200, { hold });
    }
    if (req.method === 'POST' && path === '/_receiver/fail') {
      const q = new URL(req.url ?? '/', 'http://receiver').searchParams;
      for (let i = 0; i < Number(q.get('count') ?? '1'); i++) failWith.push(Number(q.get('status') ?? '503'));
      return reply(res, 200, { failing: failWith.length });
    }
    if (req.method !== 'POST' || (path !== '/slack' && path !== '/webhook')) return reply(res, 404, { error: `no route ${req.method ?? ''} ${path}` });
    const sink = path === '/slack' ? 'slack' : 'webhook';
    const text = await readBody(req);
    const key = req.headers['idempotency-key'];
    const event = req.headers['x-tidegate-event'];
    const record = (status: number, body: unknown, first = false): void => {
      received.push({ sink, key: typeof key === 'string' ? key : '', ...(typeof event === 'string' ? { event } : {}), body, first, status, at: new Date().toISOString() });
    };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      record(400, text);
      return reply(res, 400, { error: 'the body is not JSON' });
    }
    if (typeof key !== 'string' || key === '') {
      record(400, body);
      return reply(res, 400, { error: 'no Idempotency-Key header' });
    }
    if (sink === 'slack' && typeof (body as { text?: unknown }).text !== 'string') {
      record(400, body);
      return reply(res, 400, { error: 'a Slack message needs text' });
    }
    if (sink === 'webhook' && options.secret) {
      const expected = Buffer.from(`sha256=${createHmac('sha256', options.secret).update(text).digest('hex')}`);
      const got = Buffer.from(String(req.headers['x-tidegate-signature'] ?? ''));
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        record(401, body);
        return reply(res, 401, { error: 'bad X-Tidegate-Signature' });
      }
    }
    const failure = failWith.shift();
    if (failure !== undefined) {
      record(failure, body);
      return reply(res, failure, { error: 'failing as told' });
    }
    const first = !seen.has(`${sink} ${key}`);
    seen.add(`${sink} ${key}`);
    record(200, body, first);
    if (hold > 0) {
      // taken (the receiver has it) but not answered: the sender cannot know it arrived
      hold -= 1;
      held.push(res);
      return;
    }
    reply(res, 200, { ok: true, duplicate: !first });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    messages: () => received.filter((r) => r.first && r.status === 200),
    async stop() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
