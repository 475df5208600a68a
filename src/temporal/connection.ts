// Temporal connection settings from the standard environment: TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and the TLS variables, and the payload keys every client and
// worker encrypts with (TIDEGATE_PAYLOAD_KEYS). Secrets stay in the environment.
import { readFileSync } from 'node:fs';
import { Client, Connection, isRetryableError, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { dataConverterFor, payloadKeysFromEnv, type PayloadKey } from './codec.js';
import { tracingClientInterceptors, tracingFromEnv } from './tracing.js';

export interface TemporalSettings {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: { serverName?: string; clientCertPair?: { crt: Buffer; key: Buffer }; serverRootCACertificate?: Buffer } | true;
  /** Payload encryption keys (the first encrypts); absent: payloads are plaintext. */
  payloadKeys?: PayloadKey[];
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const address = env.TEMPORAL_ADDRESS || '127.0.0.1:7233';
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const certPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const keyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  const caPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  const serverName = env.TEMPORAL_TLS_SERVER_NAME;
  const wantTls = env.TEMPORAL_TLS === 'true' || Boolean(certPath || caPath || apiKey);
  let tls: TemporalSettings['tls'];
  if (wantTls) {
    const detail = {
      ...(serverName ? { serverName } : {}),
      ...(certPath && keyPath ? { clientCertPair: { crt: readFileSync(certPath), key: readFileSync(keyPath) } } : {}),
      ...(caPath ? { serverRootCACertificate: readFileSync(caPath) } : {}),
    };
    tls = Object.keys(detail).length > 0 ? detail : true;
  }
  const payloadKeys = payloadKeysFromEnv(env);
  return { address, namespace, ...(apiKey ? { apiKey } : {}), ...(tls ? { tls } : {}), ...(payloadKeys ? { payloadKeys } : {}) };
}

export function connectionOptions(s: TemporalSettings): ConnectionOptions & NativeConnectionOptions {
  return { address: s.address, ...(s.tls ? { tls: s.tls } : {}), ...(s.apiKey ? { apiKey: s.apiKey } : {}) };
}

/**
 * How long a client keeps trying while Temporal does not answer (a frontend restarting, a network
 * blip): TIDEGATE_TEMPORAL_WAIT in seconds, default 120; 0 gives up at the first failure.
 */
export function temporalWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TIDEGATE_TEMPORAL_WAIT;
  if (raw === undefined || raw === '') return 120_000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`TIDEGATE_TEMPORAL_WAIT must be a number of seconds ≥ 0 (got "${raw}")`);
  return seconds * 1_000;
}

/** What a client says while it waits for Temporal (the CLI prints it on stderr). */
export type UnavailableListener = (message: string) => void;

const BACKOFF = { initialMs: 200, factor: 1.7, maxMs: 5_000 };
const backoffMs = (attempt: number): number => Math.min(BACKOFF.maxMs, BACKOFF.initialMs * BACKOFF.factor ** (attempt - 1));

/** Attempts whose backoff adds up to `waitMs`: a call is retried for about that long. */
export function attemptsWithin(waitMs: number): number {
  let attempts = 1;
  for (let spent = 0; spent + backoffMs(attempts) <= waitMs; attempts++) spent += backoffMs(attempts);
  return attempts;
}

const seconds = (ms: number): string => `${Math.round(ms / 1_000)} s`;

/** gRPC codes of a server that did not answer: UNAVAILABLE, DEADLINE_EXCEEDED. */
const notAnswering = (code: number): boolean => code === 14 || code === 4;

/**
 * The gRPC options of a client that rides out Temporal being unreachable for `waitMs`: every
 * retryable call (UNAVAILABLE and the like, the SDK's own rule) is sent again with backoff up to
 * 5 s, the same request each time — an update keeps its update id, so an approval retried after a
 * lost answer is applied once. The channel reconnects at least every 5 s (gRPC's default backoff
 * reaches 2 min). `onUnavailable` hears of the first retry and then of one every 10 s.
 */
export function patientConnectionOptions(s: TemporalSettings, waitMs: number, onUnavailable?: UnavailableListener): ConnectionOptions {
  const maxAttempts = attemptsWithin(waitMs);
  let lastSaid = 0;
  return {
    ...connectionOptions(s),
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 500, 'grpc.max_reconnect_backoff_ms': 5_000 },
    interceptors: [
      makeGrpcRetryInterceptor({
        delayFunction: (attempt) => backoffMs(attempt) * (0.9 + Math.random() * 0.2),
        retryableDecider: (attempt, status) => {
          const retry = attempt < maxAttempts && isRetryableError(status);
          if (retry && onUnavailable && Date.now() - lastSaid >= 10_000) {
            lastSaid = Date.now();
            const what = status.code === 8 ? 'is limiting requests' : notAnswering(status.code) ? 'is not answering' : 'failed a call';
            onUnavailable(`Temporal at ${s.address} ${what} (${status.details || `gRPC status ${status.code}`}); retrying for up to ${seconds(waitMs)}`);
          }
          return retry;
        },
      }),
    ],
  };
}

/**
 * Nothing answered yet (the frontend is down or restarting): worth another try. A server that
 * answered and refused (a bad API key, a namespace it does not have) is not.
 */
function unreachable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') return notAnswering(code);
  return /Failed to connect before the deadline|ECONNREFUSED|No connection established/i.test(err instanceof Error ? err.message : String(err));
}

/** Connects, trying again with backoff for up to `waitMs` while nothing answers at the address. */
export async function connectPatiently(options: ConnectionOptions, waitMs: number, onUnavailable?: UnavailableListener): Promise<Connection> {
  const deadline = Date.now() + waitMs;
  let lastSaid = 0;
  for (let attempt = 1; ; attempt++) {
    const connection = Connection.lazy({ ...options, connectTimeout: 5_000 });
    try {
      await connection.ensureConnected();
      return connection;
    } catch (err) {
      await connection.close().catch(() => undefined); // a failed attempt's channel would keep reconnecting
      if (!unreachable(err) || Date.now() + backoffMs(attempt) > deadline) throw err;
      if (onUnavailable && Date.now() - lastSaid >= 10_000) {
        lastSaid = Date.now();
        onUnavailable(`cannot connect to Temporal at ${options.address ?? '?'} (${err instanceof Error ? err.message : String(err)}); retrying for up to ${seconds(waitMs)}`);
      }
      await new Promise((r) => setTimeout(r, backoffMs(attempt)));
    }
  }
}

/**
 * A client; when the environment enables tracing (src/temporal/tracing.ts), its calls start traces,
 * sent by close(). It waits out an unreachable Temporal for TIDEGATE_TEMPORAL_WAIT (see
 * patientConnectionOptions), telling `onUnavailable`.
 */
export async function connectClient(s: TemporalSettings = temporalSettings(), env: NodeJS.ProcessEnv = process.env, onUnavailable?: UnavailableListener): Promise<{ client: Client; close: () => Promise<void> }> {
  const tracing = tracingFromEnv('tidegate-cli', env);
  const waitMs = temporalWaitMs(env);
  const connection = await connectPatiently(patientConnectionOptions(s, waitMs, onUnavailable), waitMs, onUnavailable);
  return {
    client: new Client({ connection, namespace: s.namespace, dataConverter: dataConverterFor(s.payloadKeys), interceptors: tracingClientInterceptors(tracing) }),
    close: async () => {
      await connection.close();
      await tracing?.flush();
    },
  };
}
