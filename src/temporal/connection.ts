// Temporal connection settings from the standard environment: TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and the TLS variables, and the payload keys every client and
// worker encrypts with (TIDEGATE_PAYLOAD_KEYS). Secrets stay in the environment.
import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
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

/** A client; when the environment enables tracing (src/temporal/tracing.ts), its calls start traces, sent by close(). */
export async function connectClient(s: TemporalSettings = temporalSettings(), env: NodeJS.ProcessEnv = process.env): Promise<{ client: Client; close: () => Promise<void> }> {
  const tracing = tracingFromEnv('tidegate-cli', env);
  const connection = await Connection.connect({ ...connectionOptions(s), connectTimeout: 5_000 });
  return {
    client: new Client({ connection, namespace: s.namespace, dataConverter: dataConverterFor(s.payloadKeys), interceptors: tracingClientInterceptors(tracing) }),
    close: async () => {
      await connection.close();
      await tracing?.flush();
    },
  };
}
