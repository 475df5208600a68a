// One release per service at a time: a service's lock is a small workflow whose id is
// `tidegate-lock/<service>`, so Temporal's workflow-id uniqueness makes acquisition atomic. It lives
// until its holder release unlocks it, or until it sees that the holder no longer runs (a terminated
// release never leaves its service locked for more than one check interval).
import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { CoordinationActivities } from '../activities/types.js';
import { lockHolderQuery, unlockSignal } from './definitions.js';

const { isReleaseRunning } = proxyActivities<CoordinationActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

export interface ServiceLockInput {
  service: string;
  holder: string;
  /** How often to check that the holder still runs. */
  checkEveryMs?: number;
}

export async function serviceLock(input: ServiceLockInput): Promise<{ released: 'by-holder' | 'holder-gone' }> {
  let unlocked = false;
  setHandler(
    unlockSignal,
    (releaseId) => {
      if (releaseId === input.holder) unlocked = true;
    },
    { description: 'Sent by the holding release once it has ended: the lock ends and the service is free.' },
  );
  setHandler(lockHolderQuery, () => input.holder, { description: 'The release id that holds this service.' });
  const every = input.checkEveryMs ?? 3_600_000;
  for (;;) {
    if (await condition(() => unlocked, every, { summary: `held by ${input.holder}` })) return { released: 'by-holder' };
    if (!(await isReleaseRunning({ releaseId: input.holder }))) return { released: 'holder-gone' };
  }
}
