// Runs a command under a machine-wide lock (flock(1) on a file in the tool cache), for steps two
// processes must not run at the same moment — kwokctl hands out ports from a counter. The lock is
// held by flock itself, never by the command or the daemons it leaves running (`flock -o` closes
// the descriptor before the command starts), so it is free as soon as the command returns. The
// holder writes who it is next to the lock, so a process that waits too long fails saying whom it
// waited for instead of timing out silently. The command runs in a process group of its own that a
// guardian stops if this process dies meanwhile.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { guard } from './guardian.js';
import { commandLine, running } from './procfs.js';

export interface ExclusiveOptions {
  lockFile: string;
  /** The lock's name in messages ("kwokctl-create"). */
  name: string;
  /** What the holder is doing, for the messages of those who wait. */
  purpose: string;
  /** Give up waiting for the lock after this long. */
  waitMs: number;
  /** Stop the command (its whole process group) after this long, once it holds the lock. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Progress while waiting (every ~15 s). */
  log?: (line: string) => void;
}

export interface Holder {
  pid: number;
  command: string;
  purpose: string;
  /** When it took the lock (the holder file's modification time). */
  since?: Date;
}

export class LockTimeoutError extends Error {}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** flock's exit code when the lock was not free in time (-E). */
const CONFLICT = 75;
const holderFile = (lockFile: string): string => `${lockFile}.holder`;

export function readHolder(lockFile: string): Holder | undefined {
  try {
    const file = holderFile(lockFile);
    return { ...(JSON.parse(readFileSync(file, 'utf8')) as Holder), since: statSync(file).mtime };
  } catch {
    return undefined;
  }
}

export function describeHolder(holder: Holder | undefined): string {
  if (!holder) return 'a process that did not say who it is';
  const gone = running(holder.pid) ? '' : ', no longer running';
  const since = holder.since ? `, holding it for ${Math.round((Date.now() - holder.since.getTime()) / 1000)}s` : '';
  return `pid ${holder.pid} (${holder.command.slice(0, 160)}: ${holder.purpose}${since}${gone})`;
}

/** Runs `command args` holding the lock; resolves with its output, rejects with CommandError or LockTimeoutError. */
export async function runExclusive(command: string, args: string[], options: ExclusiveOptions): Promise<{ stdout: string; stderr: string }> {
  const started = Date.now();
  let reported = started;
  const holder: Holder = { pid: process.pid, command: commandLine(process.pid) ?? process.argv.join(' '), purpose: options.purpose };
  // Once flock holds the lock, the shell records the holder and becomes the command.
  const record = 'printf "%s\\n" "$TIDEGATE_LOCK_HOLDER" > "$0"; exec "$@"';
  for (;;) {
    const waited = Date.now() - started;
    const waitSeconds = Math.max(1, Math.min(5, Math.ceil((options.waitMs - waited) / 1000)));
    const result = await runInGroup(
      'flock',
      ['-o', '-w', String(waitSeconds), '-E', String(CONFLICT), options.lockFile, 'sh', '-c', record, holderFile(options.lockFile), command, ...args],
      { env: { ...(options.env ?? process.env), TIDEGATE_LOCK_HOLDER: JSON.stringify(holder) }, timeoutMs: options.timeoutMs + waitSeconds * 1000, label: `${options.name}: ${options.purpose}` },
    );
    if (result.code === 0) return result;
    if (result.code !== CONFLICT) {
      throw new CommandError(`${command} ${args.slice(0, 3).join(' ')} exited with ${result.code ?? result.signal}: ${lastLines(result.stderr || result.stdout)}`, result.code, result.stdout, result.stderr);
    }
    const now = Date.now();
    const seconds = Math.round((now - started) / 1000);
    const line = `waiting for the ${options.name} lock held by ${describeHolder(readHolder(options.lockFile))} for ${seconds}s`;
    if (now - started >= options.waitMs) throw new LockTimeoutError(`${line}; gave up (lock file ${options.lockFile})`);
    if (now - reported >= 15_000) {
      reported = now;
      options.log?.(line);
    }
  }
}

const lastLines = (text: string, n = 5): string => text.trimEnd().split('\n').slice(-n).join('\n');

interface GroupResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in a process group of its own (guarded while it runs), killing the group on timeout. */
function runInGroup(command: string, args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs: number; label: string }): Promise<GroupResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid === undefined) {
      child.once('error', (err) => reject(new Error(`cannot run ${command}: ${err.message}`)));
      return;
    }
    const pgid = child.pid;
    const release = guard(options.label, { group: pgid });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-pgid, signal);
      } catch {
        /* gone */
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      err.push(Buffer.from(`\n(timed out after ${options.timeoutMs / 1000}s)\n`));
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), 5_000);
    }, options.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      release();
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      release();
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
