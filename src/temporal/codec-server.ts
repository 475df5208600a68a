// `tidegate codec-server`: the Temporal codec server protocol (POST /encode, POST /decode with
// {"payloads": [...]} in proto JSON) over the payload codec, so that the Temporal UI and CLI show
// encrypted releases decoded. CORS for the UI's origin; a bearer token unless it listens on loopback
// only. Keys stay in its environment; it never logs a payload.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import type { AesGcmCodec } from './codec.js';

export interface CodecServerOptions {
  codec: AesGcmCodec;
  host: string;
  port: number;
  /** Origins allowed to call it from a browser (the Temporal UI's, e.g. http://127.0.0.1:8233). */
  origins: readonly string[];
  /** Required as `Authorization: Bearer <token>`; absent only when listening on loopback. */
  token?: string;
}

export interface CodecServer {
  url: string;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** Largest request body accepted: a history page of payloads, not a disk. */
const MAX_BODY = 8 * 1024 * 1024;

/** A payload as the codec server protocol writes it: metadata values and data as base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** Refuses to listen beyond loopback without a token: anyone who reaches it could decode every release. */
export function checkCodecServerOptions(o: Pick<CodecServerOptions, 'host' | 'token'>): void {
  if (!o.token && !LOOPBACK.has(o.host)) throw new Error(`the codec server would decode for anyone who reaches ${o.host}: set TIDEGATE_CODEC_TOKEN (clients send it as a bearer token), or listen on 127.0.0.1`);
}

export async function startCodecServer(o: CodecServerOptions): Promise<CodecServer> {
  checkCodecServerOptions(o);
  const server = createServer((req, res) => void handle(o, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(o: CodecServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const origin = req.headers.origin;
  if (origin && o.origins.includes(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
  }
  const reply = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    res.setHeader('Access-Control-Max-Age', '600');
    res.writeHead(204);
    res.end();
    return;
  }
  if (path === '/healthz' && req.method === 'GET') return reply(200, { ok: true, keys: o.codec.keys.length, encryptsWith: o.codec.currentKeyId });
  if (req.method !== 'POST' || (path !== '/encode' && path !== '/decode')) return reply(404, { error: 'POST /encode or /decode' });
  if (o.token && req.headers.authorization !== `Bearer ${o.token}`) return reply(401, { error: 'a bearer token is required (Authorization: Bearer <TIDEGATE_CODEC_TOKEN>)' });
  let raw = '';
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) return reply(413, { error: `the request is larger than ${MAX_BODY} bytes` });
      raw += (chunk as Buffer).toString('utf8');
    }
    const body = JSON.parse(raw) as { payloads?: unknown };
    if (!Array.isArray(body.payloads)) return reply(400, { error: 'the body must be {"payloads": [...]}' });
    const payloads = (body.payloads as JsonPayload[]).map(fromJson);
    const out = path === '/encode' ? await o.codec.encode(payloads) : await o.codec.decode(payloads);
    reply(200, { payloads: out.map(toJson) });
  } catch (err) {
    reply(400, { error: err instanceof Error ? err.message : String(err) });
  }
}
