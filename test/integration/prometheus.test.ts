// The metrics activity against a real Prometheus scraping a process of the test's: values, no data,
// NaN, several series, range queries, a rejected query, an unreachable or hanging backend — each a
// distinct fact, because the judges treat "bad", "no data" and "backend down" differently.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createPrometheusActivities } from '../../src/activities/prometheus/index.js';
import type { MetricsActivities, TimedObservation, WatchRequest } from '../../src/activities/types.js';
import { EMPTY_TALLY } from '../../src/core/analysis.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { freePort } from '../../devkit/stack/ports.js';
import { ManagedProcess } from '../../devkit/stack/process.js';
import { startPrometheus, type PrometheusServer } from '../../devkit/stack/prometheus.js';
import { toNumber } from '../../src/core/values.js';
import { throughPayloads } from '../../devkit/testing/payloads.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('prom-adapter');
let exporter: ManagedProcess;
let prometheus: PrometheusServer;
let prom: MetricsActivities;

// Two colors' error ratios, a gauge that is 0/0 on purpose, and a counter that grows 10/s.
const exporterScript = `
const started = Date.now();
require('node:http').createServer((req, res) => {
  res.setHeader('content-type', 'text/plain; version=0.0.4');
  res.end([
    'error_ratio{service="checkout",color="blue"} 0.001',
    'error_ratio{service="checkout",color="green"} 0.25',
    'requests_total{service="checkout"} ' + Math.floor((Date.now() - started) / 100),
    'zero_total 0',
    '',
  ].join('\\n'));
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

beforeAll(async () => {
  const port = await freePort();
  exporter = await ManagedProcess.start({
    name: 'exporter',
    command: process.execPath,
    args: ['-e', exporterScript, String(port)],
    logFile: join(dir, 'exporter.log'),
    ready: async () => (await fetch(`http://127.0.0.1:${port}/`)).ok,
  });
  prometheus = await startPrometheus({ dir: join(dir, 'prom'), jobs: [{ job: 'exporter', targets: [`127.0.0.1:${port}`] }] });
  // every result is checked to cross Temporal's payload converter unchanged, as the workflow sees it
  prom = throughPayloads(createPrometheusActivities({ url: prometheus.url }));
  // wait for a few scrapes
  for (let i = 0; i < 100; i++) {
    const [first] = await prom.measure({ query: 'count_over_time(requests_total[1m])' });
    if (first?.observation.kind === 'value' && toNumber(first.observation.value) >= 4) break;
    await new Promise((r) => setTimeout(r, 250));
  }
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.stop();
});

test.each<[string, string, unknown]>([
  ['a value', 'error_ratio{color="green"}', { kind: 'value', value: 0.25 }],
  ['a scalar', 'scalar(error_ratio{color="blue"})', { kind: 'value', value: 0.001 }],
  ['no data', 'error_ratio{color="purple"}', { kind: 'empty', message: 'no data: the query matched no series' }],
  ['NaN is spelled out, as JSON has no NaN (the judge makes it Inconclusive)', 'rate(zero_total[1m]) / rate(zero_total[1m])', { kind: 'value', value: 'NaN' }],
  ['+Inf is spelled out', 'sum(requests_total) / 0', { kind: 'value', value: '+Inf' }],
  ['-Inf is spelled out', '-sum(requests_total) / 0', { kind: 'value', value: '-Inf' }],
  ['several series are an error naming the fix', 'error_ratio', { kind: 'error', message: 'the query returned 2 series; an analysis query must return one (aggregate it, e.g. with sum(...))' }],
])('instant query: %s', async (_, query, expected) => {
  const observations = await prom.measure({ query });
  expect(observations).toHaveLength(1);
  expect(observations[0]?.observation).toEqual(expected);
  expect(Math.abs(Date.parse(observations[0]?.at ?? '') - Date.now())).toBeLessThan(5_000);
});

test('a range query gives one observation per step', async () => {
  const end = Date.now();
  const observations = await prom.measure({ query: 'sum(requests_total)', range: { start: new Date(end - 4_000).toISOString(), end: new Date(end).toISOString(), stepMs: 1_000 } });
  expect(observations.length).toBeGreaterThanOrEqual(4);
  expect(observations.every((o) => o.observation.kind === 'value')).toBe(true);
  const values = observations.map((o) => (o.observation.kind === 'value' ? toNumber(o.observation.value) : NaN));
  expect([...values].sort((a, b) => a - b)).toEqual(values); // a growing counter
  const times = observations.map((o) => Date.parse(o.at));
  expect(times[1]! - times[0]!).toBe(1_000);
});

test('a range query over a window without data is one "no data" observation', async () => {
  const end = Date.now();
  const observations = await prom.measure({ query: 'error_ratio{color="purple"}', range: { start: new Date(end - 5_000).toISOString(), end: new Date(end).toISOString(), stepMs: 1_000 } });
  expect(observations).toEqual([{ at: new Date(end).toISOString(), observation: { kind: 'empty', message: 'no data in the window: the query matched no series' } }]);
});

describe('watching a monitor batch: a measurement at each scheduled time, until the judge decides or the batch ends', () => {
  const judge = (failureLimit: number): WatchRequest['judge'] => ({
    conditions: { successCondition: { op: '<', value: 0.1, text: '< 0.1' } },
    limits: { count: 100, failureLimit, inconclusiveLimit: 0, consecutiveErrorLimit: 4 },
    tally: EMPTY_TALLY,
  });
  const iso = (ms: number): string => new Date(ms).toISOString();
  const valueOf = (o: TimedObservation): unknown => (o.observation.kind === 'value' ? o.observation.value : o.observation.kind);

  test('a healthy color is measured at every scheduled time to the end of the batch', async () => {
    const first = Math.ceil(Date.now() / 1000) * 1000 + 1_000;
    const observations = await prom.watch({ query: 'error_ratio{color="blue"}', firstAt: iso(first), intervalMs: 1_000, until: iso(first + 3_000), judge: judge(1) });
    expect(observations.map((o) => [o.at, valueOf(o)])).toEqual([0, 1, 2, 3].map((k) => [iso(first + k * 1_000), 0.001]));
    expect(Date.now()).toBeGreaterThanOrEqual(first + 3_000); // it watched in real time
  });

  test('a failing color ends the batch at the measurement that decides the run', async () => {
    const first = Math.ceil(Date.now() / 1000) * 1000 + 1_000;
    const observations = await prom.watch({ query: 'error_ratio{color="green"}', firstAt: iso(first), intervalMs: 1_000, until: iso(first + 60_000), judge: judge(1) });
    // failureLimit 1: the second Failed decides; 58 more were due
    expect(observations.map((o) => [o.at, valueOf(o)])).toEqual([[iso(first), 0.25], [iso(first + 1_000), 0.25]]);
    expect(Date.now()).toBeLessThan(first + 10_000);
  });

  test('the tally of the batches before counts: one more failure decides', async () => {
    const first = Math.ceil(Date.now() / 1000) * 1000 + 1_000;
    const observations = await prom.watch({ query: 'error_ratio{color="green"}', firstAt: iso(first), intervalMs: 1_000, until: iso(first + 60_000), judge: { ...judge(1), tally: { failed: 1, inconclusive: 0, consecutiveErrors: 0, counted: 5 } } });
    expect(observations).toHaveLength(1);
  });

  test('a retry resumes after the heartbeated measurements and catches up on the times it missed', async () => {
    // the lost attempt measured at first; the worker was down for the next two scheduled times
    const first = Math.floor(Date.now() / 1000) * 1000 - 2_000;
    const lost: TimedObservation[] = [{ at: iso(first), observation: { kind: 'value', value: 0.001 } }];
    const env = new MockActivityEnvironment({ heartbeatDetails: lost, heartbeatTimeoutMs: 15_000 });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const raw = createPrometheusActivities({ url: prometheus.url });
    const observations: TimedObservation[] = await env.run(raw.watch, { query: 'error_ratio{color="blue"}', firstAt: iso(first), intervalMs: 1_000, until: iso(first + 3_000), judge: judge(1) });
    expect(observations.map((o) => [o.at, valueOf(o)])).toEqual([0, 1, 2, 3].map((k) => [iso(first + k * 1_000), 0.001]));
    // what it had measured is heartbeated after each measurement, the lost attempt's first
    expect(heartbeats.at(-1)).toEqual(observations);
    expect(heartbeats.every((d) => Array.isArray(d) && d[0]?.at === iso(first))).toBe(true);
  });
});

test('a query Prometheus rejects is a non-retryable error with its message', async () => {
  const failure = await prom.measure({ query: 'sum(rate(requests_total[1m]' }).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect((failure as ApplicationFailure).nonRetryable).toBe(true);
  expect((failure as ApplicationFailure).type).toBe('PrometheusBadQuery');
  expect((failure as ApplicationFailure).message).toMatch(/^query Prometheus for sum\(rate\(requests_total\[1m\]: bad_data: .*parse error.* \(HTTP 400: Prometheus rejected the query; fix it in the release spec\)$/);
});

describe('a backend that is down is an Error observation, never a value', () => {
  test('unreachable', async () => {
    const closed = await freePort();
    const down = createPrometheusActivities({ url: `http://127.0.0.1:${closed}` });
    const [o] = await down.measure({ query: 'up' });
    expect(o?.observation).toEqual({ kind: 'error', message: `Prometheus unreachable at http://127.0.0.1:${closed}: ECONNREFUSED` });
  });

  test('hanging past the timeout, with the bearer token sent', async () => {
    const headers: string[] = [];
    const hanging: Server = createServer((req) => void headers.push(req.headers.authorization ?? ''));
    const port = await freePort();
    await new Promise<void>((r) => hanging.listen(port, '127.0.0.1', () => r()));
    try {
      const slow = createPrometheusActivities({ url: `http://127.0.0.1:${port}/`, timeoutMs: 500, bearerToken: 's3cret' });
      const [o] = await slow.measure({ query: 'up' });
      expect(o?.observation).toEqual({ kind: 'error', message: 'Prometheus did not answer within 0.5s' });
      expect(headers).toEqual(['Bearer s3cret']);
    } finally {
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
  });

  test('answering 503', async () => {
    const port = await freePort();
    const failing = createServer((_, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"error","errorType":"unavailable","error":"TSDB not ready"}'));
    await new Promise<void>((r) => failing.listen(port, '127.0.0.1', () => r()));
    try {
      const [o] = await createPrometheusActivities({ url: `http://127.0.0.1:${port}` }).measure({ query: 'up' });
      expect(o?.observation).toEqual({ kind: 'error', message: 'Prometheus failed: HTTP 503 unavailable: TSDB not ready' });
    } finally {
      await new Promise((r) => failing.close(r));
    }
  });
});
