// Test workflow proving the stack: waits up to N days (a durable timer) for an `approve` signal whose
// payload is validated with zod inside the workflow sandbox.
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { z } from 'zod';

const Approval = z.object({ by: z.string().min(1), comment: z.string().optional() });
export type Approval = z.infer<typeof Approval>;

export const approveSignal = defineSignal<[unknown]>('approve');
export const rejectedPayloadsQuery = defineQuery<string[]>('rejectedPayloads');

export interface ApprovalTimerResult {
  outcome: 'approved' | 'timed-out';
  by?: string;
  /** Workflow time between start and the decision. */
  waitedMs: number;
}

export async function approvalTimer(timeoutDays: number): Promise<ApprovalTimerResult> {
  let approval: Approval | undefined;
  const rejected: string[] = [];
  setHandler(approveSignal, (raw) => {
    const parsed = Approval.safeParse(raw);
    if (parsed.success) approval = parsed.data;
    else rejected.push(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  });
  setHandler(rejectedPayloadsQuery, () => rejected);
  const startedAt = Date.now();
  const approved = await condition(() => approval !== undefined, `${timeoutDays} days`);
  const waitedMs = Date.now() - startedAt;
  return approved && approval ? { outcome: 'approved', by: approval.by, waitedMs } : { outcome: 'timed-out', waitedMs };
}
