// Real servers for tests: the time-skipping test server and the Temporal dev server from the tool
// cache (never downloaded), each on a free loopback port, with their files in a temp directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { guard } from '../../src/stack/guardian.js';
import { allPids, commandLine, procStat } from '../../src/stack/procfs.js';
import { registerSearchAttributes, startDevServer, type DevServer } from '../../src/stack/temporal.js';
import { toolPath } from '../../src/stack/tools.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tidegate-${prefix}-`));
}

/**
 * The SDK gives the test server's JVM a fixed 5 s to start listening (in its native core, not
 * configurable); on a loaded 2-core machine it sometimes needs longer, so a start that times out is
 * tried again.
 */
async function startTimeSkipping(attempts = 3): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: toolPath('temporal-test-server') } },
      });
    } catch (err) {
      if (attempt >= attempts || !/did not start within/.test(String((err as Error).message))) throw err;
    }
  }
}

/**
 * The SDK starts the test server as a plain child of this process: if this process is SIGKILLed
 * the JVM lives on. Hand the new ones to the guardian until the environment is torn down.
 */
function guardTestServers(env: TestWorkflowEnvironment): void {
  const servers = allPids().filter((pid) => procStat(pid)?.ppid === process.pid && (commandLine(pid) ?? '').includes('io.temporal.testserver.TestServer'));
  const releases = servers.map((pid) => guard('temporal time-skipping test server', { pid }));
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    try {
      await teardown();
    } finally {
      for (const release of releases) release();
    }
  };
}

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await startTimeSkipping();
  guardTestServers(env);
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

