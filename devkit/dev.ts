// `npm run dev`: the local stack of real servers and a worker with every adapter
// wired to it, on this machine; prints the Temporal UI URL and the environment for the CLI, and runs
// until Ctrl-C, which stops the worker and the stack (if it started it) — and if it is killed
// outright, a guardian stops the servers it started (see devkit/stack/guardian.ts).
import { TASK_QUEUE } from '../src/core/ids.js';
import { ensureTools } from './toolchain/setup.js';
import { defaultStackDir, stackDown, stackEnv, stackStatus, stackUp } from './stack/stack.js';
import { adaptersFromEnv, createWorker } from '../src/workers/main.js';
import { installWorkerRuntimeOrWarn } from '../src/workers/runtime.js';
import type { CliIO } from '../src/client/cli.js';
import { temporalSettings } from '../src/temporal/connection.js';

export async function runDev(io: Pick<CliIO, 'stdout' | 'stderr' | 'env'>): Promise<void> {
  await ensureTools((line) => io.stderr(`${line}\n`));
  const dir = defaultStackDir();
  const wasUp = (await stackStatus(dir)).every((s) => s.up);
  const state = await stackUp({ dir, log: (l) => io.stderr(`  ${l}\n`), guard: true });
  const env = { ...io.env, ...stackEnv(state) };
  // before the worker's connection: the stack's Prometheus scrapes this worker at TIDEGATE_METRICS_ADDRESS
  const { metricsUrl } = installWorkerRuntimeOrWarn(env, 'WARN', (line) => io.stderr(`${line}\n`));
  const { adapters, configured } = adaptersFromEnv(env);
  const taskQueue = env.TIDEGATE_TASK_QUEUE || TASK_QUEUE;
  const { worker, close } = await createWorker({ temporal: temporalSettings(env), taskQueue, adapters });
  io.stdout(
    [
      '',
      `Temporal Web UI   ${state.temporal?.uiUrl ?? '?'}`,
      `worker            task queue ${taskQueue}; adapters: ${configured.join(', ')}`,
      `worker metrics    ${metricsUrl ?? 'off'} (scraped by the stack's Prometheus as job tidegate-worker)`,
      '',
      'In another shell:',
      '  eval "$(npm run -s stack -- env)"',
      '  ./bin/tidegate.js start -f examples/checkout/release.yaml --version 1.1.0 --image registry.local/checkout:1.1.0',
      '  ./bin/tidegate.js status checkout@1.1.0 --watch',
      '  ./bin/tidegate.js approve checkout@1.1.0 --as alice   # and --as bob',
      '',
      `Ctrl-C stops the worker${wasUp ? '' : ' and the stack'}.`,
      '',
    ].join('\n'),
  );
  // worker.run() returns once the SDK's own SIGINT/SIGTERM handler has drained the worker.
  try {
    await worker.run();
  } finally {
    await close();
    if (!wasUp) await stackDown(dir);
  }
  io.stderr('stopped.\n');
}
