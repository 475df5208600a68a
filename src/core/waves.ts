// The order of a release across clusters, as pure data: which clusters start together, when the
// next wave may start, and which clusters a failure rolls back (and in which order). The workflow
// only follows these answers; it decides nothing about waves itself.
import { formatDuration } from './duration.js';
import type { WaveSpec } from './release-spec.js';
import { each, num, pad, present, text, type Loose } from './loose.js';
import type { ClusterStatus, Outcome, TimelineCode, WaveStatus } from './status.js';

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

const CLUSTER_MARK: Record<string, string> = { waiting: '·', releasing: '▶', released: '✓', 'rolled-back': '✗', undone: '↩' };

/**
 * A wave's state for people, with its bake: 'released, baked 30m', 'baking until …', 'awaiting approval'.
 *
 *   waveState({ state: 'baking', bakeMs: 1_800_000, bakeUntil: '2026-12-05T13:00:00.000Z' }) → 'baking until 2026-12-05T13:00:00.000Z'
 *   waveState({ state: 'released', bakeMs: 1_800_000 }) → 'released, baked 30m'
 */
function waveState(w: Loose<WaveStatus>): string {
  const bake = num(w?.bakeMs) !== undefined && (num(w?.bakeMs) ?? 0) > 0 ? formatDuration(num(w?.bakeMs) ?? 0) : undefined;
  switch (w?.state) {
    case 'baking':
      return present(w.bakeUntil) ? `baking until ${text(w.bakeUntil)}` : `baking${bake ? ` ${bake}` : ''}`;
    case 'baked':
      return `baked${bake ? ` ${bake}` : ''}`;
    case 'released':
      return `released${bake ? `, baked ${bake}` : ''}`;
    default:
      return text(w?.state).replace(/-/g, ' ');
  }
}

/** Where a cluster's child stands, for people: 'canary 2/4 20%', 'rolled back: <why>', 'undone: <why>'. */
function clusterState(c: Loose<ClusterStatus>): string {
  const why = present(c?.reason) ? `: ${text(c?.reason)}` : '';
  switch (c?.phase) {
    case 'waiting':
      return 'not started';
    case 'releasing': {
      if (!present(c.stage)) return 'starting';
      const step = c.step && num(c.step.index) !== undefined ? ` ${(num(c.step.index) ?? 0) + 1}/${text(c.step.total)}` : '';
      const weight = num(c.canaryWeight) ? ` ${text(c.canaryWeight)}%` : '';
      return `${text(c.stage)}${step}${weight}`;
    }
    case 'released':
      return 'released';
    case 'rolled-back':
      return `rolled back${why}`;
    case 'undone':
      return `undone${why}`;
    default:
      return `${text(c?.phase)}${why}`;
  }
}

/** The clusters of every wave, in spec order. */
function allClusters(waves: Loose<WaveStatus[]>): readonly NonNullable<Loose<ClusterStatus>>[] {
  return each(waves).flatMap((w) => each(w?.clusters));
}

/**
 * A rollback across clusters, newest first as it runs: the cluster that failed (it rolled itself
 * back), then every other cluster that started, latest start first, undone or still to undo.
 * Undefined when nothing rolls back.
 *
 *   rollbackOrder(waves where us-1 (started 2nd) failed, eu-2 (1st) and eu-1 (0th) were undone)
 *     → 'us-1 rolled itself back, then eu-2 undone, eu-1 undone'
 */
function rollbackOrder(waves: Loose<WaveStatus[]>): string | undefined {
  const rolling = each(waves).some((w) => w?.state === 'rolling-back');
  if (!rolling && !each(waves).some((w) => w?.state === 'rolled-back')) return undefined;
  const newestFirst = (a: Loose<ClusterStatus>, b: Loose<ClusterStatus>): number => (num(b?.startedSeq) ?? -1) - (num(a?.startedSeq) ?? -1);
  const started = allClusters(waves).filter((c) => num(c.startedSeq) !== undefined);
  const failed = started.filter((c) => c.phase === 'rolled-back').sort(newestFirst);
  const others = started.filter((c) => c.phase !== 'rolled-back').sort(newestFirst);
  const parts = others.map((c) => `${text(c.cluster)} ${c.phase === 'undone' ? 'undone' : rolling ? 'to undo' : `not undone (${text(c.phase)})`}`);
  const first = failed.map((c) => `${text(c.cluster)} rolled itself back`).join(', ');
  if (!first) return parts.join(', ') || undefined;
  return parts.length ? `${first}, then ${parts.join(', ')}` : first;
}

/**
 * The waves of a release across clusters for `status`: one line per wave (number, name, what it
 * runs with, its state), one per cluster (a mark, its name, where its release stands), and while
 * or after a rollback the order it undoes clusters in. Reads the status loosely (never throws);
 * no waves, no lines.
 *
 *   waveStatusLines([
 *     { index: 0, name: 'canary', maxParallel: 1, bakeMs: 1_800_000, state: 'rolled-back',
 *       clusters: [{ cluster: 'eu-1', phase: 'undone', startedSeq: 0, reason: 'us-1 failed' }] },
 *     { index: 1, name: 'rest', maxParallel: 2, bakeMs: 0, state: 'rolled-back', clusters: [
 *       { cluster: 'eu-2', phase: 'undone', startedSeq: 1, reason: 'us-1 failed' },
 *       { cluster: 'us-1', phase: 'rolled-back', startedSeq: 2, reason: 'analysis error-rate failed at canary step 2 of checkout' },
 *       { cluster: 'us-2', phase: 'waiting' }] },
 *   ]) → [
 *     '1 canary (bake 30m): rolled back',
 *     '  ↩ eu-1  undone: us-1 failed',
 *     '2 rest (2 at once): rolled back, us-1 failed',
 *     '  ↩ eu-2  undone: us-1 failed',
 *     '  ✗ us-1  rolled back: analysis error-rate failed at canary step 2 of checkout',
 *     '  · us-2  not started',
 *     'rollback, newest first: us-1 rolled itself back, then eu-2 undone, eu-1 undone',
 *   ]
 */
export function waveStatusLines(waves: Loose<WaveStatus[]>): string[] {
  const width = Math.max(0, ...allClusters(waves).map((c) => text(c.cluster).length));
  const lines: string[] = [];
  for (const w of each(waves)) {
    const clusters = each(w.clusters);
    const index = num(w.index);
    const settings = [
      ...(num(w.maxParallel) !== undefined && (num(w.maxParallel) ?? 0) < clusters.length ? [`${text(w.maxParallel)} at once`] : []),
      ...(num(w.bakeMs) ? [`bake ${formatDuration(num(w.bakeMs) ?? 0)}`] : []),
    ];
    const failed = w.state === 'rolling-back' || w.state === 'rolled-back' ? clusters.filter((c) => c.phase === 'rolled-back').map((c) => text(c.cluster)) : [];
    lines.push(`${index !== undefined ? index + 1 : text(w.index)} ${text(w.name)}${settings.length ? ` (${settings.join(', ')})` : ''}: ${waveState(w)}${failed.length ? `, ${failed.join(', ')} failed` : ''}`);
    for (const c of clusters) lines.push(`  ${CLUSTER_MARK[text(c.phase)] ?? ' '} ${pad(text(c.cluster), width)}  ${clusterState(c)}`);
  }
  const rollback = rollbackOrder(waves);
  if (rollback) lines.push(`rollback, newest first: ${rollback}`);
  return lines;
}

/**
 * The waves in one line, for the Temporal UI's details: each wave's state, how many of its clusters
 * released while it releases, and the rollback's order. Undefined without waves.
 *
 *   waveSummary(a release whose first wave baked, the second releasing one of three clusters so far)
 *     → '1 canary baked 30m · 2 rest releasing (1/3 released)'
 */
export function waveSummary(waves: Loose<WaveStatus[]>): string | undefined {
  const parts = each(waves).map((w) => {
    const clusters = each(w.clusters);
    const released = clusters.filter((c) => c.phase === 'released').length;
    const count = w.state === 'releasing' || w.state === 'awaiting-approval' ? ` (${released}/${clusters.length} released)` : '';
    return `${num(w.index) !== undefined ? (num(w.index) ?? 0) + 1 : text(w.index)} ${text(w.name)} ${waveState(w)}${count}`;
  });
  if (!parts.length) return undefined;
  const rollback = rollbackOrder(waves);
  return `${parts.join(' · ')}${rollback ? `; rollback, newest first: ${rollback}` : ''}`;
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
