// Metric values as they cross Temporal's payloads. JSON has no NaN or ±Infinity: the SDK's default
// converter writes them as `null`, so a Prometheus NaN (0/0, e.g. a rate over a window with no
// requests) used to reach the workflow as null and be judged like a number. A value that is not a
// finite number therefore travels as Prometheus's own spelling of it, and every reader turns it back
// into a number through `toNumber`, which also reads the null an older worker may have recorded.

/** How Prometheus writes the non-finite floats in its API ("NaN", "+Inf", "-Inf"). */
export type NonFinite = 'NaN' | '+Inf' | '-Inf';

/** A measured value that survives JSON unchanged: a finite number or a NonFinite spelling. */
export type MetricValue = number | NonFinite;

const NON_FINITE: readonly string[] = ['NaN', '+Inf', '-Inf'];

export function isNonFinite(v: unknown): v is NonFinite {
  return typeof v === 'string' && NON_FINITE.includes(v);
}

/**
 * The payload-safe form of a number.
 *
 *   toMetricValue(0.25)      → 0.25
 *   toMetricValue(NaN)       → 'NaN'
 *   toMetricValue(-Infinity) → '-Inf'
 */
export function toMetricValue(n: number): MetricValue {
  if (Number.isFinite(n)) return n;
  if (Number.isNaN(n)) return 'NaN';
  return n > 0 ? '+Inf' : '-Inf';
}

/**
 * The number a recorded value stands for. `null` and anything that is not a value (a NaN written
 * as a bare number by an older worker arrives as null) read as NaN, never as 0.
 *
 *   toNumber('+Inf') → Infinity
 *   toNumber(null)   → NaN
 *   toNumber(0.5)    → 0.5
 */
export function toNumber(v: MetricValue | null | undefined): number {
  if (typeof v === 'number') return v;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return NaN;
}

/**
 * A value for people, whatever a status holds: four significant digits for numbers, the NonFinite
 * spelling as is, and `—` for null or a missing value. Never throws.
 *
 *   formatValue(0.99512) → '0.9951'
 *   formatValue(null)    → '—'
 *   formatValue('NaN')   → 'NaN'
 */
export function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(toMetricValue(v));
  if (isNonFinite(v)) return v;
  if (v === null || v === undefined) return '—';
  return String(v);
}

/**
 * Where a value is not payload-safe: the paths of NaN, ±Infinity, undefined array items, functions,
 * symbols and bigints in `value` (empty when JSON carries it unchanged, up to `limit` paths).
 *
 *   payloadHazards({ a: [1, NaN], b: { c: Infinity } }) → ['a[1]: NaN', 'b.c: Infinity']
 */
export function payloadHazards(value: unknown, limit = 5): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const visit = (v: unknown, path: string): void => {
    if (found.length >= limit) return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) found.push(`${path || '(value)'}: ${String(v)}`);
      return;
    }
    if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol') {
      found.push(`${path || '(value)'}: a ${typeof v}`);
      return;
    }
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      v.forEach((item, i) => (item === undefined ? found.push(`${path}[${i}]: undefined`) : visit(item, `${path}[${i}]`)));
      return;
    }
    if (v instanceof Date) return;
    for (const [k, item] of Object.entries(v)) visit(item, path ? `${path}.${k}` : k);
  };
  visit(value, '');
  return found;
}
