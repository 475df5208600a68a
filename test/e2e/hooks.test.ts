// Hook stages through the CLI against the local stack (Temporal dev server, the control plane with
// the sample service, the traffic simulator and Prometheus) and a `tidegate worker` process, with
// the migration pattern: an expand Job before the canary (with an undo Job), the contract Job after
// the monitor window. Job pods are held off the kwok nodes, and the test marks each one succeeded or
// failed as a kubelet would. Two releases on the same cluster: a canary that fails its analysis
// rolls back and then runs the expand's undo Job; an expand Job that fails stops the next release
// with its log's tail in `tidegate status`, and its undo runs too.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ReleaseStatus } from '../../src/core/status.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { stackDown, stackEnv, stackUp } from '../../devkit/stack/stack.js';
import { eventually, finishHookJob, startWorkerProcess, tidegate, userEnv } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('e2e-hooks');
let env: NodeJS.ProcessEnv;
let worker: ManagedProcess;
let batch: BatchV1Api;
let core: CoreV1Api;

const job = (args: string[]) => ({
  timeout: '5m',
  template: { template: { spec: { nodeSelector: { 'tidegate.test/held': 'yes' }, containers: [{ name: 'migrate', image: 'registry.local/checkout-migrations:{{version}}', args }] } } },
});

/** The sample service with a short canary analysis and the migration pattern. */
function spec(version: string): string {
  const file = join(dir, `release-${version}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      service: 'checkout',
      version,
      image: `registry.local/checkout:${version}`,
      production: {
        namespace: 'prod',
        blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', scaleDownDelay: '1s' },
        canary: { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 20 }, { pause: { duration: '4s' } }, { analysis: { analyses: ['success-rate'] } }] },
        monitor: { duration: '3s' },
      },
      hooks: {
        beforeSwitch: [{ name: 'expand-schema', job: job(['up', '--phase', 'expand']), undo: { job: job(['down', '--phase', 'expand']) } }],
        afterMonitor: [{ name: 'contract-schema', job: job(['up', '--phase', 'contract']) }],
      },
      analyses: {
        'success-rate': {
          query: 'sum(rate(http_requests_total{service="{{service}}",color="{{color}}",code!~"5.."}[5s])) / sum(rate(http_requests_total{service="{{service}}",color="{{color}}"}[5s]))',
          successCondition: '>= 0.95',
          interval: '1s',
          count: 3,
        },
      },
    }),
  );
  return file;
}

async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}

beforeAll(async () => {
  const state = await stackUp({ dir, components: ['temporal', 'kubernetes', 'simulator', 'prometheus'] });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci' });
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubernetes?.kubeconfig ?? '');
  batch = kc.makeApiClient(BatchV1Api);
  core = kc.makeApiClient(CoreV1Api);
  worker = await startWorkerProcess(env, join(dir, 'worker.log'));
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await stackDown(dir);
});

test('a canary that fails its analysis rolls back, then runs the expand undo Job; the contract Job never runs', async () => {
  // given a canary image that fails 30% of its requests
  await fetch(`${env.TIDEGATE_SIM_URL}/images/${encodeURIComponent('registry.local/checkout:1.7.0')}`, { method: 'PUT', body: JSON.stringify({ errorRate: 0.3 }) });
  expect((await tidegate(env, 'start', '-f', spec('1.7.0'))).code).toBe(0);

  // the expand Job runs before any traffic moves; it succeeds
  const expand = await finishHookJob({ batch, core }, 'checkout@1.7.0', 'expand-schema', 'run', 0);
  expect(expand.spec?.template.spec?.containers[0]).toMatchObject({ image: 'registry.local/checkout-migrations:1.7.0', args: ['up', '--phase', 'expand'] });
  const running = await eventually('the expand hook to be done', () => status('checkout@1.7.0'), (s) => s.services[0]?.hooks?.[0]?.state === 'done', 60_000);
  expect(running.services[0]?.hooks?.map((h) => `${h.name} ${h.state}`)).toEqual(['expand-schema done', 'contract-schema pending']);

  // the canary fails its analysis; after traffic and workloads are back, the undo Job runs
  const undo = await finishHookJob({ batch, core }, 'checkout@1.7.0', 'expand-schema', 'undo', 0);
  expect(undo.spec?.template.spec?.containers[0]?.args).toEqual(['down', '--phase', 'expand']);
  const done = await tidegate(env, 'status', 'checkout@1.7.0', '--wait', '--json');
  expect(done.code).toBe(10);
  const s = (JSON.parse(done.stdout) as { status: ReleaseStatus }).status;
  const rollback = s.compensations.map((c) => `${c.label.replace(/ \(.*\)$/, '')}: ${c.status}`);
  // traffic first, then the workloads, then the migration's undo (no pod of 1.7.0 runs by then)
  expect(rollback).toEqual(['return checkout traffic to blue: done', 'restore checkout-blue/-green to their snapshot: done', 'undo hook expand-schema of checkout: done']);
  expect(s.services[0]?.hooks?.map((h) => `${h.name} ${h.state}`)).toEqual(['expand-schema done', 'contract-schema pending']);
  const jobs = await batch.listNamespacedJob({ namespace: 'prod', labelSelector: 'tidegate.io/hook=contract-schema' });
  expect(jobs.items).toEqual([]);
}, 300_000);

test('on the same cluster, an expand Job that fails stops the next release with its log tail in status; its undo runs', async () => {
  expect((await tidegate(env, 'start', '-f', spec('1.8.0'))).code).toBe(0);
  await finishHookJob({ batch, core }, 'checkout@1.8.0', 'expand-schema', 'run', 3, 'applying 0043_orders_note.sql\nERROR:  column "note" of relation "orders" already exists\n');
  await finishHookJob({ batch, core }, 'checkout@1.8.0', 'expand-schema', 'undo', 0);
  const done = await tidegate(env, 'status', 'checkout@1.8.0', '--wait');
  expect(done.code).toBe(1);
  expect(done.stdout).toMatch(/✗ hook expand-schema \(beforeSwitch\) FAILED: Job prod\/checkout-expand-schema-[0-9a-f]{8} failed \(BackoffLimitExceeded\): pod \S+ exited 3 \(Error\)/);
  expect(done.stdout).toContain('        log tail:\n          applying 0043_orders_note.sql\n          ERROR:  column "note" of relation "orders" already exists');
  const s = await status('checkout@1.8.0');
  expect(s.reason).toMatch(/^hook expand-schema \(before the switch of checkout\) failed: /);
  // no traffic moved: the canary never started
  expect(s.services[0]?.stages.canary).toBe('pending');
  expect(s.compensations.map((c) => `${c.label.replace(/ \(.*\)$/, '')}: ${c.status}`)).toEqual(['undo hook expand-schema of checkout: done']);
}, 300_000);

test('an abort while the expand Job runs deletes that Job, then runs its undo; the release ends aborted', async () => {
  expect((await tidegate(env, 'start', '-f', spec('1.9.0'))).code).toBe(0);
  const running = await eventually('the expand hook to run', () => status('checkout@1.9.0'), (s) => s.services[0]?.hooks?.[0]?.state === 'running', 90_000);
  const name = running.services[0]?.hooks?.[0]?.target.replace(/^Job prod\//, '') ?? '';
  await eventually('its pod', () => core.listNamespacedPod({ namespace: 'prod', labelSelector: `job-name=${name}` }), (l) => l.items.length > 0, 60_000);
  expect((await tidegate(env, 'abort', 'checkout@1.9.0', '--reason', 'wrong migration', '--as', 'erin')).code).toBe(0);
  // the running Job is deleted before the undo starts
  await eventually('the expand Job to be deleted', () => batch.readNamespacedJob({ namespace: 'prod', name }).then((j) => j.metadata?.deletionTimestamp !== undefined, () => true), (gone) => gone, 60_000);
  await finishHookJob({ batch, core }, 'checkout@1.9.0', 'expand-schema', 'undo', 0);
  const done = await tidegate(env, 'status', 'checkout@1.9.0', '--wait', '--json');
  expect(done.code).toBe(12);
  const s = (JSON.parse(done.stdout) as { status: ReleaseStatus }).status;
  expect(s.reason).toBe('aborted by erin: wrong migration');
  expect(s.compensations.map((c) => `${c.label.replace(/ \(.*\)$/, '')}: ${c.status}`)).toEqual(['undo hook expand-schema of checkout: done']);
}, 300_000);
