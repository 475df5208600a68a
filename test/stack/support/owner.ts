// A process that starts real servers the way tests and `npm run dev` do, prints what it started as
// one JSON line, and then waits to be killed: test/stack/orphans.test.ts SIGKILLs it and checks that
// none of its servers outlives it. Usage: tsx owner.ts <dir> <servers|stack|tied>
//   servers  a Temporal dev server, Prometheus and the time-skipping test server (plain children)
//   stack    the local stack's Temporal and Kubernetes (detached, guarded as in tests)
//   tied     a dev server, tied to the process TIDEGATE_TIE_PID (as a jest worker is to jest)
import { join } from 'node:path';
import { guardianPid, tieTo } from '../../../devkit/stack/guardian.js';
import { startPrometheus } from '../../../devkit/stack/prometheus.js';
import { allPids, commandLine, procStat } from '../../../devkit/stack/procfs.js';
import { readState, stackUp } from '../../../devkit/stack/stack.js';
import { startDevServer } from '../../../devkit/stack/temporal.js';
import { createTimeSkippingEnv } from '../../../devkit/testing/servers.js';

export interface Started {
  /** Server pids (group leaders), each with its start time. */
  servers: { name: string; pid: number; startTime: number }[];
  guardian: number;
}

const [dir = '', mode = 'servers'] = process.argv.slice(2);
const servers: Started['servers'] = [];
const add = (name: string, pid: number): void => void servers.push({ name, pid, startTime: procStat(pid)?.startTime ?? 0 });

if (mode === 'tied') tieTo(Number(process.env.TIDEGATE_TIE_PID));
if (mode === 'servers' || mode === 'tied') {
  const temporal = await startDevServer({ dbFile: join(dir, 'temporal.db'), logFile: join(dir, 'temporal.log'), headless: true });
  add('temporal', temporal.process.pid);
}
if (mode === 'servers') {
  const prometheus = await startPrometheus({ dir: join(dir, 'prometheus'), jobs: [] });
  add('prometheus', prometheus.process.pid);
  await createTimeSkippingEnv();
  for (const pid of allPids()) {
    if (procStat(pid)?.ppid === process.pid && (commandLine(pid) ?? '').includes('TestServer')) add('test server', pid);
  }
}
if (mode === 'stack') {
  await stackUp({ dir: join(dir, 'stack'), components: ['temporal', 'kubernetes'], guard: true });
  const state = readState(join(dir, 'stack'));
  if (state.temporal) add('stack temporal', state.temporal.pid);
}
const started: Started = { servers, guardian: guardianPid() ?? 0 };
process.stdout.write(`${JSON.stringify(started)}\n`);
setInterval(() => undefined, 60_000);
