// Servers started by a process must not outlive it when it dies without stopping them — a test run
// SIGKILLed by CI, a `npm run dev` killed with -9, jest killed while its workers run. Each server
// runs in a process group (or, for kwokctl's control plane, a session) of its own, so nothing in the
// kernel ties it to its starter. This module starts one guardian process per owner process (see
// guardian-main.ts), in a session of its own, and tells it through a pipe what the owner runs; when
// the owner dies, however it dies, the pipe reaches end of file and the guardian stops all of it.
import childProcess, { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { procStat } from './procfs.js';
import { repoRoot } from '../toolchain/tools.js';

/** What to stop: a process group, one process, or every process whose command line mentions a path. */
export type GuardTarget = { group: number } | { pid: number } | { mentioning: string };

export interface GuardEntry {
  key: string;
  label: string;
  target: GuardTarget;
  /** Start time of the group leader or process (from /proc), so a reused pid is never killed. */
  startTime?: number;
}

/** One JSON message a line on the guardian's stdin. */
export type GuardianMessage =
  | { op: 'add'; entry: GuardEntry }
  | { op: 'remove'; key: string }
  /** Also stop everything (and the owner) when this process exits: jest's parent of a test worker. */
  | { op: 'tie'; pid: number; startTime: number };

interface GuardianState {
  child?: ChildProcess;
  entries: Map<string, GuardEntry>;
  ties: Map<number, number>;
  /** Guard the servers meant to outlive their starter (the local stack's) too: set in tests. */
  all: boolean;
}

// One guardian per OS process, even where a test runner loads this module once per test file: the
// state lives on a Node core module object, which every module registry of the process shares.
const STATE = Symbol.for('tidegate.guardian');
const holder = childProcess as unknown as Record<symbol, GuardianState | undefined>;
const state: GuardianState = (holder[STATE] ??= { entries: new Map(), ties: new Map(), all: false });

export function keyOf(target: GuardTarget): string {
  if ('group' in target) return `group:${target.group}`;
  if ('pid' in target) return `pid:${target.pid}`;
  return `mentioning:${target.mentioning}`;
}

function guardianCommand(): { command: string; args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const main = fileURLToPath(new URL(`./guardian-main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return { command: process.execPath, args: fromSource ? ['--import', 'tsx', main] : [main] };
}

function send(message: GuardianMessage): void {
  state.child?.stdin?.write(`${JSON.stringify(message)}\n`);
}

function ensureGuardian(): void {
  if (state.child && state.child.exitCode === null && state.child.signalCode === null) return;
  const { command, args } = guardianCommand();
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // a test runner's flags are not the guardian's
  // TIDEGATE_GUARDIAN_LOG=<file> keeps what guardians did (whom they stopped, and why).
  const logFd = process.env.TIDEGATE_GUARDIAN_LOG ? openSync(process.env.TIDEGATE_GUARDIAN_LOG, 'a') : undefined;
  const child = spawn(command, [...args, String(process.pid), String(procStat(process.pid)?.startTime ?? 0)], {
    cwd: repoRoot,
    env,
    stdio: ['pipe', 'ignore', logFd ?? 'ignore'],
    detached: true, // a session of its own: signals to the owner's group never reach it
  });
  if (logFd !== undefined) closeSync(logFd);
  child.unref();
  (child.stdin as Socket | null)?.unref();
  child.stdin?.on('error', () => undefined); // a guardian that died: the exit handler starts another
  child.on('error', (err) => process.stderr.write(`[guardian] cannot start: ${err.message}\n`));
  child.on('exit', () => {
    if (state.child === child) state.child = undefined;
    // Never run unguarded: a guardian that died while the owner lives is replaced at once.
    if (state.entries.size > 0) ensureGuardian();
  });
  state.child = child;
  for (const [pid, startTime] of state.ties) send({ op: 'tie', pid, startTime });
  for (const entry of state.entries.values()) send({ op: 'add', entry });
}

/**
 * Stops `target` when this process dies without stopping it. Returns a release function to call
 * once the target has been stopped normally (releasing twice, or releasing a replaced entry, is harmless).
 */
export function guard(label: string, target: GuardTarget): () => void {
  const key = keyOf(target);
  const id = 'group' in target ? target.group : 'pid' in target ? target.pid : undefined;
  const startTime = id === undefined ? undefined : procStat(id)?.startTime;
  const entry: GuardEntry = { key, label, target, ...(startTime === undefined ? {} : { startTime }) };
  state.entries.set(key, entry);
  ensureGuardian();
  send({ op: 'add', entry });
  return () => {
    if (state.entries.get(key) !== entry) return;
    unguard(target);
  };
}

/** Forgets a target (it was stopped normally), also one guarded by another module instance. */
export function unguard(target: GuardTarget): void {
  const key = keyOf(target);
  if (!state.entries.delete(key)) return;
  send({ op: 'remove', key });
}

/**
 * Also stops everything guarded — and this process — when `pid` exits. A jest worker ties itself
 * to jest: if jest is SIGKILLed its workers live on, and their servers would with them.
 */
export function tieTo(pid: number): void {
  const startTime = procStat(pid)?.startTime;
  if (startTime === undefined || state.ties.has(pid)) return;
  state.ties.set(pid, startTime);
  if (state.child) send({ op: 'tie', pid, startTime });
}

/** From now on, servers meant to outlive their starter (the local stack's) are guarded too (tests). */
export function guardEverything(on = true): void {
  state.all = on;
}

export function guardingEverything(): boolean {
  return state.all;
}

/** The guardian's pid while one runs (tests check that it exits after its owner). */
export function guardianPid(): number | undefined {
  return state.child?.pid;
}
