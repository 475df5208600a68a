// Runs the real Temporal dev server (Temporal CLI `server start-dev`) with its Web UI, a persistent
// SQLite file and tidegate's search attributes registered, on free loopback ports.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { freePort, listening } from './ports.js';
import { httpOk, ManagedProcess } from './process.js';
import { toolPath } from '../toolchain/tools.js';

/**
 * Dynamic config both local servers run with, as docs/workers.md recommends for a cluster of one's
 * own: an activity that a workflow task schedules comes back to that worker in the answer to the
 * task's completion (eager activity execution, off in the server by default; the SDK asks for it
 * when it has a free activity slot), one trip through matching fewer per activity.
 */
export const SERVER_SETTINGS: Readonly<Record<string, boolean | number>> = {
  'system.enableActivityEagerExecution': true,
};

export interface DevServerOptions {
  dbFile: string;
  logFile: string;
  port?: number;
  uiPort?: number;
  /** Run without the Web UI (tests that do not need it start faster). */
  headless?: boolean;
  namespace?: string;
  /** Keep running after this process exits (the local stack). */
  detached?: boolean;
  /** Stopped by a guardian if this process dies first (default: unless detached; always in tests). */
  guard?: boolean;
  /** The codec server the Web UI decodes payloads with (--ui-codec-endpoint). */
  codecEndpoint?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  namespace: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * The server answers. A port nobody listens on fails at once (the gRPC client would retry until
 * its connect timeout); a server that listens gets 5 s, which a loaded 2-core machine can need.
 */
export async function canConnect(address: string): Promise<boolean> {
  if (!(await listening(address))) return false;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 5_000 });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/**
 * Starts the dev server. Ports it picks itself (freePort) can be taken by another process between
 * the pick and the server's bind — seen under load, with test suites starting servers side by side
 * ("bind: address already in use", then the server exits): then it starts again on new ports.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const picksPorts = options.port === undefined && (options.headless || options.uiPort === undefined);
  for (let attempt = 1; ; attempt++) {
    const logged = existsSync(options.logFile) ? statSync(options.logFile).size : 0;
    try {
      return await startDevServerOnce(options);
    } catch (err) {
      const log = existsSync(options.logFile) ? readFileSync(options.logFile).subarray(logged).toString('utf8') : '';
      if (!picksPorts || attempt >= 3 || !/address already in use/.test(log)) throw err;
    }
  }
}

async function startDevServerOnce(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const uiPort = options.headless ? undefined : (options.uiPort ?? (await freePort()));
  const namespace = options.namespace ?? 'default';
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--db-filename', options.dbFile,
    '--namespace', namespace,
    '--log-level', 'warn',
    ...Object.entries(SERVER_SETTINGS).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]),
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    ...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
  ];
  const uiUrl = uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`;
  const proc = await ManagedProcess.start({
    name: 'temporal dev server',
    command: toolPath('temporal'),
    args,
    logFile: options.logFile,
    readyTimeoutMs: 90_000,
    detachFromParent: options.detached ?? false,
    ...(options.guard === undefined ? {} : { guard: options.guard }),
    ready: async () => (await canConnect(address)) && (uiUrl === undefined || (await httpOk(uiUrl))),
  });
  return { address, uiUrl, namespace, process: proc, stop: () => proc.stop() };
}

/**
 * Registers tidegate's search attributes in a namespace (the dev server gets them with
 * --search-attribute; the test server and real clusters through the operator API). Idempotent.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  // temporal.api.enums.v1.IndexedValueType: KEYWORD 2, KEYWORD_LIST 7 (the CJS enum object is not
  // importable by name from plain Node ESM).
  const TYPES: Record<string, number> = { Keyword: 2, KeywordList: 7 };
  // The Java time-skipping server implements add but not list: treat an unimplemented list as empty.
  const existing = await connection.operatorService.listSearchAttributes({ namespace }).catch((err: unknown) => {
    if ((err as { code?: number }).code === 12) return { customAttributes: {} };
    throw err;
  });
  const missing = Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((name) => [name, TYPES[SEARCH_ATTRIBUTES[name as keyof typeof SEARCH_ATTRIBUTES]] ?? 2])),
  });
}
