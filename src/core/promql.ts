// What an analysis query measures over: the range windows of its PromQL (`rate(x[15s])`,
// `max_over_time(y[5m:30s])`). Two rules depend on them: a compare analysis may not sample more
// often than its window (overlapping windows make samples dependent, and the Mann-Whitney test
// assumes independent ones), and an analysis waits after a traffic change until its window holds
// only traffic that came after the change. Pure; a small scanner, not a PromQL parser.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const PART = /(\d+)(ms|s|m|h|d|w|y)/g;

/**
 * Milliseconds of a PromQL duration ("15s", "1h30m", "2w"; Prometheus 3 also takes bare seconds,
 * "300"), or undefined when the text is not one.
 *
 *   promDurationMs('1m30s') → 90_000
 *   promDurationMs('300')   → 300_000
 *   promDurationMs('5x')    → undefined
 */
export function promDurationMs(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (!DURATION.test(t)) return undefined;
  let total = 0;
  for (const [, amount, unit] of t.matchAll(PART)) total += Number(amount) * (UNIT_MS[unit ?? ''] ?? NaN);
  return Number.isFinite(total) ? total : undefined;
}

/**
 * The range windows in a query, in milliseconds and in order: `[d]` of a range vector, and the
 * range of a subquery `[d:step]`. Brackets inside string literals (a regex like `"[45].."`) are
 * not windows; template variables ({{color}}) are left alone.
 *
 *   rangeWindowsMs('sum(rate(x{code!~"5.."}[15s])) / sum(rate(x[15s]))') → [15_000, 15_000]
 *   rangeWindowsMs('max_over_time(rate(x[1m])[10m:30s])')                → [60_000, 600_000]
 *   rangeWindowsMs('up{le=~"[0-9]+"}')                                    → []
 */
export function rangeWindowsMs(query: string): number[] {
  const windows: number[] = [];
  let quote: string | undefined;
  for (let i = 0; i < query.length; i++) {
    const ch = query[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') {
      quote = ch;
      continue;
    }
    if (ch !== '[') continue;
    const close = query.indexOf(']', i + 1);
    if (close === -1) break;
    const inside = query.slice(i + 1, close);
    const range = promDurationMs(inside.split(':')[0] ?? '');
    if (range !== undefined) windows.push(range);
    i = close;
  }
  return windows;
}

/** The longest range window of any of the queries (0 when none has one: an instant gauge). */
export function longestWindowMs(queries: readonly string[]): number {
  return Math.max(0, ...queries.flatMap(rangeWindowsMs));
}

/**
 * How long an analysis still waits before its first measurement: until `delayMs` after the last
 * traffic change of the service it measures (a weight change, the switch, the staging deploy), so
 * that the query's window holds only traffic sent after that change. `delayMs` is the analysis's
 * `initialDelay`, by default its longest range window.
 *
 *   waitBeforeMeasuringMs({ delayMs: 15_000, changedAt: 100_000, now: 103_000 }) → 12_000
 *   waitBeforeMeasuringMs({ delayMs: 15_000, changedAt: 100_000, now: 130_000 }) → 0 (a pause already covered it)
 *   waitBeforeMeasuringMs({ delayMs: 15_000, now: 130_000 })                     → 0 (no change to wait for)
 */
export function waitBeforeMeasuringMs(args: { delayMs: number; changedAt?: number; now: number }): number {
  if (args.changedAt === undefined) return 0;
  return Math.max(0, args.changedAt + args.delayMs - args.now);
}
