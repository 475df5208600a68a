// Given tracing configured as a user configures it (OTEL_EXPORTER_OTLP_ENDPOINT naming a local OTLP/HTTP
// receiver started here), a client from connectClient and a tidegate worker (createWorker, the
// in-memory adapters) on the Temporal dev server: one release's spans arrive at the receiver as one
// tree — the client's StartWorkflow span is the parent of the workflow's RunWorkflow span, which is
// the parent of a StartActivity span per activity, each the parent of the worker's RunActivity span
// — and a credential in an activity's error message reaches the receiver masked.
import { createServer, type Server } from 'node:http';
import { FakeWorld } from '../../devkit/testing/harness.js';
import { eventually } from '../../devkit/testing/e2e.js';
import { freePort } from '../../devkit/stack/ports.js';
import type { Releases } from '../../src/client/releases.js';
import { secretsOf, tracesEndpoint, tracingFromEnv, type Tracing } from '../../src/temporal/tracing.js';
import { fakeAdapters, quickSpec, startWorkerOnDevServer, type WorkerOnDevServer } from './support.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
}

const SECRET = 'ghp_telemetryTestSecret0123456789';
const TASK_QUEUE = 'telemetry-traces';
const bodies: string[] = [];
let receiver: Server;
let tracing: Tracing | undefined;
let stack: WorkerOnDevServer | undefined;
let releases: Releases;
let failedOnce = false;

/** The spans of every OTLP/JSON export the receiver got, with their resource's service.name. */
function received(): OtlpSpan[] {
  type AnyValue = { stringValue?: string };
  type Body = { resourceSpans?: { resource?: { attributes?: { key: string; value: AnyValue }[] }; scopeSpans?: { spans?: Omit<OtlpSpan, 'service'>[] }[] }[] };
  return bodies.flatMap((b) =>
    ((JSON.parse(b) as Body).resourceSpans ?? []).flatMap((rs) => {
      const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      return (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s) => ({ ...s, service })));
    }),
  );
}

beforeAll(async () => {
  // a local OTLP/HTTP receiver: what a collector gets
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
  const env: NodeJS.ProcessEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, GITHUB_TOKEN: SECRET };
  tracing = tracingFromEnv('tidegate-worker', env);

  const world = new FakeWorld();
  const adapters = fakeAdapters(world);
  const kubernetes = adapters.kubernetes;
  if (!kubernetes) throw new Error('no kubernetes adapter');
  // the first deploy fails with a message that holds the worker's credential (the retry succeeds)
  adapters.kubernetes = {
    ...kubernetes,
    deployImage: async (input) => {
      if (!failedOnce) {
        failedOnce = true;
        throw new Error(`registry refused the pull with token ${SECRET}`);
      }
      return kubernetes.deployImage(input);
    },
  };
  stack = await startWorkerOnDevServer(TASK_QUEUE, adapters, { ...(tracing ? { tracing } : {}), clientEnv: env });
  ({ releases } = stack);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

test('tracing is off unless the OTLP endpoint variables name a collector', () => {
  expect(tracesEndpoint({})).toBeUndefined();
  expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/traces');
  expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/traces' })).toBe('http://other:4318/traces');
  expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  expect(secretsOf({ GITHUB_TOKEN: SECRET, TIDEGATE_PAYLOAD_KEYS: 'k1:c2VjcmV0LWtleS1tYXRlcmlhbA==', KUBECONFIG: '/home/me/.kube/config' })).toEqual(
    expect.arrayContaining([SECRET, 'c2VjcmV0LWtleS1tYXRlcmlhbA==']),
  );
});

test('one release is one span tree: StartWorkflow → RunWorkflow → StartActivity → RunActivity, with no secret in it', async () => {
  expect(tracing).toBeDefined();
  const { releaseId } = await releases.start(quickSpec('traced'), { initiator: 'carol' });
  for (const by of ['alice', 'bob']) {
    await eventually(`${by} to approve`, () => releases.approve(releaseId, by).then(() => true, () => false), (ok) => ok, 90_000);
  }
  expect((await releases.result(releaseId)).outcome).toBe('released');
  expect(failedOnce).toBe(true);
  await tracing?.flush();

  const spans = await eventually('the release span to arrive', async () => received(), (s) => s.some((x) => x.name === 'RunWorkflow:release'), 30_000);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const run = spans.filter((s) => s.name === 'RunWorkflow:release');
  expect(run).toHaveLength(1);
  const runWorkflow = run[0] as OtlpSpan;
  // the client's start is the root of the trace, the workflow's run its child
  const start = byId.get(runWorkflow.parentSpanId ?? '');
  expect(start).toMatchObject({ name: 'StartWorkflow:release', traceId: runWorkflow.traceId, service: 'tidegate-worker' });
  expect(start?.parentSpanId || undefined).toBeUndefined();
  expect(runWorkflow.service).toBe('tidegate-worker');

  // the workflow schedules its activities under its run; each runs under its schedule
  const children = spans.filter((s) => s.parentSpanId === runWorkflow.spanId).map((s) => s.name);
  for (const activity of ['snapshotProduction', 'deployImage', 'setCanaryWeight', 'measure', 'switchActive', 'scaleDeployment']) {
    expect(children).toContain(`StartActivity:${activity}`);
    const executions = spans.filter((s) => s.name === `RunActivity:${activity}`);
    expect(executions.length).toBeGreaterThan(0);
    for (const exec of executions) {
      expect(byId.get(exec.parentSpanId ?? '')).toMatchObject({ name: `StartActivity:${activity}`, traceId: runWorkflow.traceId });
    }
  }
  // the failed deploy and its retry: two executions under one schedule
  const deploys = spans.filter((s) => s.name === 'RunActivity:deployImage');
  expect(new Set(deploys.map((d) => d.parentSpanId)).size).toBeLessThan(deploys.length);
  // the approvals: the client's update under its own trace start, handled by the workflow
  expect(spans.filter((s) => s.name === 'HandleUpdate:approve').length).toBeGreaterThanOrEqual(2);
  // every span of the release, workflow and activities, is in the one trace
  expect(spans.filter((s) => /^(RunActivity|StartActivity):/.test(s.name)).every((s) => s.traceId === runWorkflow.traceId)).toBe(true);

  // the credential in the failed deploy's message reached the receiver masked, never in clear
  const raw = bodies.join('\n');
  expect(raw).not.toContain(SECRET);
  expect(raw).toContain('registry refused the pull with token [redacted]');
}, 240_000);
