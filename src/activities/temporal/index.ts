// Coordination activities: what the release and lock workflows need to know about other workflows
// (who holds a service, whether a release still runs). Built from an injected Temporal client.
import type { Client } from '@temporalio/client';
import { breakStaleLock, describeServiceLock, isReleaseRunning } from '../../temporal/locks.js';
import type { CoordinationActivities } from '../types.js';

export function createCoordinationActivities(client: Client): CoordinationActivities {
  return {
    describeServiceLock: ({ service }) => describeServiceLock(client, service),
    breakStaleLock: ({ service, holder }) => breakStaleLock(client, service, holder),
    isReleaseRunning: ({ releaseId }) => isReleaseRunning(client, releaseId),
  };
}
