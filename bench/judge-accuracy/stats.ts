// The statistics the judge-accuracy benchmark reports, pure: exact (Clopper-Pearson) one-sided
// bounds of a rate observed as k events in n runs, and nearest-rank quantiles. A false-rollback
// rate is only "≤ 1%" when its 95% upper bound is, whatever the point estimate says.

/** ln C(n, k), by summing logs (n is at most a few thousand here). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += Math.exp(logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log1p(-p));
  return Math.min(1, sum);
}

/** The p in [0, 1] where a decreasing f(p) crosses `target`, by bisection (60 halvings: < 1e-15). */
function solveDecreasing(f: (p: number) => number, target: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * One-sided Clopper-Pearson upper bound of a rate: the largest p with P(X ≤ k | n, p) ≥ 1 − level,
 * i.e. the p at which k or fewer events would happen with probability 5% (level 0.95).
 *
 *   upperBound(0, 299)  → 1 − 0.05^(1/299) = 0.009969  (no event in 299 runs: ≤ 1%)
 *   upperBound(0, 200)  → 0.01487
 *   upperBound(3, 1000) → 0.007735
 *   upperBound(0, 0)    → 1
 */
export function upperBound(k: number, n: number, level = 0.95): number {
  if (n === 0 || k >= n) return 1;
  if (k === 0) return 1 - (1 - level) ** (1 / n);
  return solveDecreasing((p) => binomialCdf(k, n, p), 1 - level);
}

/**
 * One-sided Clopper-Pearson lower bound of a rate: the smallest p with P(X ≥ k | n, p) ≥ 1 − level.
 *
 *   lowerBound(100, 100) → 0.05^(1/100) = 0.9705  (every one of 100 faults detected)
 *   lowerBound(299, 299) → 0.9900
 *   lowerBound(0, 50)    → 0
 */
export function lowerBound(k: number, n: number, level = 0.95): number {
  if (n === 0 || k <= 0) return 0;
  return 1 - upperBound(n - k, n, level);
}

/**
 * Nearest-rank quantile (the smallest value with at least q of the values at or below it), as the
 * other benchmarks report; NaN for no values.
 *
 *   quantile([5, 1, 4, 2, 3], 0.5)  → 3
 *   quantile([5, 1, 4, 2, 3], 0.95) → 5
 */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

