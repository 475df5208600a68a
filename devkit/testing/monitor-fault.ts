// The monitor-window fault of the stack, for the e2e test and the benchmark alike: a release of the
// sample service switches to its new version, the new image starts failing a share of its requests
// `faultAfterMs` after the switch, and the worker is SIGKILLed `killAfterMs` after the fault and
// started again at once. What the user sees is returned: when each thing happened, and the status.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseStatus } from '../../src/core/status.js';
import type { ManagedProcess } from '../stack/process.js';
import { eventually, productionState, startWorkerProcess, tidegate, type ClusterView } from './e2e.js';

export interface MonitorFaultOptions {
  dir: string;
  env: NodeJS.ProcessEnv;
  view: ClusterView;
  /** The worker running now; it is SIGKILLed (the returned `worker` replaces it). */
  worker: ManagedProcess;
  version: string;
  /** The monitor analysis's interval and rate window, ms. */
  intervalMs: number;
  failureLimit: number;
  errorRate: number;
  faultAfterMs: number;
  /** undefined: the worker is left alone. */
  killAfterMs?: number;
  simUrl: string;
}

export interface MonitorFaultRun {
  status: ReleaseStatus;
  code: number;
  /** The color that served before the release (traffic must return to it). */
  stable: string;
  switchedAt: number;
  faultAt: number;
  killedAt?: number;
  /** When the new worker said it polls. */
  workerBackAt?: number;
  /** When the cluster's Service selected the stable color again (polled every 100 ms). */
  trafficBackAt: number;
  worker: ManagedProcess;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function monitorFault(o: MonitorFaultOptions): Promise<MonitorFaultRun> {
  const seconds = `${o.intervalMs / 1000}s`;
  const file = join(o.dir, `release-${o.version}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      service: 'checkout',
      version: o.version,
      image: `registry.local/checkout:${o.version}`,
      production: {
        namespace: 'prod',
        blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', scaleDownDelay: '1s' },
        canary: { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 50 }, { pause: { duration: '3s' } }] },
        monitor: { duration: '10m', analyses: ['success-rate'] },
      },
      analyses: {
        'success-rate': {
          query: `sum(rate(http_requests_total{service="{{service}}",color="{{color}}",code!~"5.."}[${seconds}])) / sum(rate(http_requests_total{service="{{service}}",color="{{color}}"}[${seconds}]))`,
          successCondition: '>= 0.95',
          interval: seconds,
          count: 3,
          failureLimit: o.failureLimit,
        },
      },
    }),
  );
  const stable = (await productionState(o.view)).live ?? 'blue';
  const started = await tidegate(o.env, 'start', '-f', file);
  if (started.code !== 0) throw new Error(`start exited ${started.code}: ${started.stderr}`);
  const id = `checkout@${o.version}`;
  await eventually('the switch', () => productionState(o.view), (p) => p.live !== undefined && p.live !== stable, 180_000);
  const switchedAt = Date.now();
  await sleep(switchedAt + o.faultAfterMs - Date.now());
  const faultAt = Date.now();
  const res = await fetch(`${o.simUrl}/images/${encodeURIComponent(`registry.local/checkout:${o.version}`)}`, { method: 'PUT', body: JSON.stringify({ errorRate: o.errorRate }) });
  if (res.status !== 200) throw new Error(`the simulator refused the fault: HTTP ${res.status}`);
  // traffic back is watched from now on, whatever the worker does
  let trafficBackAt = NaN;
  let watched = false;
  const watching = (async () => {
    while (!watched) {
      if ((await productionState(o.view)).live === stable) return (trafficBackAt = Date.now());
      await sleep(100);
    }
    return NaN;
  })();
  let worker = o.worker;
  let killedAt: number | undefined;
  let workerBackAt: number | undefined;
  if (o.killAfterMs !== undefined) {
    await sleep(faultAt + o.killAfterMs - Date.now());
    killedAt = Date.now();
    await worker.kill();
    worker = await startWorkerProcess(o.env, join(o.dir, `worker-after-${o.version}.log`));
    workerBackAt = Date.now();
  }
  const done = await tidegate(o.env, 'status', id, '--wait', '--json');
  await Promise.race([watching, sleep(10_000)]);
  watched = true;
  const status = (JSON.parse(done.stdout) as { status: ReleaseStatus }).status;
  return { status, code: done.code, stable, switchedAt, faultAt, ...(killedAt !== undefined ? { killedAt } : {}), ...(workerBackAt !== undefined ? { workerBackAt } : {}), trafficBackAt, worker };
}
