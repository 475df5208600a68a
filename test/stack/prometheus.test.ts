// Given Debian's Prometheus started with a generated config (1 s scrapes, free port), it answers an
// instant query with the value it scraped from a separate process the test started.
import { join } from 'node:path';
import { freePort } from '../../devkit/stack/ports.js';
import { httpOk, ManagedProcess } from '../../devkit/stack/process.js';
import { startPrometheus, type PrometheusServer } from '../../devkit/stack/prometheus.js';
import { tempDir } from '../../devkit/testing/servers.js';

interface VectorResponse {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

let emitter: ManagedProcess;
let prometheus: PrometheusServer;

// A separate Node process exposing a counter and a gauge in the Prometheus text format.
const emitterScript = `
const http = require('node:http');
let served = 0;
http.createServer((req, res) => {
  served++;
  res.setHeader('content-type', 'text/plain; version=0.0.4');
  res.end([
    '# TYPE probe_scrapes_total counter',
    'probe_scrapes_total{service="checkout"} ' + served,
    '# TYPE probe_error_ratio gauge',
    'probe_error_ratio{service="checkout",color="green"} 0.25',
    '',
  ].join('\\n'));
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

async function query(promql: string): Promise<VectorResponse> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  return (await res.json()) as VectorResponse;
}

beforeAll(async () => {
  const dir = tempDir('prometheus');
  const port = await freePort();
  emitter = await ManagedProcess.start({
    name: 'metrics emitter',
    command: process.execPath,
    args: ['-e', emitterScript, String(port)],
    logFile: join(dir, 'emitter.log'),
    ready: () => httpOk(`http://127.0.0.1:${port}/metrics`),
  });
  prometheus = await startPrometheus({ dir, jobs: [{ job: 'probe', targets: [`127.0.0.1:${port}`] }] });
});

afterAll(async () => {
  await prometheus?.stop();
  await emitter?.stop();
});

test('an instant query returns the value scraped from the emitter process', async () => {
  let body: VectorResponse | undefined;
  for (let i = 0; i < 100; i++) {
    body = await query('probe_error_ratio{service="checkout"}');
    if (body.data.result.length > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(body?.status).toBe('success');
  expect(body?.data.result).toHaveLength(1);
  expect(body?.data.result[0]?.metric).toMatchObject({ job: 'probe', service: 'checkout', color: 'green' });
  expect(Number(body?.data.result[0]?.value[1])).toBe(0.25);
});

test('scrapes repeat every second: the counter keeps rising', async () => {
  const read = async (): Promise<number> =>
    Number((await query('probe_scrapes_total{service="checkout"}')).data.result[0]?.value[1] ?? NaN);
  const first = await read();
  await new Promise((r) => setTimeout(r, 2_500));
  expect(await read()).toBeGreaterThanOrEqual(first + 2);
});

test('a query for a metric nobody exports is an empty vector, not an error', async () => {
  const body = await query('probe_missing_metric');
  expect(body.status).toBe('success');
  expect(body.data.result).toEqual([]);
});
