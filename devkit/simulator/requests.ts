// The simulator's maths, pure and seedable: how many requests each color gets in a tick (exact
// shares over time, so a 90/10 route gives 10% of requests), which of them fail, and how long
// each takes (log-normal latency fitted to the configured p50 and p95).
import type { Color } from '../../src/core/snapshot.js';
import type { Behaviour } from './config.js';

/** z of the 95th percentile of the standard normal distribution. */
const Z95 = 1.6448536269514722;

/**
 * Log-normal parameters whose median is p50 and whose 95th percentile is p95 (ms → seconds).
 *
 *   lognormalFor({p50: 20, p95: 60}) → mu = ln(0.02), sigma = ln(3) / 1.645 ≈ 0.668
 */
export function lognormalFor(latencyMs: Behaviour['latencyMs']): { mu: number; sigma: number } {
  return { mu: Math.log(latencyMs.p50 / 1000), sigma: Math.log(latencyMs.p95 / latencyMs.p50) / Z95 };
}

/** A standard normal sample (Box–Muller) from a uniform source. */
export function normal(random: () => number): number {
  const u = 1 - random(); // (0, 1]
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Mulberry32: a small seedable PRNG, so tests of the maths are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimulatedRequest {
  code: number;
  seconds: number;
}

/** One request served by a backend with this behaviour. */
export function serve(behaviour: Behaviour, random: () => number): SimulatedRequest {
  const { mu, sigma } = lognormalFor(behaviour.latencyMs);
  const seconds = Math.exp(mu + sigma * normal(random));
  return { code: random() < behaviour.errorRate ? 500 : 200, seconds };
}

/**
 * Splits a tick's requests between the colors by their weights (percent), carrying fractions over
 * to the next tick so that shares are exact over time. `carry` is updated in place.
 *
 *   100 rps, 0.1 s ticks, weights {blue: 90, green: 10}: per tick blue 9, green 1
 *   10 rps, 0.1 s ticks, weights {blue: 50, green: 50}: blue and green 1 every second tick
 */
export function splitRequests(requestsPerSecond: number, tickSeconds: number, weights: Record<Color, number>, carry: Record<Color, number>): Record<Color, number> {
  const out: Record<Color, number> = { blue: 0, green: 0 };
  for (const color of ['blue', 'green'] as const) {
    carry[color] += (requestsPerSecond * tickSeconds * weights[color]) / 100;
    out[color] = Math.floor(carry[color] + 1e-9);
    carry[color] -= out[color];
  }
  return out;
}

/** Same for a single backend (staging). */
export function countRequests(requestsPerSecond: number, tickSeconds: number, carry: { value: number }): number {
  carry.value += requestsPerSecond * tickSeconds;
  const n = Math.floor(carry.value + 1e-9);
  carry.value -= n;
  return n;
}
