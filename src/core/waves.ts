// The order of a release across clusters, as pure data: which clusters start together, when the
// next wave may start, and which clusters a failure rolls back (and in which order). The workflow
// only follows these answers; it decides nothing about waves itself.
import { formatDuration } from './duration.js';
import type { WaveSpec } from './release-spec.js';
import type { Outcome, TimelineCode } from './status.js';

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

/** A wave as its timeline texts name it: 1-based number and name, e.g. `wave 2 rest`. */
type WaveRef = { index: number; name: string };
const waveName = (w: WaveRef): string => `wave ${w.index + 1} ${w.name}`;

/**
 * The timeline entries of a release across clusters: each text beside its code. The texts are the
 * ones src/core/status.ts's table reads codes back from (as it does for every release's texts), so
 * a reworded text must change that table too: the waves test checks each one.
 *
 *   waveEvents.waveStarted({ index: 1, name: 'rest', maxParallel: 2 }, ['eu-2', 'us-1', 'us-2'])
 *     → { code: 'wave-started', event: 'wave 2 rest started: eu-2, us-1, us-2 (at most 2 at once)' }
 *   waveEvents.clusterStopped('us-1', 'rolled-back', 'analysis error-rate failed at canary step 2 of checkout')
 *     → { code: 'cluster-stopped', event: 'cluster us-1 rolled-back: analysis error-rate failed at canary step 2 of checkout' }
 *   waveEvents.clusterUndone('eu-2', 'us-1 failed')
 *     → { code: 'cluster-undone', event: 'cluster eu-2 undone: us-1 failed' }
 */
export const waveEvents = {
  waveStarted: (w: WaveRef & { maxParallel: number }, clusters: readonly string[]) => entry('wave-started', `${waveName(w)} started: ${clusters.join(', ')} (at most ${w.maxParallel} at once)`),
  clusterStarted: (cluster: string, releaseId: string) => entry('cluster-started', `cluster ${cluster} started: ${releaseId}`),
  clusterAtGate: (cluster: string) => entry('cluster-at-gate', `cluster ${cluster} at its approval gate`),
  clusterReleased: (cluster: string) => entry('cluster-released', `cluster ${cluster} released; it keeps its old color warm until the release commits`),
  waveBaking: (w: WaveRef, until: string) => entry('wave-baking', `${waveName(w)} baking until ${until}`),
  waveBaked: (w: WaveRef & { bakeMs: number }) => entry('wave-baked', `${waveName(w)} baked ${formatDuration(w.bakeMs)}`),
  clusterStopped: (cluster: string, outcome: Exclude<Outcome, 'released'>, reason: string) => entry('cluster-stopped', `cluster ${cluster} ${outcome}: ${reason}`),
  clusterUndone: (cluster: string, why: string) => entry('cluster-undone', `cluster ${cluster} undone: ${why}`),
  committed: (clusters: number) => entry('committed', `committed: ${clusters} cluster${clusters === 1 ? '' : 's'} released; each scales its old color down`),
} as const;

function entry<C extends TimelineCode>(code: C, event: string): { code: C; event: string } {
  return { code, event };
}
