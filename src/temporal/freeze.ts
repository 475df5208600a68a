// The global freeze as a worker's calendar check and the CLI read it: one workflow,
// `tidegate-freeze`, running while the freeze holds, with who froze and why in its memo
// (src/client/freeze.ts sets and lifts it).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';

export const FREEZE_WORKFLOW_ID = 'tidegate-freeze';

/** The freeze in force: who set it, why, since when. */
export interface GlobalFreezeState {
  by: string;
  reason: string;
  since: string;
}

/** The freeze in force, or undefined when none is. */
export async function readGlobalFreeze(client: Client): Promise<GlobalFreezeState | undefined> {
  try {
    const d = await client.workflow.getHandle(FREEZE_WORKFLOW_ID).describe();
    if (d.status.name !== 'RUNNING') return undefined;
    const by = typeof d.memo?.by === 'string' ? d.memo.by : 'unknown';
    const reason = typeof d.memo?.reason === 'string' ? d.memo.reason : 'no reason recorded';
    return { by, reason, since: d.startTime.toISOString() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
