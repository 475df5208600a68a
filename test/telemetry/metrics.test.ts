// Given a tidegate worker (createWorker, the in-memory cluster, metrics backend and GitHub as its
// adapters) on the Temporal dev server, with the Runtime serving Prometheus metrics as
// TIDEGATE_METRICS_ADDRESS asks: one release is released and one rolled back by its canary analysis
// (its first traffic undo failing once), and the endpoint, scraped over HTTP, shows the SDK's metrics
// and tidegate's counters with the right labels and counts.
import { Runtime } from '@temporalio/worker';
import { FakeWorld } from '../../devkit/testing/harness.js';
import { eventually } from '../../devkit/testing/e2e.js';
import { freePort } from '../../devkit/stack/ports.js';
import type { Releases } from '../../src/client/releases.js';
import { METRICS } from '../../src/core/metrics.js';
import { installWorkerRuntime, runtimeOptionsFromEnv } from '../../src/workers/runtime.js';
import { fakeAdapters, quickSpec, startWorkerOnDevServer, type WorkerOnDevServer } from './support.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus's text format, sample lines only. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of a metric's samples whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

const TASK_QUEUE = 'telemetry-metrics';
let metricsUrl: string;
let stack: WorkerOnDevServer | undefined;
let releases: Releases;
const world = new FakeWorld();

beforeAll(async () => {
  // the jest setup installed a quiet Runtime in this file's module registry, and nothing has used it
  // yet: this file's Runtime serves metrics, as `tidegate worker` installs it before any connection
  await Runtime.instance().shutdown();
  ({ metricsUrl = '' } = installWorkerRuntime({ TIDEGATE_METRICS_ADDRESS: `127.0.0.1:${await freePort()}` }, 'WARN'));
  stack = await startWorkerOnDevServer(TASK_QUEUE, fakeAdapters(world));
  ({ releases } = stack);
}, 240_000);

afterAll(async () => stack?.stop());

test('the metrics endpoint is off without TIDEGATE_METRICS_ADDRESS, and a malformed address is refused', () => {
  expect(runtimeOptionsFromEnv({}).telemetryOptions).toBeUndefined();
  expect(() => runtimeOptionsFromEnv({ TIDEGATE_METRICS_ADDRESS: 'http://127.0.0.1:9464/metrics' })).toThrow(/must be host:port/);
  expect(runtimeOptionsFromEnv({ TIDEGATE_METRICS_ADDRESS: '0.0.0.0:9464' }).telemetryOptions?.metrics).toMatchObject({ prometheus: { bindAddress: '0.0.0.0:9464' } });
});

test('a released and a rolled-back release: SDK metrics and tidegate counters by outcome on the scraped endpoint', async () => {
  world.setMetric('bad', 'green', 0.5); // the bad canary answers 50% success
  world.failures.set('deployImage', 1); // one Kubernetes call fails, and its retry succeeds
  world.failures.set('restoreTraffic', 1); // the rollback's first traffic undo fails once

  const good = await releases.start(quickSpec('good'), { initiator: 'carol' });
  const bad = await releases.start(quickSpec('bad'), { initiator: 'carol' });
  // the good release's gate opens; two approvers approve (refused while the gate is not open yet)
  for (const by of ['alice', 'bob']) {
    await eventually(`${by} to approve`, () => releases.approve(good.releaseId, by).then(() => true, () => false), (ok) => ok, 90_000);
  }
  const [goodResult, badResult] = await Promise.all([releases.result(good.releaseId), releases.result(bad.releaseId)]);
  expect(goodResult.outcome).toBe('released');
  expect(badResult).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  expect(badResult.status.compensations.find((c) => c.label.startsWith('return bad traffic'))).toMatchObject({ status: 'done', attempts: 2 });

  const read = async (): Promise<Sample[]> => parse(await (await fetch(metricsUrl)).text());
  // sink calls, activity metrics and the SDK's workflow-closed counters reach the exporter as their
  // tasks complete (the closed counter after the server acknowledges the last task, which can come
  // after result() returned and after the sinks): read until all are in
  const closed = (s: Sample[]): number => total(s, 'temporal_workflow_completed', { workflow_type: 'release' }) + total(s, 'temporal_workflow_failed', { workflow_type: 'release' });
  const samples = await eventually('the metrics of both releases', read, (s) => total(s, 'tidegate_releases_ended') >= 2 && total(s, 'tidegate_rollback_duration_seconds_count') >= 1 && closed(s) >= 2, 30_000);

  // the SDK's own metrics, from the same endpoint
  for (const name of ['temporal_num_pollers', 'temporal_request', 'temporal_workflow_task_execution_latency_count', 'temporal_activity_execution_latency_count']) {
    expect(total(samples, name)).toBeGreaterThan(0);
  }
  // both releases closed (a release that did not ship may close as a failed workflow)
  expect(closed(samples)).toBe(2);

  // tidegate's, with the labels the worker adds to custom metrics (namespace, taskQueue, and workflowType or activityType)
  const ours = samples.filter((s) => s.name.startsWith('tidegate_'));
  expect(ours.every((s) => s.labels.namespace === stack?.namespace && s.labels.taskQueue === TASK_QUEUE && (s.labels.workflowType === 'release' || s.labels.activityType === s.labels.operation))).toBe(true);
  expect(new Set(ours.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')))).toEqual(new Set(Object.keys(METRICS)));

  expect(total(samples, 'tidegate_releases_started', { service: 'good' })).toBe(1);
  expect(total(samples, 'tidegate_releases_started', { service: 'bad' })).toBe(1);
  expect(total(samples, 'tidegate_releases_ended', { service: 'good', outcome: 'released', cause: 'none' })).toBe(1);
  expect(total(samples, 'tidegate_releases_ended', { service: 'bad', outcome: 'rolled-back', cause: 'analysis' })).toBe(1);
  expect(total(samples, 'tidegate_release_duration_seconds_count', { outcome: 'released' })).toBe(1);
  expect(total(samples, 'tidegate_release_duration_seconds_count', { outcome: 'rolled-back' })).toBe(1);

  // verdicts: staging twice, the good canary and monitor pass, the bad canary fails
  expect(total(samples, 'tidegate_analysis_verdicts', { judge: 'threshold', phase: 'Successful', stage: 'staging' })).toBe(2);
  expect(total(samples, 'tidegate_analysis_verdicts', { judge: 'threshold', phase: 'Successful', stage: 'canary' })).toBe(1);
  expect(total(samples, 'tidegate_analysis_verdicts', { judge: 'threshold', phase: 'Failed', stage: 'canary' })).toBe(1);
  expect(total(samples, 'tidegate_analysis_verdicts', { judge: 'threshold', phase: 'Successful', stage: 'monitor' })).toBe(1);
  expect(total(samples, 'tidegate_analysis_verdicts')).toBe(5);

  expect(total(samples, 'tidegate_stage_duration_seconds_count', { stage: 'staging', result: 'done' })).toBe(2);
  expect(total(samples, 'tidegate_stage_duration_seconds_count', { stage: 'canary', result: 'done' })).toBe(1);
  expect(total(samples, 'tidegate_stage_duration_seconds_count', { stage: 'canary', result: 'failed' })).toBe(1);
  for (const stage of ['approval', 'switch', 'monitor']) expect(total(samples, 'tidegate_stage_duration_seconds_count', { stage, result: 'done' })).toBe(1);
  // the monitor window is 3 s of workflow time
  expect(total(samples, 'tidegate_stage_duration_seconds_sum', { stage: 'monitor' })).toBeGreaterThanOrEqual(3);

  expect(total(samples, 'tidegate_approval_wait_seconds_count', { decision: 'approved' })).toBe(1);
  expect(total(samples, 'tidegate_approval_wait_seconds_count')).toBe(1);

  expect(total(samples, 'tidegate_compensation_attempts', { action: 'restoreTraffic', result: 'retry' })).toBe(1);
  expect(total(samples, 'tidegate_compensation_attempts', { action: 'restoreTraffic', result: 'done' })).toBe(1);
  expect(total(samples, 'tidegate_compensation_attempts', { action: 'restoreWorkloads', result: 'done' })).toBe(1);
  expect(total(samples, 'tidegate_compensation_attempts', { action: 'restoreStaging', result: 'done' })).toBe(1);
  expect(total(samples, 'tidegate_compensation_attempts', { result: 'failed' })).toBe(0);
  expect(total(samples, 'tidegate_rollback_duration_seconds_count', { outcome: 'rolled-back' })).toBe(1);

  expect(total(samples, 'tidegate_external_call_errors', { system: 'kubernetes', operation: 'deployImage' })).toBe(1);
  expect(total(samples, 'tidegate_external_call_errors', { system: 'kubernetes', operation: 'restoreTraffic' })).toBe(1);
  expect(total(samples, 'tidegate_external_call_errors')).toBe(2);
}, 240_000);
