// `tidegate dev` / `npm run demo` (for now): the Temporal dev server with its Web UI and tidegate's
// search attributes, plus a worker with the adapters its environment configures (KUBECONFIG …), on
// this machine; prints how to reach them and stops both on Ctrl-C.
import { mkdirSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { join } from 'node:path';
import { startDevServer } from '../stack/temporal.js';
import { cacheDir } from '../stack/tools.js';
import { adaptersFromEnv, createWorker } from '../workers/main.js';
import { TASK_QUEUE } from '../core/ids.js';
import type { CliIO } from './cli.js';

export async function runDev(io: Pick<CliIO, 'stdout' | 'stderr' | 'env'>): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = join(cacheDir(), 'dev');
  mkdirSync(dir, { recursive: true });
  io.stderr('starting the Temporal dev server…\n');
  const server = await startDevServer({ dbFile: join(dir, 'temporal.db'), logFile: join(dir, 'temporal.log') });
  const { adapters, configured } = adaptersFromEnv(io.env);
  const { worker, close } = await createWorker({
    temporal: { address: server.address, namespace: server.namespace },
    taskQueue: io.env.TIDEGATE_TASK_QUEUE || TASK_QUEUE,
    adapters,
  });
  io.stdout(
    [
      '',
      `Temporal Web UI   ${server.uiUrl}`,
      `Temporal address  ${server.address}   (export TEMPORAL_ADDRESS=${server.address})`,
      `worker            task queue ${TASK_QUEUE}, history in ${join(dir, 'temporal.db')}`,
      '',
      `adapters          ${configured.length ? configured.join(', ') : 'none (set KUBECONFIG, e.g. eval "$(npm run -s stack -- env)")'}`,
      '',
      'Try: tidegate validate -f examples/checkout/release.yaml',
      'The full demo (stack, worker, a healthy and a broken release) lands with issue [7]; until then',
      '`npm run stack -- up` gives the cluster and `test/fixtures/specs/checkout-without-analysis.yaml`',
      'releases the sample service without metrics.',
      '',
      'Ctrl-C stops the worker and the server.',
      '',
    ].join('\n'),
  );
  // worker.run() returns once the SDK's own SIGINT/SIGTERM handler has drained the worker.
  try {
    await worker.run();
  } finally {
    await close();
    await server.stop();
  }
  io.stderr('stopped.\n');
}
