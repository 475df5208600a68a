// Coordination activities: what the release and lock workflows need to know about other workflows
// (who holds a service, whether a release still runs, which versions a release train already started). Built from an injected Temporal client.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { breakStaleLock, describeServiceLock, isReleaseRunning } from '../../temporal/locks.js';
import type { CoordinationActivities } from '../types.js';

export function createCoordinationActivities(client: Client): CoordinationActivities {
  return {
    describeServiceLock: ({ service }) => describeServiceLock(client, service),
    breakStaleLock: ({ service, holder }) => breakStaleLock(client, service, holder),
    isReleaseRunning: ({ releaseId }) => isReleaseRunning(client, releaseId),
    async releasesExisting({ releaseIds }) {
      const found: string[] = [];
      for (const id of releaseIds) {
        try {
          await client.workflow.getHandle(id).describe();
          found.push(id);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      return found;
    },
  };
}
