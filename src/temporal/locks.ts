// Reads a service's lock (the `tidegate-lock/<service>` workflow) and the liveness of releases, for
// the client's fast refusal and for the coordination activities the workflows call.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { serviceLockId } from '../core/ids.js';

/** What the lock workflow says: the holder's release id, and whether that release still runs. */
export interface ServiceLockState {
  /** Release id holding the service lock, if the lock workflow runs. */
  holder?: string;
  /** Whether the holder release is still running (a closed holder means a stale lock). */
  holderRunning: boolean;
}

export async function isReleaseRunning(client: Client, releaseId: string): Promise<boolean> {
  try {
    const d = await client.workflow.getHandle(releaseId).describe();
    return d.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** The release id a service's running lock workflow names as its holder (undefined when none runs). */
export async function lockHolder(client: Client, service: string): Promise<string | undefined> {
  try {
    const d = await client.workflow.getHandle(serviceLockId(service)).describe();
    if (d.status.name !== 'RUNNING') return undefined;
    return typeof d.memo?.holder === 'string' ? d.memo.holder : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export async function describeServiceLock(client: Client, service: string): Promise<ServiceLockState> {
  const holder = await lockHolder(client, service);
  if (!holder) return { holderRunning: false };
  return { holder, holderRunning: await isReleaseRunning(client, holder) };
}

/** Terminates a lock only if it is still held by `holder` and that release no longer runs. */
export async function breakStaleLock(client: Client, service: string, holder: string): Promise<void> {
  const lock = await describeServiceLock(client, service);
  if (lock.holder !== holder || lock.holderRunning) return;
  await client.workflow
    .getHandle(serviceLockId(service))
    .terminate(`stale lock: holder ${holder} no longer runs`)
    .catch((err: unknown) => {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    });
}
