// The global freeze: while the workflow `tidegate-freeze` runs, no release moves past a stage
// boundary (approvals are still collected). Who froze and why are in its memo, so a worker's
// calendar check reads them with one describe and needs no worker of its own to answer a query.
// `tidegate unfreeze` signals it to end; Temporal's id uniqueness makes one freeze at a time.
import { condition, setHandler } from '@temporalio/workflow';
import { unfreezeSignal, type UnfreezeRequest } from './definitions.js';

export interface GlobalFreezeInput {
  by: string;
  reason: string;
}

export interface GlobalFreezeResult {
  frozenBy: string;
  reason: string;
  unfrozenBy: string;
}

export async function globalFreeze(input: GlobalFreezeInput): Promise<GlobalFreezeResult> {
  let lifted: UnfreezeRequest | undefined;
  setHandler(unfreezeSignal, (req) => void (lifted ??= req), { description: 'Lift the freeze as {by}: releases waiting at a stage boundary go on (tidegate unfreeze).' });
  await condition(() => lifted !== undefined);
  return { frozenBy: input.by, reason: input.reason, unfrozenBy: lifted?.by ?? 'unknown' };
}
