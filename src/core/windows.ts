// When a release may move on: allowed windows (days and hours in a time zone) and freeze periods.
// Pure, so the rule a release waits on is the rule these tables test, daylight-saving days included.

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * Hours a release may move on, on some days, in one time zone. `to` before `from` runs past
 * midnight: { days: ['fri'], from: '22:00', to: '06:00' } is open from Friday 22:00 to Saturday
 * 06:00. `to: '24:00'` is the end of the day.
 */
export interface AllowedWindow {
  days: readonly Weekday[];
  /** HH:MM, local time */
  from: string;
  /** HH:MM, local time; 24:00 allowed */
  to: string;
  /** IANA name, for example Europe/Berlin */
  timeZone: string;
}

/** A period nothing moves on: [from, until), instants with an offset. */
export interface Freeze {
  from: string;
  until: string;
  reason: string;
}

/**
 * The windows and freezes one release honours. A release may move on when every non-empty group
 * of windows has one open (the spec's and the worker's, each a union) and no freeze covers the time.
 */
export interface ReleaseCalendar {
  windows: readonly (readonly AllowedWindow[])[];
  freezes: readonly Freeze[];
}

export type Opening =
  | { open: true }
  | { open: false; reason: string; opensAt?: number };

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How far past the last freeze nextOpen looks for an open window: two weeks covers any weekly rule. */
const HORIZON_DAYS = 15;

/** Minutes since local midnight for "HH:MM", or undefined when it is not a time of day. */
export function parseClock(text: string, allowEndOfDay = false): number | undefined {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  if (minutes > 24 * 60 || (minutes === 24 * 60 && !allowEndOfDay)) return undefined;
  return minutes;
}

/** Whether Intl knows the time zone (IANA names: Europe/Berlin, UTC, America/New_York). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface Local {
  /** the local calendar date as a UTC day number (days since 1970-01-01) */
  day: number;
  /** minutes since local midnight */
  minutes: number;
  weekday: Weekday;
  /** local wall time minus UTC, in minutes */
  offset: number;
}

/** The wall clock in a time zone at an instant. */
export function localTime(instant: number, timeZone: string): Local {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const day = Math.floor(wall / DAY);
  return {
    day,
    minutes: Math.floor((wall - day * DAY) / MINUTE),
    weekday: WEEKDAYS[(((day + 4) % 7) + 7) % 7] as Weekday,
    offset: Math.round((wall - Math.floor(instant / 1000) * 1000) / MINUTE),
  };
}

/**
 * The instant a local wall time happens, as clocks and calendars treat it (JavaScript's
 * Temporal "compatible"): a time skipped by a daylight-saving jump is read with the offset before
 * the jump, so it lands as far after the jump as it was after the skipped hour's start; a time that
 * happens twice is the first.
 *
 *   Europe/Berlin, 2027-03-28 02:30 (skipped) → 01:30Z, which is 03:30 CEST
 *   Europe/Berlin, 2026-10-25 02:30 (twice)   → 00:30Z, which is 02:30 CEST
 */
export function instantOf(day: number, minutes: number, timeZone: string): number {
  const wall = day * DAY + minutes * MINUTE;
  const before = localTime(wall - DAY, timeZone).offset;
  const after = localTime(wall + DAY, timeZone).offset;
  const fits = [before, after]
    .map((offset) => wall - offset * MINUTE)
    .filter((t) => { const l = localTime(t, timeZone); return l.day === day && l.minutes === minutes; })
    .sort((a, b) => a - b);
  return fits[0] ?? wall - before * MINUTE;
}

function windowOpen(window: AllowedWindow, instant: number): boolean {
  const from = parseClock(window.from) ?? 0;
  const to = parseClock(window.to, true) ?? 24 * 60;
  const local = localTime(instant, window.timeZone);
  const today = window.days.includes(local.weekday);
  if (from < to) return today && local.minutes >= from && local.minutes < to;
  if (from === to) return false;
  const yesterday = window.days.includes(WEEKDAYS[(WEEKDAYS.indexOf(local.weekday) + 6) % 7] as Weekday);
  return (today && local.minutes >= from) || (yesterday && local.minutes < to);
}

/** Whether a release may move on at an instant, and if not, why (the first reason found). */
export function openAt(calendar: ReleaseCalendar, instant: number): Opening {
  const freeze = calendar.freezes.find((f) => Date.parse(f.from) <= instant && instant < Date.parse(f.until));
  if (freeze) return { open: false, reason: `frozen until ${freeze.until}: ${freeze.reason}` };
  for (const group of calendar.windows) {
    if (group.length > 0 && !group.some((w) => windowOpen(w, instant))) return { open: false, reason: `outside the allowed window${group.length > 1 ? 's' : ''} (${group.map(describeWindow).join('; ')})` };
  }
  return { open: true };
}

/**
 * The same as openAt, with the first instant at or after `now` when the release may move on.
 * The release opens at a window's start or a freeze's end, so those are the only instants tried;
 * `opensAt` is absent when none opens within two weeks of the last freeze (windows that never
 * overlap, for example).
 *
 *   windows Mon–Fri 09:00–17:00 Europe/Berlin, now Saturday 2026-12-05 10:00Z
 *     → { open: false, reason: 'outside the allowed window (mon–fri 09:00–17:00 Europe/Berlin)',
 *         opensAt: Monday 2026-12-07 08:00Z }
 */
export function nextOpen(calendar: ReleaseCalendar, now: number): Opening {
  const here = openAt(calendar, now);
  if (here.open) return here;
  const lastFreeze = Math.max(now, ...calendar.freezes.map((f) => Date.parse(f.until)).filter(Number.isFinite));
  const horizon = lastFreeze + HORIZON_DAYS * DAY;
  const candidates = new Set<number>();
  for (const f of calendar.freezes) {
    const until = Date.parse(f.until);
    if (until > now && until <= horizon) candidates.add(until);
  }
  for (const window of calendar.windows.flat()) {
    const from = parseClock(window.from) ?? 0;
    const first = localTime(now, window.timeZone).day - 1;
    const last = localTime(horizon, window.timeZone).day;
    for (let day = first; day <= last; day++) {
      if (!window.days.includes(WEEKDAYS[(((day + 4) % 7) + 7) % 7] as Weekday)) continue;
      const start = instantOf(day, from, window.timeZone);
      if (start > now && start <= horizon) candidates.add(start);
    }
  }
  const opensAt = [...candidates].sort((a, b) => a - b).find((t) => openAt(calendar, t).open);
  return opensAt === undefined ? here : { ...here, opensAt };
}

/** "mon–fri 09:00–17:00 Europe/Berlin", "sat,sun 22:00–06:00 UTC". */
export function describeWindow(window: AllowedWindow): string {
  const indices = window.days.map((d) => WEEKDAYS.indexOf(d)).sort((a, b) => a - b);
  const run = indices.length > 2 && indices.every((d, i) => i === 0 || d === (indices[i - 1] ?? -2) + 1);
  const days = run ? `${WEEKDAYS[indices[0] ?? 0]}–${WEEKDAYS[indices[indices.length - 1] ?? 0]}` : indices.map((d) => WEEKDAYS[d]).join(',');
  return `${days} ${window.from}–${window.to} ${window.timeZone}`;
}

/** Whether a release may move on now, and if not, why and when it may. */
export type CalendarAnswer =
  | { open: true }
  | {
      open: false;
      reason: string;
      /** Whose rule holds the release: a global freeze, the spec's windows or freezes, the worker's calendar. */
      source: 'global-freeze' | 'spec' | 'worker';
      /** The first time every rule allows (absent: a global freeze, or windows that never open together). */
      opensAt?: string;
    };

/** The rules one calendar check weighs: the spec's, the worker's, and the global freeze. */
export interface CalendarRules {
  spec?: { allow: readonly AllowedWindow[]; freezes: readonly Freeze[] };
  worker?: { allow: readonly AllowedWindow[]; freezes: readonly Freeze[] };
  globalFreeze?: { by: string; reason: string; since: string };
}

/**
 * The answer a release waits on at a stage boundary. A global freeze holds it with no opening time
 * (it ends when someone lifts it); otherwise the reason names the first rule that holds it (the
 * spec's before the worker's) and `opensAt` is the first time both allow.
 *
 *   spec Mon–Fri 09:00–17:00 Europe/Berlin, worker freeze Dec 24–27, at Thu 2026-12-24 10:00 CET
 *     → { open: false, source: 'worker', reason: 'frozen until 2026-12-27T00:00:00+01:00: holidays
 *         (the worker\'s calendar)', opensAt: '2026-12-28T08:00:00.000Z' } (Monday 09:00 CET)
 */
export function calendarAnswer(rules: CalendarRules, at: number): CalendarAnswer {
  const frozen = rules.globalFreeze;
  if (frozen) return { open: false, reason: `frozen by ${frozen.by} since ${frozen.since}: ${frozen.reason} (tidegate unfreeze lifts it)`, source: 'global-freeze' };
  const spec = rules.spec ?? { allow: [], freezes: [] };
  const worker = rules.worker ?? { allow: [], freezes: [] };
  const both = nextOpen({ windows: [spec.allow, worker.allow], freezes: [...spec.freezes, ...worker.freezes] }, at);
  if (both.open) return { open: true };
  const specHere = openAt({ windows: [spec.allow], freezes: spec.freezes }, at);
  const workerHere = openAt({ windows: [worker.allow], freezes: worker.freezes }, at);
  const [source, reason] = !specHere.open ? (['spec', specHere.reason] as const) : !workerHere.open ? (['worker', `${workerHere.reason} (the worker's calendar)`] as const) : (['spec', both.reason] as const);
  return { open: false, reason, source, ...(both.opensAt !== undefined ? { opensAt: new Date(both.opensAt).toISOString() } : {}) };
}
