// Approval rules, checked in the workflow's update validators so a refused approval is
// answered at once with its reason, and nothing is recorded for it.
import type { ApprovalSpec } from './release-spec.js';

export interface ApprovalRecord {
  by: string;
  /** ISO time (workflow time). */
  at: string;
  comment?: string;
}

export interface RejectionRecord {
  by: string;
  at: string;
  reason: string;
}

export interface ApprovalGate {
  service: string;
  rule: ApprovalSpec;
  /** Who started the release (recorded at start). */
  initiator: string;
  open: boolean;
  approvals: ApprovalRecord[];
  rejection?: RejectionRecord;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

function notOpen(gate: ApprovalGate | undefined, stage: string): Verdict {
  if (!gate) return { ok: false, reason: `no approval gate is open: the release is in stage "${stage}"` };
  if (gate.rejection) return { ok: false, reason: `the gate is closed: ${gate.rejection.by} rejected it` };
  return { ok: false, reason: `the approval gate for ${gate.service} is not open: the release is in stage "${stage}"` };
}

function approverCheck(gate: ApprovalGate, by: string): Verdict {
  if (!gate.rule.approvers.includes(by)) {
    return { ok: false, reason: `${by} is not an approver of ${gate.service} (approvers: ${gate.rule.approvers.join(', ')})` };
  }
  return { ok: true };
}

/** May `by` approve now? The gate is the one currently open, or undefined. */
export function checkApprove(gate: ApprovalGate | undefined, by: string, stage: string): Verdict {
  if (!by.trim()) return { ok: false, reason: 'an approval needs the approver\'s name (--as or TIDEGATE_USER)' };
  if (!gate?.open || gate.rejection) return notOpen(gate, stage);
  const listed = approverCheck(gate, by);
  if (!listed.ok) return listed;
  if (by === gate.initiator && !gate.rule.allowSelfApproval) {
    return { ok: false, reason: `${by} started this release and self-approval is not allowed` };
  }
  const earlier = gate.approvals.find((a) => a.by === by);
  if (earlier) return { ok: false, reason: `${by} already approved at ${earlier.at}` };
  return { ok: true };
}

/** May `by` reject now? Any listed approver may, the initiator included. */
export function checkReject(gate: ApprovalGate | undefined, by: string, reason: string, stage: string): Verdict {
  if (!reason.trim()) return { ok: false, reason: 'a rejection needs a reason (--reason)' };
  if (!gate?.open || gate.rejection) return notOpen(gate, stage);
  return approverCheck(gate, by);
}

export function approvalsNeeded(gate: ApprovalGate): number {
  return Math.max(0, gate.rule.minApprovals - gate.approvals.length);
}

export function isApproved(gate: ApprovalGate): boolean {
  return !gate.rejection && approvalsNeeded(gate) === 0;
}
