// The saga's undo list. Every forward effect registers its undo as data; rollback runs
// them in reverse — with every traffic undo first, because users feel traffic in seconds and a
// Deployment's image only once traffic reaches it.
import type { HookRun } from './hooks.js';
import type { ProductionSnapshot, ProductionTarget, StagingSnapshot } from './snapshot.js';

export type UndoAction =
  | { type: 'restoreTraffic'; target: ProductionTarget; snapshot: ProductionSnapshot }
  | { type: 'restoreWorkloads'; target: ProductionTarget; snapshot: ProductionSnapshot }
  | { type: 'restoreStaging'; snapshot: StagingSnapshot }
  /** A hook's undo (spec `hooks:` … `undo:`), registered when the hook starts: after the workloads are back, newest first — the expand migration's undo once no pod of the new version runs. */
  | { type: 'runHook'; run: HookRun };

export interface Compensation {
  /** Registration order, 0-based. */
  seq: number;
  service: string;
  label: string;
  action: UndoAction;
}

export function isTrafficUndo(c: Compensation): boolean {
  return c.action.type === 'restoreTraffic';
}

/**
 * Order in which to run undos: traffic undos newest-first, then every other undo newest-first.
 *
 *   registered: [stagingImage#0, prodWorkloads#1, prodTraffic#2, payWorkloads#3, payTraffic#4]
 *   rollback:   [payTraffic#4, prodTraffic#2, payWorkloads#3, prodWorkloads#1, stagingImage#0]
 */
export function rollbackOrder(registered: readonly Compensation[]): Compensation[] {
  const newestFirst = [...registered].sort((a, b) => b.seq - a.seq);
  return [...newestFirst.filter(isTrafficUndo), ...newestFirst.filter((c) => !isTrafficUndo(c))];
}
