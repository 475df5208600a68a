// The approval stage: a gate that the approve/reject updates act on (src/workflows/release-handlers.ts),
// open until enough approvers approved, one rejected, or the rule's timeout passed.
import { condition } from '@temporalio/workflow';
import { isApproved, type ApprovalGate } from '../core/approval.js';
import type { ApprovalSpec } from '../core/release-spec.js';
import { ReleaseStop, type ReleaseContext, type ServiceRun } from './release-context.js';

export async function approval(ctx: ReleaseContext, { svc, status: st }: ServiceRun, rule: ApprovalSpec): Promise<void> {
  const { requests } = ctx;
  const gate: ApprovalGate = { service: svc.service, rule, initiator: ctx.initiator, open: true, approvals: [] };
  requests.gate = gate;
  st.approvalsNeeded = rule.minApprovals;
  const decided = await condition(() => isApproved(gate) || Boolean(gate.rejection), rule.timeout, {
    summary: `approval of ${svc.service}: ${rule.minApprovals} of ${rule.approvers.join(', ')}`,
  });
  gate.open = false;
  requests.gate = undefined;
  if (gate.rejection) throw new ReleaseStop('rejected', 'rejected', `${gate.rejection.by} rejected ${svc.service}: ${gate.rejection.reason}`);
  if (!decided) {
    const why = `approval of ${svc.service} timed out after ${Math.round(rule.timeout / 60_000)}m with ${gate.approvals.length} of ${rule.minApprovals} approvals`;
    if (rule.onTimeout === 'rollback') throw new ReleaseStop('rolled-back', 'timeout', why);
    ctx.record('approval-timed-out-proceeding', `${why}; proceeding (onTimeout: proceed)`, { service: svc.service, stage: 'approval' });
  }
}
