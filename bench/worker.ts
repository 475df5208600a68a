// A tidegate worker process for benchmarks: the production createWorker on task queue "bench",
// with the in-memory cluster and metrics adapters, so its memory and latency are tidegate's own.
// With BENCH_WORLD_URL the adapters call one world served by the benchmark (several workers share it).
import '../test/support/quiet-runtime.js';
import { createWorker, workerOptionsFromEnv } from '../src/workers/main.js';
import { payloadKeysFromEnv } from '../src/temporal/codec.js';
import { FakeWorld } from '../devkit/testing/harness.js';
import { remoteWorld } from '../devkit/testing/world-server.js';

const { measure, watch, awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags, runHook, ...kubernetes } = ((local) => (process.env.BENCH_WORLD_URL ? remoteWorld(process.env.BENCH_WORLD_URL, Object.keys(local) as (keyof typeof local)[]) : local))(new FakeWorld().activities());
const { worker, close } = await createWorker({
  temporal: { address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233', namespace: 'default', ...((keys) => (keys ? { payloadKeys: keys } : {}))(payloadKeysFromEnv(process.env)) },
  taskQueue: 'bench',
  adapters: { kubernetes, metrics: { measure, watch }, github: { awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags }, hooks: { runHook } },
  options: workerOptionsFromEnv(),
});
console.log('bench worker ready');
try {
  await worker.run();
} finally {
  await close();
}
