// What the telemetry tests share: the harness's in-memory cluster, metrics backend and GitHub as the
// adapters of a real tidegate worker (createWorker, so the production activity wrappers run), and a
// release spec whose durations are seconds, for the Temporal dev server's real time.
import type { FakeWorld } from '../../devkit/testing/harness.js';
import { specFor } from '../../devkit/testing/harness.js';
import type { ReleaseSpec } from '../../src/spec/index.js';
import type { WorkerConfig } from '../../src/workers/main.js';

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
    metrics: { measure: a.measure },
    github: {
      awaitChecks: a.awaitChecks,
      dispatchWorkflow: a.dispatchWorkflow,
      createDeployment: a.createDeployment,
      setDeploymentStatus: a.setDeploymentStatus,
      setCommitStatus: a.setCommitStatus,
    },
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
