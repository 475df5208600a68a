// The compare judge (Kayenta style), pure: a threshold cannot tell "the canary is slower
// than the baseline running next to it under the same traffic" from "everything is slow right now",
// so this judge compares the two samples with a two-sided Mann-Whitney U test and a Hodges-Lehmann
// shift with its confidence interval, asks whether the change is both real and big enough in the bad
// direction, and folds the per-metric verdicts into a weighted score. No data is never a pass.
// The normal distribution is implemented here (no dependency): workflow code imports this module.

export type Direction = 'increase' | 'decrease' | 'either';
export type OutlierPolicy = 'keep' | 'remove';
export type Classification = 'Pass' | 'High' | 'Low' | 'NoData';
export type MetricVerdict = 'Pass' | 'Fail' | 'NoData';
export type ScorePhase = 'Successful' | 'Inconclusive' | 'Failed';

export interface MannWhitneyResult {
  /** U of the canary sample: #(canary > baseline) + ½·#(ties) over all pairs. */
  u: number;
  /** Two-sided p-value. */
  pValue: number;
  /** 'exact': the exact null distribution of U; 'normal': normal approximation (ties, or a sample > 50). */
  method: 'exact' | 'normal';
  /** Hodges-Lehmann shift (canary − baseline) and its distribution-free confidence interval. */
  shift: { estimate: number; lower: number; upper: number };
  n: { canary: number; baseline: number };
}

export interface CleanedSamples {
  values: number[];
  dropped: { nonFinite: number; outliers: number };
}

export interface MetricSamples {
  canary: readonly number[];
  baseline: readonly number[];
}

export interface CompareSpec {
  direction: Direction;
  /** Confidence level of the test and of the shift's interval, in (0, 1); 0.95 usually. */
  confidence: number;
  /** Smallest relative change that counts (0.1 = 10%). */
  minEffect: number;
  outliers?: OutlierPolicy;
}

export interface MetricResult {
  classification: Classification;
  verdict: MetricVerdict;
  reason: string;
  test?: MannWhitneyResult;
  /** Hodges-Lehmann shift / |baseline median| (the shift itself when the baseline median is 0). */
  relativeEffect?: number;
  medians?: { canary: number; baseline: number };
  /** Per metric, canary and baseline together. */
  dropped: { nonFinite: number; outliers: number };
}

export interface ScoredMetric {
  name: string;
  weight: number;
  /** A critical metric that fails fails the whole analysis, whatever the score. */
  critical?: boolean;
  verdict: MetricVerdict;
}

export interface ScoreThresholds {
  passScore: number;
  marginalScore: number;
}

export interface ScoreResult {
  phase: ScorePhase;
  /** 0..100, two decimals; absent when no metric had data. */
  score?: number;
  reason: string;
}

/** Samples are too small for a verdict below this many clean values on either side. */
export const MIN_SAMPLES = 3;

/** Both samples at most this size and no ties → exact p-value (as R's wilcox.test). */
export const EXACT_LIMIT = 50;

// ---------------------------------------------------------------------------------------------
// The normal distribution

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * P(Z > x) for x ≥ 0, to about 1e-14 relative: below 2 by the series Φ(x) − ½ = φ(x)·Σ x^(2n+1)/(2n+1)!!,
 * from 2 on by Laplace's continued fraction φ(x)/(x + 1/(x + 2/(x + 3/(x + …)))), 150 terms deep.
 */
function upperTail(x: number): number {
  if (x > 40) return 0;
  const phi = Math.exp((-x * x) / 2) / SQRT_2PI;
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let n = 1; term > sum * 1e-17; n++) {
      term *= (x * x) / (2 * n + 1);
      sum += term;
    }
    return 0.5 - phi * sum;
  }
  let t = x;
  for (let k = 150; k >= 1; k--) t = x + k / t;
  return phi / t;
}

/**
 * Standard normal CDF Φ(x), to about 1e-14 relative in the lower tail (and absolute in the upper).
 *
 *   normalCdf(0)     → 0.5
 *   normalCdf(1.96)  → 0.97500210485178
 *   normalCdf(-5)    → 2.8665157187919e-7
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x >= 0 ? 1 - upperTail(x) : upperTail(-x);
}

/**
 * Standard normal quantile Φ⁻¹(p): Acklam's rational approximation refined by one Halley step
 * (about 1e-15 relative). Outside (0, 1) it returns ±Infinity at the ends and NaN beyond.
 *
 *   normalQuantile(0.975) → 1.95996398454005
 *   normalQuantile(0.5)   → 0
 *   normalQuantile(1e-10) → -6.36134090240406
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239] as const;
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1] as const;
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] as const;
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;
  const pLow = 0.02425;
  let x: number;
  if (p < pLow || p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(p < pLow ? p : 1 - p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    if (p > 1 - pLow) x = -x;
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  // One Halley step on Φ(x) − p, using whichever tail keeps precision.
  const err = x < 0 ? upperTail(-x) - p : 1 - p - upperTail(x);
  const u = err * SQRT_2PI * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

// ---------------------------------------------------------------------------------------------
// Ranks, quantiles, cleaning

/**
 * Ranks (1-based) in input order, ties given the average of the ranks they span.
 *
 *   rank([10, 30, 20])     → [1, 3, 2]
 *   rank([5, 1, 5, 5, 2])  → [4, 1, 4, 4, 2]
 */
export function rank(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((p, q) => p.v - q.v || p.i - q.i);
  const ranks = new Array<number>(values.length).fill(0);
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && order[end]?.v === order[start]?.v) end++;
    const average = (start + 1 + end) / 2; // ranks start+1 … end
    for (let k = start; k < end; k++) ranks[at(order, k).i] = average;
    start = end;
  }
  return ranks;
}

function at<T>(xs: readonly T[], i: number): T {
  const x = xs[i];
  if (x === undefined) throw new RangeError(`index ${i} outside 0..${xs.length - 1}`);
  return x;
}

function sorted(values: readonly number[]): number[] {
  return [...values].sort((p, q) => p - q);
}

/** Quantile of sorted values by linear interpolation (R type 7, numpy's default). */
function quantileSorted(xs: readonly number[], p: number): number {
  const h = (xs.length - 1) * p;
  const lo = Math.floor(h);
  const below = at(xs, lo);
  return lo + 1 < xs.length ? below + (h - lo) * (at(xs, lo + 1) - below) : below;
}

function median(values: readonly number[]): number {
  return quantileSorted(sorted(values), 0.5);
}

/**
 * Drops NaN and ±Infinity, and with 'remove' the far-out values outside Tukey's outer fences
 * [Q1 − 3·IQR, Q3 + 3·IQR] (quartiles by linear interpolation), counting both. Order is kept.
 *
 *   cleanSamples([1, NaN, 2, Infinity, 3], 'keep')   → values [1, 2, 3], dropped {nonFinite 2, outliers 0}
 *   cleanSamples([10, 11, 12, 13, 14, 100], 'remove') → Q1 11.25, Q3 13.75, fences [3.75, 21.25]
 *                                                      → values [10 … 14], dropped {nonFinite 0, outliers 1}
 *
 * With IQR 0 (most values equal) every value different from them is far out.
 */
export function cleanSamples(values: readonly number[], outliers: OutlierPolicy): CleanedSamples {
  const finite = values.filter((v) => Number.isFinite(v));
  const nonFinite = values.length - finite.length;
  if (outliers === 'keep' || finite.length === 0) return { values: finite, dropped: { nonFinite, outliers: 0 } };
  const s = sorted(finite);
  const q1 = quantileSorted(s, 0.25);
  const q3 = quantileSorted(s, 0.75);
  const iqr = q3 - q1;
  const kept = finite.filter((v) => v >= q1 - 3 * iqr && v <= q3 + 3 * iqr);
  return { values: kept, dropped: { nonFinite, outliers: finite.length - kept.length } };
}

// ---------------------------------------------------------------------------------------------
// Mann-Whitney U

/**
 * Null distribution of U for sample sizes n1, n2 without ties: P(U = u), u = 0 … n1·n2.
 * The largest pooled value is a canary with probability n1/(n1+n2), and then beats all n2
 * baseline values: P(n1, n2, u) = n1/(n1+n2)·P(n1−1, n2, u−n2) + n2/(n1+n2)·P(n1, n2−1, u).
 * Probabilities rather than counts, so nothing overflows (C(100, 50) > 2^53).
 */
function exactDistribution(n1: number, n2: number): number[] {
  // prev[j] = distribution for (i − 1, j); cur[j] for (i, j).
  let prev: number[][] = Array.from({ length: n2 + 1 }, () => [1]);
  for (let i = 1; i <= n1; i++) {
    const cur: number[][] = [[1]];
    for (let j = 1; j <= n2; j++) {
      const pmf = new Array<number>(i * j + 1).fill(0);
      const canaryTop = at(prev, j); // size (i − 1)·j + 1, shifted by j
      const baselineTop = at(cur, j - 1); // size i·(j − 1) + 1
      const wc = i / (i + j);
      const wb = j / (i + j);
      for (let u = 0; u < canaryTop.length; u++) pmf[u + j] = (pmf[u + j] ?? 0) + wc * at(canaryTop, u);
      for (let u = 0; u < baselineTop.length; u++) pmf[u] = (pmf[u] ?? 0) + wb * at(baselineTop, u);
      cur.push(pmf);
    }
    prev = cur;
  }
  return at(prev, n2);
}

/** All pairwise differences canary_i − baseline_j, ascending. */
function pairwiseDifferences(canary: readonly number[], baseline: readonly number[]): number[] {
  const diffs: number[] = [];
  for (const x of canary) for (const y of baseline) diffs.push(x - y);
  return diffs.sort((p, q) => p - q);
}

/**
 * Two-sided Mann-Whitney U test of canary against baseline, with the Hodges-Lehmann shift
 * (canary − baseline) and its distribution-free confidence interval at level `confidence`.
 *
 * p-value: exact null distribution of U when there are no ties and both samples have at most 50
 * values; otherwise the normal approximation with the tie-corrected variance and a continuity
 * correction of ½. Interval: with k the largest integer such that P(U ≤ k) ≤ (1 − confidence)/2
 * (exact), or k = ⌊n1·n2/2 − z·√(n1·n2·(n1+n2+1)/12)⌋ with z = Φ⁻¹((1 + confidence)/2) (normal),
 * the interval is [d(k+1), d(n1·n2−k)] over the ordered pairwise differences d (clamped).
 * All values identical → U = n1·n2/2, p = 1, shift 0, interval [0, 0].
 *
 *   mannWhitney([1, 2, 3], [4, 5, 6])   → U = 0, p = 0.1 (exact: 2/C(6,3)), shift −3, CI [−5, −1]
 *   mannWhitney([0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46],
 *               [1.15, 0.88, 0.90, 0.74, 1.21])
 *                                       → U = 35, p = 0.2544 (exact), shift 0.305, CI [−0.15, 0.76]
 *   mannWhitney([1, 2, 2, 3], [2, 3, 3, 4]) → U = 3, p = 0.172 (normal: ties), shift −1, CI [−2, 0]
 *
 * Throws a RangeError on an empty sample, a non-finite value or a confidence outside (0, 1).
 */
export function mannWhitney(canary: readonly number[], baseline: readonly number[], confidence = 0.95): MannWhitneyResult {
  const n1 = canary.length;
  const n2 = baseline.length;
  if (n1 === 0 || n2 === 0) throw new RangeError(`mannWhitney needs values on both sides (canary ${n1}, baseline ${n2})`);
  if (![...canary, ...baseline].every((v) => Number.isFinite(v))) throw new RangeError('mannWhitney needs finite values (use cleanSamples)');
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);

  const pooled = [...canary, ...baseline];
  const ranks = rank(pooled);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += at(ranks, i);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const nn = n1 * n2;
  const n = n1 + n2;

  // Tie sizes t: Σ(t³ − t) corrects the variance; any tie rules out the exact distribution.
  let tieSum = 0;
  const s = sorted(pooled);
  for (let i = 0; i < s.length; ) {
    let j = i + 1;
    while (j < s.length && s[j] === s[i]) j++;
    const t = j - i;
    tieSum += t * t * t - t;
    i = j;
  }
  const variance = (nn / 12) * (n + 1 - tieSum / (n * (n - 1)));
  const size = { canary: n1, baseline: n2 };
  if (!(variance > 0)) return { u, pValue: 1, method: 'normal', shift: { estimate: 0, lower: 0, upper: 0 }, n: size };

  const diffs = pairwiseDifferences(canary, baseline);
  const estimate = median(diffs);
  const alpha = 1 - confidence;
  const exact = tieSum === 0 && n1 <= EXACT_LIMIT && n2 <= EXACT_LIMIT;

  let pValue: number;
  let k: number;
  if (exact) {
    const pmf = exactDistribution(n1, n2);
    // Sum the tail on the side of u, from its far end, so small p-values keep their precision.
    let tail = 0;
    if (u > nn / 2) for (let v = nn; v >= u; v--) tail += at(pmf, v);
    else for (let v = 0; v <= u; v++) tail += at(pmf, v);
    pValue = Math.min(1, 2 * tail);
    k = -1;
    let cdf = 0;
    for (let v = 0; v <= nn; v++) {
      cdf += at(pmf, v);
      if (cdf > (alpha / 2) * (1 + 1e-9)) break;
      k = v;
    }
  } else {
    const deviation = u - nn / 2;
    const z = (Math.abs(deviation) - 0.5) / Math.sqrt(variance);
    pValue = z <= 0 ? 1 : Math.min(1, 2 * upperTail(z));
    const zq = normalQuantile((1 + confidence) / 2);
    k = Math.floor(nn / 2 - zq * Math.sqrt((nn * (n + 1)) / 12));
  }
  k = Math.max(0, Math.min(k, Math.floor((nn - 1) / 2)));
  return { u, pValue, method: exact ? 'exact' : 'normal', shift: { estimate, lower: at(diffs, k), upper: at(diffs, nn - k - 1) }, n: size };
}

// ---------------------------------------------------------------------------------------------
// Per-metric classification and the weighted score

/** A number for people: four significant digits, no trailing zeros. */
function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}

function fmtSigned(x: number): string {
  return `${x > 0 ? '+' : ''}${fmt(x)}`;
}

function fmtP(p: number): string {
  return p < 0.0001 ? 'p<0.0001' : `p=${Number(p.toPrecision(2))}`;
}

function verdictFor(direction: Direction, classification: Classification): MetricVerdict {
  if (classification === 'NoData') return 'NoData';
  if (classification === 'High' && direction !== 'decrease') return 'Fail';
  if (classification === 'Low' && direction !== 'increase') return 'Fail';
  return 'Pass';
}

/**
 * What a run records of one metric's classification (status, history, `analysis replay`): the
 * verdict and reason, and the test's p-value, shift, relative effect and medians when there are any.
 * The workflow and the re-judging of recorded runs both build their per-metric results with it.
 */
export function metricRecord(judged: MetricResult): Pick<MetricResult, 'classification' | 'verdict' | 'reason' | 'relativeEffect' | 'medians'> & {
  pValue?: number;
  shift?: NonNullable<MetricResult['test']>['shift'];
} {
  return {
    classification: judged.classification,
    verdict: judged.verdict,
    reason: judged.reason,
    ...(judged.test ? { pValue: judged.test.pValue, shift: judged.test.shift } : {}),
    ...(judged.relativeEffect !== undefined ? { relativeEffect: judged.relativeEffect } : {}),
    ...(judged.medians ? { medians: judged.medians } : {}),
  };
}

/**
 * Classifies one metric: cleans both samples, runs the U test, and calls the canary High (or Low)
 * only when the change is significant (p < 1 − confidence), its whole interval lies above (below)
 * zero, and the relative effect (Hodges-Lehmann shift / |baseline median|) exceeds minEffect.
 * The direction decides which of High and Low fails. Fewer than 3 clean values → NoData.
 *
 *   baseline [58, 61, 59, 63, 60, 62, 57, 64], canary [395, 410, 402, 388, 415, 399, 407, 393],
 *   {direction: 'increase', confidence: 0.95, minEffect: 0.1}
 *     → High, Fail: "canary median 400.5 vs baseline 60.5 (+562%, 95% CI of the shift [332, 349], p=0.00016): High"
 *   same samples, direction 'decrease' → High, Pass
 *   canary [1, NaN, 2], baseline [...8 values] → NoData: "too few usable values: canary 2, baseline 8 …"
 */
export function classifyMetric(input: MetricSamples, spec: CompareSpec): MetricResult {
  const policy = spec.outliers ?? 'keep';
  const canary = cleanSamples(input.canary, policy);
  const baseline = cleanSamples(input.baseline, policy);
  const dropped = {
    nonFinite: canary.dropped.nonFinite + baseline.dropped.nonFinite,
    outliers: canary.dropped.outliers + baseline.dropped.outliers,
  };
  const droppedParts = [dropped.nonFinite > 0 ? `${dropped.nonFinite} non-finite` : '', dropped.outliers > 0 ? `${dropped.outliers} outlying` : ''];
  const droppedNote = dropped.nonFinite + dropped.outliers > 0 ? `; dropped ${droppedParts.filter((s) => s !== '').join(' and ')} values` : '';
  if (canary.values.length < MIN_SAMPLES || baseline.values.length < MIN_SAMPLES) {
    return {
      classification: 'NoData',
      verdict: 'NoData',
      reason: `too few usable values: canary ${canary.values.length}, baseline ${baseline.values.length} (need at least ${MIN_SAMPLES} each${droppedNote})`,
      dropped,
    };
  }

  const test = mannWhitney(canary.values, baseline.values, spec.confidence);
  const medians = { canary: median(canary.values), baseline: median(baseline.values) };
  const relativeEffect = medians.baseline === 0 ? test.shift.estimate : test.shift.estimate / Math.abs(medians.baseline);
  const significant = test.pValue < 1 - spec.confidence;
  let classification: Classification = 'Pass';
  if (significant && test.shift.lower > 0 && relativeEffect > spec.minEffect) classification = 'High';
  else if (significant && test.shift.upper < 0 && relativeEffect < -spec.minEffect) classification = 'Low';

  const effect = medians.baseline === 0 ? `shift ${fmtSigned(test.shift.estimate)} from a zero baseline median` : `${fmtSigned(Math.round(relativeEffect * 100))}%`;
  const level = `${Number((spec.confidence * 100).toPrecision(4))}%`;
  let note = '';
  if (classification === 'Pass' && significant && (test.shift.lower > 0 || test.shift.upper < 0)) {
    note = ` (significant, but within the ${Number((spec.minEffect * 100).toPrecision(4))}% minimum effect)`;
  }
  const reason =
    `canary median ${fmt(medians.canary)} vs baseline ${fmt(medians.baseline)} ` +
    `(${effect}, ${level} CI of the shift [${fmt(test.shift.lower)}, ${fmt(test.shift.upper)}], ${fmtP(test.pValue)}): ${classification}${note}${droppedNote}`;
  return { classification, verdict: verdictFor(spec.direction, classification), reason, test, relativeEffect, medians, dropped };
}

/**
 * Folds per-metric verdicts into one: score = 100 · Σ weight(Pass) / Σ weight(not NoData), two
 * decimals; score ≥ passScore → Successful, ≥ marginalScore → Inconclusive, else Failed. A failing
 * critical metric → Failed with score 0. No metric with data → Inconclusive without a score.
 *
 *   [{a, 3, Pass}, {b, 1, Fail}], {passScore 95, marginalScore 70} → score 75, Inconclusive
 *   [{a, 1, Pass}, {b, 1, NoData}]                                  → score 100, Successful
 *   [{a, 9, Pass}, {b, 1, Fail, critical}]                          → score 0, Failed
 *   [{a, 1, NoData}]                                                → Inconclusive, no score
 *
 * Throws a RangeError on a negative or non-finite weight.
 */
export function scoreMetrics(metrics: readonly ScoredMetric[], thresholds: ScoreThresholds): ScoreResult {
  for (const m of metrics) {
    if (!(Number.isFinite(m.weight) && m.weight >= 0)) throw new RangeError(`metric ${m.name}: weight must be a finite number ≥ 0, got ${m.weight}`);
  }
  const failed = metrics.filter((m) => m.verdict === 'Fail').map((m) => m.name);
  const noData = metrics.filter((m) => m.verdict === 'NoData').map((m) => m.name);
  const details = [failed.length > 0 ? `failed: ${failed.join(', ')}` : '', noData.length > 0 ? `no data: ${noData.join(', ')}` : '']
    .filter((s) => s !== '')
    .join('; ');
  const suffix = details === '' ? '' : ` (${details})`;

  const critical = metrics.filter((m) => m.critical === true && m.verdict === 'Fail').map((m) => m.name);
  if (critical.length > 0) return { phase: 'Failed', score: 0, reason: `critical metric failed: ${critical.join(', ')}${suffix}` };

  let passWeight = 0;
  let dataWeight = 0;
  for (const m of metrics) {
    if (m.verdict === 'NoData') continue;
    dataWeight += m.weight;
    if (m.verdict === 'Pass') passWeight += m.weight;
  }
  if (metrics.length === 0) return { phase: 'Inconclusive', reason: 'no metrics to judge' };
  if (noData.length === metrics.length) return { phase: 'Inconclusive', reason: `no data for any metric${suffix}` };
  if (dataWeight === 0) return { phase: 'Inconclusive', reason: `the metrics with data all have weight 0${suffix}` };

  const score = Math.round((10000 * passWeight) / dataWeight) / 100;
  const { passScore, marginalScore } = thresholds;
  if (score >= passScore) return { phase: 'Successful', score, reason: `score ${score} ≥ pass score ${passScore}${suffix}` };
  if (score >= marginalScore) return { phase: 'Inconclusive', score, reason: `score ${score} is marginal (≥ ${marginalScore}, < ${passScore})${suffix}` };
  return { phase: 'Failed', score, reason: `score ${score} < marginal score ${marginalScore}${suffix}` };
}

/**
 * The verdict of a whole compare run, from its metrics' verdicts (each with why, and whether the
 * metrics backend failed for it): scoreMetrics' phase and score, except that a run whose backend
 * failed for some metric cannot pass on the others (Inconclusive); a run that does not pass names
 * every metric that did not.
 *
 *   [{a, Pass}, {b, Fail: "+40%"}] at passScore 95  → Failed  "score 50 … — b: +40%"
 *   [{a, Pass}, {b, NoData, backend down}]          → Inconclusive "the metrics backend failed for b; score 100 …"
 *   [{a, Pass}]                                     → Successful, score 100
 */
export function compareRunVerdict(
  metrics: readonly (ScoredMetric & { reason: string; backendDown: boolean })[],
  thresholds: ScoreThresholds,
): ScoreResult {
  const scored = scoreMetrics(metrics, thresholds);
  const score = scored.score !== undefined ? { score: scored.score } : {};
  const down = metrics.filter((m) => m.backendDown);
  if (down.length > 0 && scored.phase === 'Successful') {
    return { phase: 'Inconclusive', ...score, reason: `the metrics backend failed for ${down.map((d) => d.name).join(', ')}; ${scored.reason}` };
  }
  if (scored.phase === 'Successful') return { phase: 'Successful', ...score, reason: scored.reason };
  const why = metrics.filter((m) => m.verdict !== 'Pass').map((m) => `${m.name}: ${m.reason}`);
  return { phase: scored.phase, ...score, reason: `${scored.reason} — ${why.join('; ')}` };
}
