// Range windows of analysis queries and the minimum-traffic rule (src/core/promql.ts).
import { longestWindowMs, promDurationMs, rangeWindowsMs, waitBeforeMeasuringMs } from '../../src/core/promql.js';

test.each<[string, number | undefined]>([
  ['15s', 15_000],
  ['1m30s', 90_000],
  ['100ms', 100],
  ['2h', 7_200_000],
  ['1d', 86_400_000],
  ['1w', 604_800_000],
  ['300', 300_000],
  ['1.5', 1_500],
  ['5x', undefined],
  ['', undefined],
  ['{{window}}', undefined],
])('promDurationMs(%p) → %p', (text, ms) => expect(promDurationMs(text)).toBe(ms));

test.each<[string, number[]]>([
  ['sum(rate(http_requests_total{code!~"5.."}[15s])) / sum(rate(http_requests_total[15s]))', [15_000, 15_000]],
  ['histogram_quantile(0.95, sum by (le) (rate(x_bucket{service="{{service}}"}[1m])))', [60_000]],
  ['max_over_time(rate(x[1m])[10m:30s])', [60_000, 600_000]],
  ['max_over_time(rate(x[1m])[10m:])', [60_000, 600_000]],
  ['rate(x[5m] offset 1h)', [300_000]],
  ['up{le=~"[0-9]+"}', []],
  ["up{path='/a[1]'}", []],
  ['up{path="a\\"[1m]"}', []],
  ['up', []],
])('rangeWindowsMs(%p) → %p', (query, windows) => expect(rangeWindowsMs(query)).toEqual(windows));

test('the longest window of several queries; 0 for instant gauges', () => {
  expect(longestWindowMs(['rate(a[30s])', 'rate(b[2m])'])).toBe(120_000);
  expect(longestWindowMs(['queue_depth'])).toBe(0);
  expect(longestWindowMs([])).toBe(0);
});

test.each<[string, Parameters<typeof waitBeforeMeasuringMs>[0], number]>([
  ['right after the weight change: the whole window', { delayMs: 15_000, changedAt: 100_000, now: 100_000 }, 15_000],
  ['3 s after it: the rest', { delayMs: 15_000, changedAt: 100_000, now: 103_000 }, 12_000],
  ['a pause already covered it', { delayMs: 15_000, changedAt: 100_000, now: 130_000 }, 0],
  ['no traffic change to wait for', { delayMs: 15_000, now: 130_000 }, 0],
  ['initialDelay 0s measures at once', { delayMs: 0, changedAt: 100_000, now: 100_000 }, 0],
])('waitBeforeMeasuringMs: %s', (_name, args, ms) => expect(waitBeforeMeasuringMs(args)).toBe(ms));
