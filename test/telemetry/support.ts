// What the telemetry tests share: the harness's in-memory cluster, metrics backend and GitHub as the
// adapters of a real tidegate worker (createWorker, so the production activity wrappers run) on the
// Temporal dev server with a client as the CLI connects it, and a release spec whose durations are
// seconds, for the dev server's real time.
import type { Worker } from '@temporalio/worker';
import type { FakeWorld } from '../../devkit/testing/harness.js';
import { specFor } from '../../devkit/testing/harness.js';
import { startTestDevServer } from '../../devkit/testing/servers.js';
import { Releases } from '../../src/client/releases.js';
import type { ReleaseSpec } from '../../src/spec/index.js';
import { connectClient } from '../../src/temporal/connection.js';
import type { Tracing } from '../../src/temporal/tracing.js';
import { createWorker, type WorkerConfig } from '../../src/workers/main.js';

type Adapters = NonNullable<WorkerConfig['adapters']>;

/** The fake world's activities split into the worker's adapters. */
export function fakeAdapters(world: FakeWorld): Adapters {
  const a = world.activities();
  return {
    kubernetes: {
      snapshotProduction: a.snapshotProduction,
      snapshotStaging: a.snapshotStaging,
      deployImage: a.deployImage,
      setCanaryWeight: a.setCanaryWeight,
      pointPreview: a.pointPreview,
      switchActive: a.switchActive,
      scaleDeployment: a.scaleDeployment,
      restoreTraffic: a.restoreTraffic,
      restoreWorkloads: a.restoreWorkloads,
      restoreStaging: a.restoreStaging,
      observeTraffic: a.observeTraffic,
    },
    metrics: { measure: a.measure, watch: a.watch },
    github: {
      awaitChecks: a.awaitChecks,
      dispatchWorkflow: a.dispatchWorkflow,
      createDeployment: a.createDeployment,
      setDeploymentStatus: a.setDeploymentStatus,
      setCommitStatus: a.setCommitStatus,
      listTags: a.listTags,
    },
    hooks: { runHook: a.runHook },
    signing: world.signing,
  };
}

const QUICK_RATE =
  'sum(rate(http_requests_total{service="{{service}}",color="{{color}}",code!~"5.."}[2s])) / sum(rate(http_requests_total{service="{{service}}",color="{{color}}"}[2s]))';

/**
 * Staging (verified), canary 10% → analysis → 50%, approval by two of alice, bob and carol, switch,
 * a 3 s monitor window, scale-down after 1 s: every stage, in seconds.
 */
export function quickSpec(service: string, version = '1.0.1'): ReleaseSpec {
  return specFor(service, version, (doc) => {
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: service }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['success-rate'] } }, { setWeight: 50 }] };
    doc.production.approval = { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, timeout: '10m', onTimeout: 'rollback' };
    doc.production.monitor = { duration: '3s', analyses: ['success-rate'] };
    (doc.production.blueGreen as Record<string, unknown>).scaleDownDelay = '1s';
    doc.analyses['success-rate'] = { query: QUICK_RATE, successCondition: '>= 0.99', interval: '2s', count: 2, failureLimit: 1, initialDelay: '1s' };
  });
}

/** A dev server, a running tidegate worker on it and a client's Releases; stop() ends all three. */
export interface WorkerOnDevServer {
  namespace: string;
  releases: Releases;
  stop(): Promise<void>;
}

/**
 * Starts the dev server, a worker with `adapters` (and `tracing`, if given) polling `taskQueue`, and a
 * client connected with `clientEnv` as `connectClient` reads it. Whatever started is stopped when a
 * later step fails.
 */
export async function startWorkerOnDevServer(taskQueue: string, adapters: Adapters, { tracing, clientEnv = {} }: { tracing?: Tracing; clientEnv?: NodeJS.ProcessEnv } = {}): Promise<WorkerOnDevServer> {
  const server = await startTestDevServer();
  let worker: { worker: Worker; close: () => Promise<void> } | undefined;
  let running: Promise<void> | undefined;
  let client: { close: () => Promise<void> } | undefined;
  const stop = async (): Promise<void> => {
    if (worker && running) {
      worker.worker.shutdown();
      await running;
    }
    await worker?.close();
    await client?.close();
    await server.stop();
  };
  try {
    const temporal = { address: server.address, namespace: server.namespace };
    worker = await createWorker({ temporal, taskQueue, adapters, ...(tracing ? { tracing } : {}) });
    running = worker.worker.run();
    const connected = await connectClient(temporal, clientEnv);
    client = connected;
    return { namespace: server.namespace, releases: new Releases(connected.client, taskQueue), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
