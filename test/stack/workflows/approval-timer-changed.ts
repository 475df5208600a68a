// The approval-timer workflow after an incompatible change (it now notifies before waiting): replaying
// a history recorded with the original must fail with a determinism error.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

interface NotifyActivities {
  notify(message: string): Promise<void>;
}
const { notify } = proxyActivities<NotifyActivities>({ startToCloseTimeout: '10s' });

export const approveSignal = defineSignal<[{ by: string }]>('approve');

export async function approvalTimer(timeoutDays: number): Promise<{ outcome: string }> {
  let by: string | undefined;
  setHandler(approveSignal, (p) => void (by = p.by));
  await notify('waiting for approval');
  const approved = await condition(() => by !== undefined, `${timeoutDays} days`);
  return { outcome: approved ? 'approved' : 'timed-out' };
}
