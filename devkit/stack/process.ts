// Starts a server process in its own process group with its output in a log file, waits until it
// answers, and stops it (and every child) for sure — so tests and `stack down` leave nothing behind,
// and a guardian stops it if the process that started it dies first (see guardian.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { guard, guardingEverything } from './guardian.js';
import { commandLine as procCommandLine, running } from './procfs.js';

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true once the server is ready; polled until readyTimeoutMs. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** Let this process exit while the server runs on (the local stack). */
  detachFromParent?: boolean;
  /**
   * Stop the server if this process dies first (default: unless detachFromParent, and always in
   * tests, see guardEverything()).
   */
  guard?: boolean;
}

export class ManagedProcess {
  private exited = false;
  private exitCode: number | null = null;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
    /** Where this run's output starts in the (appended) log. */
    private readonly logFrom = 0,
  ) {
    child.on('exit', (code) => {
      this.exited = true;
      this.exitCode = code;
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  static async start(options: ManagedProcessOptions): Promise<ManagedProcess> {
    const fd = openSync(options.logFile, 'a');
    const logFrom = fstatSync(fd).size;
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: true, // own process group: stop() kills children too
    });
    closeSync(fd);
    if (options.detachFromParent) child.unref();
    if (child.pid !== undefined && (options.guard ?? (!options.detachFromParent || guardingEverything()))) {
      const release = guard(options.name, { group: child.pid });
      child.once('exit', release);
    }
    const proc = new ManagedProcess(options.name, child, options.logFile, logFrom);
    await new Promise<void>((resolveSpawn, reject) => {
      child.once('spawn', () => resolveSpawn());
      child.once('error', (err) => reject(new Error(`${options.name}: cannot start ${options.command}: ${err.message}`)));
    });
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (proc.exited) {
        throw new Error(`${options.name} exited with code ${proc.exitCode} before it was ready; log ${options.logFile}:\n${proc.cause()}${proc.tail()}`);
      }
      if (await options.ready().catch(() => false)) return proc;
      if (Date.now() > deadline) {
        await proc.stop();
        throw new Error(`${options.name} was not ready after ${options.readyTimeoutMs ?? 60_000} ms; log ${options.logFile}:\n${proc.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * The log's first lines that say why a server died (a Go panic's message is followed by a stack
   * trace longer than any tail), for error messages.
   */
  cause(): string {
    try {
      const lines = readFileSync(this.logFile).subarray(this.logFrom).toString('utf8').split('\n').filter((line) => /^panic: |^fatal error: |address already in use|^Error: /.test(line));
      return lines.length === 0 ? '' : `${lines.slice(0, 3).join('\n')}\n…\n`;
    } catch {
      return '';
    }
  }

  /** Last lines of the log, for error messages. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  get running(): boolean {
    return !this.exited;
  }

  /** `first` (SIGTERM) to the process group, SIGKILL after graceMs. Safe to call twice. */
  async stop(graceMs = 5_000, first: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exited) return;
    const group = -this.pid;
    const signal = (sig: NodeJS.Signals): void => {
      try {
        process.kill(group, sig);
      } catch {
        /* already gone */
      }
    };
    const exited = new Promise<void>((r) => (this.exited ? r() : this.child.once('exit', () => r())));
    signal(first);
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL at once (crash simulation). */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await exited;
  }
}

/**
 * The URL answers 2xx. A server that is not listening fails at once; the timeout only bounds one
 * that accepted the connection, and is generous because on a loaded 2-core machine a healthy
 * server can take seconds to answer (a status that calls it down would be wrong).
 */
export async function httpOk(url: string, timeoutMs = 5_000): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return res.ok;
}

// ---- detached processes (the local stack outlives the command that started it) ---------------

export interface DetachedProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** Stop it if this process dies first (default: only in tests, see guardEverything()). */
  guard?: boolean;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a running process (Linux /proc), to make sure a stored pid is still ours. */
export function commandLine(pid: number): string | undefined {
  return procCommandLine(pid);
}

/**
 * Starts a server in its own session and process group, detached from this process (which may
 * exit), with its output appended to logFile; resolves with its pid once `ready` answers.
 */
export async function startDetached(options: DetachedProcessOptions): Promise<number> {
  const proc = await ManagedProcess.start({ ...options, detachFromParent: true });
  return proc.pid;
}

/** `first` (SIGTERM) to the process group, SIGKILL after graceMs; resolves once the leader is gone. */
export async function stopProcessGroup(pid: number, graceMs = 5_000, first: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal(first);
  const killAt = Date.now() + graceMs;
  let killed = false;
  while (running(pid)) {
    if (!killed && Date.now() > killAt) {
      signal('SIGKILL');
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
