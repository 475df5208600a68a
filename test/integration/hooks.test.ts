// The hooks activity against a real control plane (etcd, kube-apiserver, the Job controller, kwok
// nodes) and a local HTTP server. Job pods are held off the kwok nodes by a node selector nobody
// matches, so the test marks each pod Succeeded or Failed as a kubelet would: the Job controller
// then completes or fails the Job, and the activity reports it — with the pod's termination message
// (the log's tail under FallbackToLogsOnError) on failure. Every result crosses the payload converter.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActivityCancellationDetails, ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { BatchV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1ContainerStatus } from '@kubernetes/client-node';
import { createHookActivities } from '../../src/activities/hooks/index.js';
import type { HookActivities } from '../../src/activities/types.js';
import { hookRun, type HookOutcome, type HookRun } from '../../src/core/hooks.js';
import type { HookAction, HookSpec } from '../../src/core/release-spec.js';
import { startKubeCluster, type KubeCluster } from '../../devkit/stack/kube.js';
import { tempDir } from '../../devkit/testing/servers.js';
import { throughPayloads } from '../../devkit/testing/payloads.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
let cluster: KubeCluster;
let batch: BatchV1Api;
let core: CoreV1Api;
let hooks: HookActivities;
let server: Server;
let baseUrl: string;
const requests: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
/** The status the local server answers each path with, in turn (the last repeats); 200 when unset. */
const answers = new Map<string, number[]>();

/** A Job hook whose pods wait on a node nobody has, until the test marks them. */
function heldJob(args: string[], timeout = 60_000): HookAction {
  return {
    kind: 'job',
    timeout,
    template: { template: { spec: { nodeSelector: { 'tidegate.test/held': 'yes' }, containers: [{ name: 'migrate', image: 'registry.local/checkout-migrations:{{version}}', args }] } } },
  };
}

let seq = 0;
function runOf(hook: HookSpec, phase: 'run' | 'undo' = 'run', runId = `run-${++seq}`): HookRun {
  return hookRun({ releaseId: 'checkout@4.2.0', runId, point: 'beforeSwitch', hook, phase, vars: { release: 'checkout@4.2.0', service: 'checkout', version: '4.2.0', image: 'registry.local/checkout:4.2.0', namespace: 'hooks' } });
}

/** Marks the Job's pod as a kubelet would once its container exited with `exitCode` (and `message` as its termination message). */
async function markPod(run: HookRun, exitCode: number, message?: string): Promise<string> {
  const job = run.job?.name ?? '';
  let pod: string | undefined;
  const deadline = Date.now() + 30_000;
  while (!pod && Date.now() < deadline) {
    pod = (await core.listNamespacedPod({ namespace: 'hooks', labelSelector: `job-name=${job}` })).items[0]?.metadata?.name;
    if (!pod) await new Promise((r) => setTimeout(r, 200));
  }
  if (!pod) throw new Error(`no pod of Job ${job} within 30 s`);
  const status: V1ContainerStatus = { name: 'migrate', image: 'registry.local/checkout-migrations:4.2.0', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', ...(message ? { message } : {}) } } };
  await core.patchNamespacedPodStatus({ namespace: 'hooks', name: pod, body: { status: { phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [status] } } }, MERGE);
  return pod;
}

beforeAll(async () => {
  cluster = await startKubeCluster({ dir: tempDir('kube-hooks'), nodes: 1 });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  batch = kc.makeApiClient(BatchV1Api);
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'hooks' } } });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '').replace(/\?.*$/, '');
      const list = answers.get(path) ?? [200];
      const status = list.length > 1 ? (list.shift() ?? 200) : (list[0] ?? 200);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 400 ? 'migration 42 failed\nERROR: column "note" already exists\n' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hooks = throughPayloads(createHookActivities({ kubeConfig: kc, env: { CACHE_TOKEN: 'Bearer s3cret' }, pollMs: 200 }));
}, 180_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await cluster?.stop();
});

test('a Job whose pod the test marks succeeded: the hook succeeds; the Job is made from the template with the version filled in', async () => {
  const run = runOf({ name: 'expand-schema', action: heldJob(['up', '--to', '{{version}}']) });
  const env = new MockActivityEnvironment();
  const outcome = env.run(hooks.runHook, run);
  await markPod(run, 0);
  expect(await outcome).toEqual({ phase: 'Succeeded', detail: `Job hooks/${run.job?.name} succeeded` });

  const job = await batch.readNamespacedJob({ namespace: 'hooks', name: run.job?.name ?? '' });
  expect(job.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'tidegate', 'tidegate.io/hook': 'expand-schema', 'tidegate.io/service': 'checkout' });
  expect(job.metadata?.annotations).toMatchObject({ 'tidegate.io/release': 'checkout@4.2.0', 'tidegate.io/key': run.key });
  expect(job.spec?.backoffLimit).toBe(0);
  const container = job.spec?.template.spec?.containers[0];
  expect(container).toMatchObject({ image: 'registry.local/checkout-migrations:4.2.0', args: ['up', '--to', '4.2.0'], terminationMessagePolicy: 'FallbackToLogsOnError' });
  expect(job.spec?.template.spec?.restartPolicy).toBe('Never');

  // a retried attempt (the worker died after the Job finished) finds the same Job: no second one
  expect(await hooks.runHook(run)).toEqual({ phase: 'Succeeded', detail: `Job hooks/${run.job?.name} succeeded` });
  const all = await batch.listNamespacedJob({ namespace: 'hooks', labelSelector: 'tidegate.io/hook=expand-schema' });
  expect(all.items.filter((j) => j.metadata?.annotations?.['tidegate.io/key'] === run.key)).toHaveLength(1);
}, 120_000);

test('a Job whose pod the test marks failed: the hook fails with the exit code and the termination message as the log tail', async () => {
  const run = runOf({ name: 'expand-schema', action: heldJob(['up']) });
  const outcome = new MockActivityEnvironment().run(hooks.runHook, run);
  const pod = await markPod(run, 3, 'applying 0042_add_note.sql\nALTER TABLE orders ADD COLUMN note text\nERROR:  relation "orders" does not exist\n');
  expect(await outcome).toEqual({
    phase: 'Failed',
    detail: `Job hooks/${run.job?.name} failed (BackoffLimitExceeded): pod ${pod} exited 3 (Error)`,
    logTail: ['applying 0042_add_note.sql', 'ALTER TABLE orders ADD COLUMN note text', 'ERROR:  relation "orders" does not exist'],
  });
}, 120_000);

test('a Job past its timeout is deleted and the hook times out; a Job of the same name from elsewhere is refused, not adopted', async () => {
  const run = runOf({ name: 'slow-backfill', action: heldJob(['backfill'], 3_000) });
  const env = new MockActivityEnvironment();
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  const outcome = (await env.run(hooks.runHook, run)) as HookOutcome;
  expect(outcome.phase).toBe('TimedOut');
  expect(outcome.detail).toMatch(new RegExp(`^Job hooks/${run.job?.name} did not finish within 3s and was deleted: pod \\S+ is Pending$`));
  expect(heartbeats.length).toBeGreaterThan(0);
  // deleted (or being deleted in the background)
  const left = await batch.readNamespacedJob({ namespace: 'hooks', name: run.job?.name ?? '' }).catch(() => undefined);
  expect(left === undefined || left.metadata?.deletionTimestamp !== undefined).toBe(true);

  const other = runOf({ name: 'expand-schema', action: heldJob(['up']) });
  await batch.createNamespacedJob({ namespace: 'hooks', body: { metadata: { name: other.job?.name ?? '' }, spec: { template: { spec: { restartPolicy: 'Never', nodeSelector: { 'tidegate.test/held': 'yes' }, containers: [{ name: 'x', image: 'x' }] } } } } });
  const refused = await hooks.runHook(other).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ApplicationFailure);
  expect((refused as ApplicationFailure).type).toBe('HookInvalid');
  expect((refused as ApplicationFailure).message).toBe(`Job hooks/${other.job?.name} exists and was not created by this run of checkout@4.2.0 (hook expand-schema); delete it or rename the hook`);
}, 120_000);

test('a worker shutting down (or a heartbeat timeout) leaves the Job running for the retry to adopt; only an abort the release asked for deletes it', async () => {
  const run = runOf({ name: 'expand-schema', action: heldJob(['up']) });
  const name = run.job?.name ?? '';
  const jobExists = async () => batch.readNamespacedJob({ namespace: 'hooks', name }).then((j) => !j.metadata?.deletionTimestamp, () => false);
  const waitForJob = async () => {
    for (let i = 0; i < 150 && !(await jobExists()); i++) await new Promise((r) => setTimeout(r, 200));
  };
  /** One attempt of the hook, cancelled the way `reason` says once its Job exists; it ends with the cancellation. */
  const attemptCancelled = async (reason: 'WORKER_SHUTDOWN' | 'TIMED_OUT' | 'CANCELLED', details: ActivityCancellationDetails): Promise<void> => {
    const env = new MockActivityEnvironment();
    const attempt = env.run(hooks.runHook, run);
    await waitForJob();
    env.cancel(reason, details);
    await expect(attempt).rejects.toThrow();
  };
  // given the hook's Job running, when its worker shuts down (a rolling update): the attempt ends, the Job stays
  await attemptCancelled('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
  expect(await jobExists()).toBe(true);
  // the same after a heartbeat timeout
  await attemptCancelled('TIMED_OUT', new ActivityCancellationDetails({ timedOut: true }));
  expect(await jobExists()).toBe(true);
  // the retry on another worker adopts it; when the release is aborted, the Job is deleted
  await attemptCancelled('CANCELLED', new ActivityCancellationDetails({ cancelRequested: true }));
  expect(await jobExists()).toBe(false);
  const all = await batch.listNamespacedJob({ namespace: 'hooks', labelSelector: 'tidegate.io/hook=expand-schema' });
  expect(all.items.filter((j) => j.metadata?.annotations?.['tidegate.io/key'] === run.key && !j.metadata?.deletionTimestamp)).toHaveLength(0);
}, 120_000);

test('an HTTP hook: the key as Idempotency-Key, the secret header from the environment, 5xx retried, 4xx failed with the body', async () => {
  const call = (url: string, extra: Partial<Extract<HookAction, { kind: 'http' }>> = {}): HookRun =>
    runOf({ name: 'warm-cache', action: { kind: 'http', url, method: 'POST', headers: { 'content-type': 'application/json' }, headersFromEnv: { authorization: 'CACHE_TOKEN' }, body: '{"version":"{{version}}"}', timeout: 5_000, ...extra } });
  const ok = call(`${baseUrl}/warm?v={{version}}`);
  expect(await hooks.runHook(ok)).toEqual({ phase: 'Succeeded', detail: `POST ${baseUrl}/warm?… → 200` });
  const got = requests.at(-1);
  expect(got).toMatchObject({ method: 'POST', url: '/warm?v=4.2.0', body: '{"version":"4.2.0"}' });
  expect(got?.headers).toMatchObject({ 'idempotency-key': ok.key, authorization: 'Bearer s3cret', 'x-tidegate-release': 'checkout@4.2.0', 'content-type': 'application/json' });

  answers.set('/busy', [503]);
  const busy = await hooks.runHook(call(`${baseUrl}/busy`)).catch((e: unknown) => e);
  expect(busy).toMatchObject({ type: 'HookUnavailable', nonRetryable: false });
  // the secret is never in a message
  expect(String((busy as Error).message)).not.toContain('s3cret');

  answers.set('/migrate', [422]);
  expect(await hooks.runHook(call(`${baseUrl}/migrate`))).toEqual({ phase: 'Failed', detail: `POST ${baseUrl}/migrate → 422`, logTail: ['migration 42 failed', 'ERROR: column "note" already exists'] });

  const unset = await hooks.runHook(call(`${baseUrl}/warm`, { headersFromEnv: { authorization: 'NOT_SET' } })).catch((e: unknown) => e);
  expect(unset).toMatchObject({ type: 'HookInvalid', nonRetryable: true, message: "hook warm-cache: header authorization is read from NOT_SET, which the worker's environment does not set" });

  const down = await hooks.runHook(call('http://127.0.0.1:9/none')).catch((e: unknown) => e);
  expect(down).toMatchObject({ type: 'HookUnavailable', nonRetryable: false });
});
