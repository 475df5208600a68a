// `tidegate freeze` / `tidegate unfreeze`: sets and lifts the global freeze (the `tidegate-freeze`
// workflow, src/workflows/freeze.ts) and tells running releases when it is lifted.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { FREEZE_WORKFLOW_ID, readGlobalFreeze, type GlobalFreezeState } from '../temporal/freeze.js';
import { calendarChangedSignal, unfreezeSignal } from '../workflows/definitions.js';
import type { globalFreeze, GlobalFreezeInput } from '../workflows/freeze.js';

/** Sets the freeze; when one is already in force it stays as it is and is returned. */
export async function startGlobalFreeze(client: Client, input: GlobalFreezeInput, taskQueue: string): Promise<{ started: boolean; freeze: GlobalFreezeState }> {
  try {
    const handle = await client.workflow.start<typeof globalFreeze>('globalFreeze', {
      workflowId: FREEZE_WORKFLOW_ID,
      taskQueue,
      args: [input],
      memo: { by: input.by, reason: input.reason },
      workflowIdConflictPolicy: 'FAIL',
    });
    const d = await handle.describe();
    return { started: true, freeze: { ...input, since: d.startTime.toISOString() } };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const current = await readGlobalFreeze(client);
    if (!current) return startGlobalFreeze(client, input, taskQueue);
    return { started: false, freeze: current };
  }
}

/** How long `unfreeze` waits for the freeze workflow to end on its own before terminating it. */
export const LIFT_WAIT_MS = 15_000;

/**
 * Lifts the freeze (undefined when none was in force), then tells every running release its
 * calendar changed, so that one waiting at a stage boundary checks again now rather than at its
 * next scheduled check. Returns how many releases were told.
 *
 * The releases are told only once the freeze workflow has closed: a release told while it still
 * runs (the unfreeze signal delivered, its workflow task not yet done) would read the freeze as in
 * force and wait up to an hour for its next check. A freeze workflow that does not close within
 * LIFT_WAIT_MS (no worker polls) is terminated, naming who lifted it.
 */
export async function liftGlobalFreeze(client: Client, by: string): Promise<{ lifted?: GlobalFreezeState; told: number }> {
  const lifted = await readGlobalFreeze(client);
  if (lifted) await endFreezeWorkflow(client, by);
  let told = 0;
  for await (const wf of client.workflow.list({ query: 'WorkflowType = "release" AND ExecutionStatus = "Running"' })) {
    const sent = await client.workflow
      .getHandle(wf.workflowId, wf.runId)
      .signal(calendarChangedSignal)
      .then(() => true, () => false);
    if (sent) told++;
  }
  return { ...(lifted ? { lifted } : {}), told };
}

async function endFreezeWorkflow(client: Client, by: string, waitMs = LIFT_WAIT_MS): Promise<void> {
  const handle = client.workflow.getHandle(FREEZE_WORKFLOW_ID);
  const gone = (err: unknown): void => {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  };
  try {
    await handle.signal(unfreezeSignal, { by });
  } catch (err) {
    return gone(err);
  }
  const deadline = Date.now() + waitMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    if (!(await readGlobalFreeze(client))) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, delay));
  }
  await handle.terminate(`unfrozen by ${by}; no worker ended the freeze workflow within ${Math.round(waitMs / 1_000)} s`).catch(gone);
}
