// The guardian process (started by guardian.ts, one per owner process): reads what its owner runs
// from stdin, one JSON message a line, and when the owner is gone — stdin reaches end of file, or
// the owner's pid no longer runs — or a process the owner is tied to exits, stops all of it:
// SIGTERM, SIGKILL after a grace period, until none remains; then it exits too.
// Usage: guardian-main <owner pid> <owner start time>
import { createInterface } from 'node:readline';
import type { GuardEntry, GuardianMessage } from './guardian.js';
import { groupMembers, procStat, processesMentioning } from './procfs.js';

const GRACE_MS = 3_000;
const GIVE_UP_MS = 30_000;

const owner = Number(process.argv[2]);
const ownerStart = Number(process.argv[3]);
const entries = new Map<string, GuardEntry>();
const ties = new Map<number, number>();
let reaping = false;

const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} [guardian ${process.pid} of ${owner}] ${line}\n`);

/** The process that had this start time still runs (not a zombie, not a reused pid). */
function same(pid: number, startTime: number | undefined): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && (startTime === undefined || stat.startTime === startTime);
}

function victims(): Set<number> {
  const pids = new Set<number>();
  for (const { target, startTime } of entries.values()) {
    if ('group' in target) {
      // A pid that is some group's id is never handed out again, so a leader with another start
      // time means the whole old group is gone.
      const leader = procStat(target.group);
      if (leader && startTime !== undefined && leader.startTime !== startTime) continue;
      for (const pid of groupMembers(target.group)) pids.add(pid);
    } else if ('pid' in target) {
      if (same(target.pid, startTime)) pids.add(target.pid);
    } else {
      for (const pid of processesMentioning(target.mentioning)) pids.add(pid);
    }
  }
  pids.delete(process.pid);
  return pids;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone meanwhile */
  }
}

async function reap(why: string, killOwner: boolean): Promise<void> {
  if (reaping) return;
  reaping = true;
  log(`${why}; stopping ${[...entries.values()].map((e) => e.label).join(', ') || 'nothing'}`);
  if (killOwner && same(owner, ownerStart)) kill(owner, 'SIGKILL');
  const started = Date.now();
  const termed = new Set<number>();
  for (;;) {
    const pids = victims();
    if (pids.size === 0) break;
    const hard = Date.now() - started > GRACE_MS;
    for (const pid of pids) {
      if (hard) kill(pid, 'SIGKILL');
      else if (!termed.has(pid)) {
        termed.add(pid);
        kill(pid, 'SIGTERM');
      }
    }
    if (Date.now() - started > GIVE_UP_MS) {
      log(`could not stop ${[...pids].join(', ')}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`stopped everything in ${Date.now() - started} ms`);
  process.exit(0);
}

function handle(message: GuardianMessage): void {
  switch (message.op) {
    case 'add':
      entries.set(message.entry.key, message.entry);
      break;
    case 'remove':
      entries.delete(message.key);
      break;
    case 'tie':
      ties.set(message.pid, message.startTime);
      break;
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim() || reaping) return;
  try {
    handle(JSON.parse(line) as GuardianMessage);
  } catch (err) {
    log(`ignored a message it cannot read (${(err as Error).message}): ${line.slice(0, 200)}`);
  }
});
// End of file: every copy of the pipe's write end is closed, i.e. the owner exited or was killed.
lines.on('close', () => void reap(`owner ${owner} is gone`, false));

setInterval(() => {
  if (!same(owner, ownerStart)) void reap(`owner ${owner} no longer runs`, false);
  for (const [pid, startTime] of ties) {
    if (!same(pid, startTime)) void reap(`${pid}, which owner ${owner} is tied to, exited`, true);
  }
}, 500);
