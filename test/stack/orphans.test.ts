// Given a process that started real servers the way a test file, `npm run dev` or the demo does,
// when it is SIGKILLed — no afterAll, no `down` — then none of its servers outlives it: its
// guardian stops them within seconds. The same when the process it is tied to dies (a jest worker
// is tied to jest). And a running cluster's daemons never hold the machine-wide kwokctl-create lock.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { clusterProcessesMarker } from '../../devkit/stack/kube.js';
import { procStat, processesHolding, processesMentioning } from '../../devkit/stack/procfs.js';
import { cacheDir, repoRoot } from '../../devkit/toolchain/tools.js';
import { eventually, processesUsing } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';
import type { Started } from './support/owner.js';

const owner = join(repoRoot, 'test', 'stack', 'support', 'owner.ts');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts owner.ts in `mode` and resolves with what it started, once it printed it. */
async function startOwner(dir: string, mode: 'servers' | 'stack' | 'tied', env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; started: Started }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', 'tsx', owner, dir, mode], { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => void (stderr += b.toString()));
  const started = await new Promise<Started>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (stdout.includes('\n')) resolve(JSON.parse(stdout.split('\n')[0] ?? '') as Started);
    });
    child.once('exit', (code) => reject(new Error(`owner.ts ${mode} exited with ${code} before starting its servers:\n${stderr}`)));
  });
  return { child, started };
}

const stillRunning = (started: Started): string[] => [
  ...started.servers.filter((s) => procStat(s.pid)?.startTime === s.startTime && procStat(s.pid)?.state !== 'Z').map((s) => `${s.name} (${s.pid})`),
  ...(procStat(started.guardian) && procStat(started.guardian)?.state !== 'Z' ? [`guardian (${started.guardian})`] : []),
];

async function expectAllGone(dir: string, started: Started): Promise<number> {
  const killedAt = Date.now();
  await eventually('every server of the killed process to stop', async () => ({ processes: processesUsing(dir), servers: stillRunning(started) }), (s) => s.processes.length === 0 && s.servers.length === 0, 30_000);
  return Date.now() - killedAt;
}

test('SIGKILL of a process running a dev server, Prometheus and the time-skipping test server leaves none of them running', async () => {
  const dir = tempDir('orphans');
  const { child, started } = await startOwner(dir, 'servers');
  expect(started.servers.map((s) => s.name)).toEqual(['temporal', 'prometheus', 'test server']);
  expect(stillRunning(started)).toHaveLength(4); // and the guardian
  child.kill('SIGKILL');
  const ms = await expectAllGone(dir, started);
  console.log(`servers of the killed process gone ${ms} ms after the SIGKILL`);
}, 120_000);

test('SIGKILL of a process running the local stack (Kubernetes control plane, Temporal) leaves none of it running; the daemons never held the kwokctl-create lock', async () => {
  const dir = tempDir('orphans');
  const { child, started } = await startOwner(dir, 'stack');
  const daemons = processesMentioning(clusterProcessesMarker(join(dir, 'stack', 'kubernetes'), 'tidegate'));
  expect(daemons.length).toBeGreaterThanOrEqual(4); // etcd, kube-apiserver, controller-manager, scheduler, kwok
  const holders = processesHolding(join(cacheDir(), 'kwokctl-create.lock'));
  expect(daemons.filter((pid) => holders.includes(pid))).toEqual([]);
  child.kill('SIGKILL');
  const ms = await expectAllGone(dir, started);
  expect(processesMentioning(clusterProcessesMarker(join(dir, 'stack', 'kubernetes'), 'tidegate'))).toEqual([]);
  console.log(`cluster daemons and Temporal of the killed process gone ${ms} ms after the SIGKILL`);
}, 240_000);

test('when the process a test process is tied to dies (jest, for a worker), the test process and its servers are stopped', async () => {
  const dir = tempDir('orphans');
  const jest = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.push(jest);
  const { child, started } = await startOwner(dir, 'tied', { TIDEGATE_TIE_PID: String(jest.pid) });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  jest.kill('SIGKILL');
  await expectAllGone(dir, started);
  expect(await exited).toBe('SIGKILL');
}, 120_000);
