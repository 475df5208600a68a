// The order of a release across clusters, as pure data: which clusters start together, when the
// next wave may start, and which clusters a failure rolls back (and in which order). The workflow
// only follows these answers; it decides nothing about waves itself.
import type { WaveSpec } from './release-spec.js';

/** One wave as the release runs it: its clusters in batches of at most `maxParallel`, then its bake. */
export interface PlannedWave {
  /** 0-based, in spec order. */
  index: number;
  name: string;
  /** Each batch starts when the one before has released (not baked: the bake is the wave's). */
  batches: string[][];
  bakeMs: number;
}

/**
 * planWaves([{ name: 'canary', clusters: ['eu-1'], maxParallel: 1, bake: 1_800_000 },
 *            { name: 'rest', clusters: ['eu-2', 'us-1', 'us-2'], maxParallel: 2, bake: 0 }])
 *   → [{ index: 0, name: 'canary', batches: [['eu-1']], bakeMs: 1_800_000 },
 *      { index: 1, name: 'rest', batches: [['eu-2', 'us-1'], ['us-2']], bakeMs: 0 }]
 */
export function planWaves(waves: readonly WaveSpec[]): PlannedWave[] {
  return waves.map((w, index) => {
    const size = Math.max(1, Math.min(w.maxParallel, w.clusters.length));
    const batches: string[][] = [];
    for (let i = 0; i < w.clusters.length; i += size) batches.push(w.clusters.slice(i, i + size));
    return { index, name: w.name, batches, bakeMs: w.bake };
  });
}

/** Where one cluster's release stands, as the parent sees it. */
export type ClusterPhase =
  /** Its wave has not reached it. */
  | 'waiting'
  /** Its child release runs (staging, canary, approval, switch, monitor). */
  | 'releasing'
  /** Its child switched and finished its monitor window; it waits for the whole release to end. */
  | 'released'
  /** Its child failed, was rejected or aborted, and rolled back what it did in that cluster. */
  | 'rolled-back'
  /** Rolled back because another cluster failed. */
  | 'undone';

export interface ClusterProgress {
  cluster: string;
  phase: ClusterPhase;
  /** Order in which the cluster's child started (0 first); undefined while waiting. */
  startedSeq?: number;
}

/**
 * The clusters a failure must roll back, newest first: every cluster whose child started and that
 * has not rolled back already — those released in earlier waves and the current wave's. A cluster
 * that never started has nothing to undo.
 *
 * clustersToUndo([
 *   { cluster: 'eu-1', phase: 'released', startedSeq: 0 },   // wave 1
 *   { cluster: 'eu-2', phase: 'released', startedSeq: 1 },   // wave 2, first batch
 *   { cluster: 'us-1', phase: 'rolled-back', startedSeq: 2 }, // wave 2: the one that failed
 *   { cluster: 'us-2', phase: 'waiting' },                    // wave 2, second batch: never started
 * ]) → ['eu-2', 'eu-1']
 */
export function clustersToUndo(progress: readonly ClusterProgress[]): string[] {
  return progress
    .filter((p): p is ClusterProgress & { startedSeq: number } => p.startedSeq !== undefined && (p.phase === 'released' || p.phase === 'releasing'))
    .sort((a, b) => b.startedSeq - a.startedSeq)
    .map((p) => p.cluster);
}

/**
 * One line per wave for `status`: its name, its clusters with their phases, and its bake.
 *
 * waveLines(plan, progress, { wave: 0, bakeUntil: '2026-12-05T13:00:00Z' })
 *   → ['wave 1 canary: eu-1 released — baking until 2026-12-05T13:00:00Z',
 *      'wave 2 rest: eu-2 waiting, us-1 waiting, us-2 waiting']
 */
export function waveLines(plan: readonly PlannedWave[], progress: readonly ClusterProgress[], baking?: { wave: number; bakeUntil: string }): string[] {
  const phase = new Map(progress.map((p) => [p.cluster, p.phase]));
  return plan.map((w) => {
    const clusters = w.batches.flat().map((c) => `${c} ${phase.get(c) ?? 'waiting'}`).join(', ');
    const bake = baking?.wave === w.index ? ` — baking until ${baking.bakeUntil}` : '';
    return `wave ${w.index + 1} ${w.name}: ${clusters}${bake}`;
  });
}
