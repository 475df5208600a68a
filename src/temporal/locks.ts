// Reads a service's lock (the `tidegate-lock/<service>` workflow) and the liveness of releases, for
// the client's fast refusal and for the coordination activities the workflows call.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { lockHeld, serviceLockId, serviceLockStart, type HolderState, type LockState } from '../core/ids.js';

export async function isReleaseRunning(client: Client, releaseId: string): Promise<boolean> {
  return (await releaseState(client, releaseId)) === 'running';
}

async function releaseState(client: Client, releaseId: string): Promise<HolderState> {
  try {
    const d = await client.workflow.getHandle(releaseId).describe();
    return d.status.name === 'RUNNING' ? 'running' : 'closed';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'absent';
    throw err;
  }
}

/** A service's running lock workflow: the release it names as holder, and since when. */
async function readLock(client: Client, service: string): Promise<{ holder: string; since: number } | undefined> {
  try {
    const d = await client.workflow.getHandle(serviceLockId(service)).describe();
    if (d.status.name !== 'RUNNING' || typeof d.memo?.holder !== 'string') return undefined;
    return { holder: d.memo.holder, since: d.startTime.getTime() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** The release id a service's running lock workflow names as its holder (undefined when none runs). */
export async function lockHolder(client: Client, service: string): Promise<string | undefined> {
  return (await readLock(client, service))?.holder;
}

/**
 * Who holds the service, and whether that holder still counts: a running release, or one a client
 * took the lock for less than UNSTARTED_HOLDER_GRACE_MS ago and is starting (lockHeld, src/core/ids.ts).
 */
export async function describeServiceLock(client: Client, service: string): Promise<LockState> {
  const lock = await readLock(client, service);
  if (!lock) return { holderRunning: false };
  const state = await releaseState(client, lock.holder);
  return { holder: lock.holder, holderRunning: lockHeld(state, Date.now() - lock.since) };
}

/**
 * Takes a service's lock for `holder` from the client, before that release is started: the lock
 * workflow's id is the service's, so of two clients only one starts it. Returns the holder found
 * — `holder` itself when taken (or already held by it) — after breaking a stale lock. Needs no
 * worker: the holder is the lock's memo, set when it is started.
 */
export async function takeServiceLock(client: Client, taskQueue: string, service: string, holder: string): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await client.workflow.start('serviceLock', { ...serviceLockStart(service, holder), taskQueue, workflowIdReusePolicy: 'ALLOW_DUPLICATE', workflowIdConflictPolicy: 'FAIL' });
      return holder;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    const lock = await describeServiceLock(client, service);
    if (!lock.holder) continue; // given back between the start and the describe
    if (lock.holder === holder || lock.holderRunning) return lock.holder;
    await breakStaleLock(client, service, lock.holder);
  }
  throw new Error(`the lock of ${service} changed hands three times while it was being taken: start again`);
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
