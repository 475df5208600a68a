// Metric values across the payload boundary (src/core/values.ts), checked against the SDK's own
// default payload converter: what the workflow receives is what the activity returned.
import { isNonFinite, formatValue, payloadHazards, toMetricValue, toNumber, type MetricValue } from '../../src/core/values.js';
import { roundTrip } from '../../devkit/testing/payloads.js';

describe('non-finite numbers are spelled out', () => {
  test.each<[number, MetricValue]>([
    [0.25, 0.25],
    [0, 0],
    [-3, -3],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%p → %p, and back', (n, spelled) => {
    expect(toMetricValue(n)).toBe(spelled);
    expect(toNumber(toMetricValue(n))).toBe(n);
  });

  test('the bare numbers do not survive the payload converter; the spelled ones do', () => {
    expect(roundTrip({ value: NaN })).toEqual({ value: null });
    expect(roundTrip({ value: Infinity })).toEqual({ value: null });
    for (const n of [NaN, Infinity, -Infinity, 0.5]) {
      const v = toMetricValue(n);
      expect(roundTrip({ value: v })).toEqual({ value: v });
    }
  });

  test('null and missing read as NaN, never as 0', () => {
    expect(toNumber(null)).toBeNaN();
    expect(toNumber(undefined)).toBeNaN();
    expect(isNonFinite('NaN')).toBe(true);
    expect(isNonFinite('nan')).toBe(false);
    expect(isNonFinite(NaN)).toBe(false);
  });

  test.each<[unknown, string]>([
    [0.99512, '0.9951'],
    [12, '12'],
    ['NaN', 'NaN'],
    ['+Inf', '+Inf'],
    [NaN, 'NaN'],
    [-Infinity, '-Inf'],
    [null, '—'],
    [undefined, '—'],
  ])('formatValue(%p) → %p', (v, text) => expect(formatValue(v)).toBe(text));
});

describe('payloadHazards names what JSON would change', () => {
  test.each<[unknown, string[]]>([
    [{ a: 1, b: 'NaN', c: [1, 2], d: null }, []],
    [{ a: [1, NaN], b: { c: Infinity } }, ['a[1]: NaN', 'b.c: Infinity']],
    [[undefined], ['[0]: undefined']],
    [{ n: 10n }, ['n: a bigint']],
    [NaN, ['(value): NaN']],
  ])('%p → %p', (value, hazards) => expect(payloadHazards(value)).toEqual(hazards));

  test('and finds nothing in what roundTrip leaves unchanged', () => {
    const safe = { observations: [{ at: '2026-01-01T00:00:00.000Z', observation: { kind: 'value', value: '+Inf' } }] };
    expect(payloadHazards(safe)).toEqual([]);
    expect(roundTrip(safe)).toEqual(safe);
  });
});
