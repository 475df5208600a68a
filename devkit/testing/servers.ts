// Real servers for tests: the time-skipping test server and the Temporal dev server from the tool
// cache (never downloaded), each on a free loopback port, with their files in a temp directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment, type ClientOptionsForTestEnv } from '@temporalio/testing';
import { freePort, listening } from '../stack/ports.js';
import { ManagedProcess } from '../stack/process.js';
import { registerSearchAttributes, startDevServer, type DevServer } from '../stack/temporal.js';
import { toolPath } from '../toolchain/tools.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tidegate-${prefix}-`));
}

/**
 * The time-skipping test server, started by us rather than by the SDK: the SDK gives the server's
 * JVM a fixed 5 s to start listening (in its native core, not configurable), and on a loaded 2-core
 * machine (CI with two CPU-burning processes beside it) the JVM needed longer three times in a row.
 * Here it runs in a process group of its own, stopped by a guardian if this process dies, and gets
 * 60 s; the SDK then connects to it as an existing server that supports time skipping.
 */
async function startTimeSkipping(client: ClientOptionsForTestEnv = {}): Promise<TestWorkflowEnvironment> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const server = await ManagedProcess.start({
    name: 'temporal time-skipping test server',
    command: toolPath('temporal-test-server'),
    args: [String(port)],
    logFile: join(tempDir('test-server'), 'test-server.log'),
    ready: () => listening(address, 2_000),
    readyTimeoutMs: 60_000,
  });
  try {
    // `create` is the SDK's own path behind createTimeSkipping() and createFromExistingServer();
    // only it lets an existing server keep time skipping (pinned by test/stack/time-skipping.test.ts).
    const create = (TestWorkflowEnvironment as unknown as { create(opts: object): Promise<TestWorkflowEnvironment> }).create.bind(TestWorkflowEnvironment);
    const env = await create({ server: { type: 'existing' }, address, supportsTimeSkipping: true, client });
    const teardown = env.teardown.bind(env);
    env.teardown = async () => {
      try {
        await teardown();
      } finally {
        await server.stop();
      }
    };
    return env;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** The time-skipping test server; `client` options (a data converter that encrypts) go to its client. */
export async function createTimeSkippingEnv(client: ClientOptionsForTestEnv = {}): Promise<TestWorkflowEnvironment> {
  const env = await startTimeSkipping(client);
  try {
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  } catch (err) {
    await env.teardown(); // never leave a test server running behind a failed setup
    throw err;
  }
  return env;
}

export async function startTestDevServer(options: { headless?: boolean } = {}): Promise<DevServer & { dir: string }> {
  const dir = tempDir('temporal');
  const server = await startDevServer({
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    headless: options.headless ?? true,
  });
  return { ...server, dir };
}

