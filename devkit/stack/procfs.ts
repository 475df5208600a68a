// What Linux's /proc says about processes: alive or a zombie, process group, start time (to tell a
// process from a later one that got the same pid), command line, open files. The local stack, the
// guardian that reaps a dead owner's servers, and the tests that check nothing is left behind all
// need to answer "is this still the process we started, and what does it hold".
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), T, … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Clock ticks after boot: with the pid, identifies one process for its whole life. */
  startTime: number;
}

export function procStat(pid: number): ProcStat | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime priority nice threads itrealvalue starttime …"; comm may contain spaces and ')'.
  const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    startTime: Number(fields[19]),
  };
}

/** Running (not a zombie waiting for its parent to reap it). */
export function running(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** The command line of a process, arguments joined by spaces; undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}

/** Running processes whose command line contains `text`. */
export function processesMentioning(text: string): number[] {
  return allPids().filter((pid) => pid !== process.pid && (commandLine(pid) ?? '').includes(text) && running(pid));
}

/** Running members of a process group. */
export function groupMembers(pgid: number): number[] {
  return allPids().filter((pid) => {
    const stat = procStat(pid);
    return stat?.pgrp === pgid && stat.state !== 'Z';
  });
}

/** Processes that have `file` open (any descriptor), like `lsof file`. */
export function processesHolding(file: string): number[] {
  return allPids().filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
        } catch {
          return false;
        }
      });
    } catch {
      return false; // gone, or not ours to look at
    }
  });
}
