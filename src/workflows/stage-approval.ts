// The approval stage: a gate that the approve/reject updates act on (src/workflows/release-handlers.ts),
// open until enough approvers approved, one rejected, or the rule's timeout passed. When it opens, the
// worker's allowed signers and signature policy are read by an activity (so the list used is in the
// history) and the gate gets a fresh nonce that signed decisions must name. While it waits, the
// TidegateAwaiting search attribute names who may still approve.
import { condition, getExternalWorkflowHandle, patched, upsertSearchAttributes, uuid4 } from '@temporalio/workflow';
import { isApproved, type ApprovalGate } from '../core/approval.js';
import { advertiseAwaiting } from './awaiting.js';
import { AWAITING_KEY } from './search-attributes.js';
import type { ApprovalSpec } from '../core/release-spec.js';
import { PATCHES } from './patches.js';
import { signing } from './release-activities.js';
import { ReleaseStop, type ReleaseContext, type ServiceRun } from './release-context.js';
import { approvalClosed } from './release-metrics.js';
import { clusterAtGateSignal } from './definitions.js';
import type { ClusterPart } from '../core/release-input.js';
import { waveEvents } from '../core/waves.js';

export async function approval(ctx: ReleaseContext, { svc, status: st }: Pick<ServiceRun, 'svc' | 'status'>, rule: ApprovalSpec): Promise<void> {
  if (ctx.part) return partApproval(ctx, ctx.part, svc.service);
  const { requests } = ctx;
  const gate: ApprovalGate = { service: svc.service, rule, initiator: ctx.initiator, open: true, approvals: [] };
  if (patched(PATCHES.signedDecisions.id)) {
    const trust = await signing.readSignerTrust({ for: 'gate', service: svc.service });
    gate.trust = { ...trust, requireSigned: rule.requireSignature === true || trust.requireSigned };
    gate.nonce = uuid4();
    const principals = [...new Set(trust.signers.flatMap((s) => s.principals))];
    if (ctx.controls && ctx.status.controls) {
      // promote and abort are checked against the newest list too
      ctx.controls = { ...trust, requireSigned: ctx.controls.requireSigned };
      ctx.status.controls.signers = { source: trust.source, sha256: trust.sha256, principals };
    }
    st.gate = { nonce: gate.nonce, requireSigned: gate.trust.requireSigned, signers: { source: trust.source, sha256: trust.sha256, principals } };
    const from = trust.source === 'none' ? 'no allowed signers on the worker' : `allowed signers ${trust.source} (sha256 ${trust.sha256.slice(0, 12)}…, ${trust.signers.length} keys)`;
    ctx.record('approval-gate-opened', `approval gate of ${svc.service} open: ${rule.minApprovals} of ${rule.approvers.join(', ')}; ${gate.trust.requireSigned ? 'signed decisions required' : 'signatures optional'}; ${from}`, {
      service: svc.service,
      stage: 'approval',
    });
  }
  requests.gate = gate;
  if (patched(PATCHES.awaitingApproval.id)) {
    gate.advertised = true;
    advertiseAwaiting(gate);
  }
  st.approvalsNeeded = rule.minApprovals;
  st.approvalUntil = new Date(Date.now() + rule.timeout).toISOString();
  ctx.refreshDetails();
  ctx.notifier?.send('approval-needed', {
    service: svc.service,
    approval: { approvers: rule.approvers, minApprovals: rule.minApprovals, approvedBy: gate.approvals.map((a) => a.by), until: st.approvalUntil, requireSigned: gate.trust?.requireSigned ?? rule.requireSignature === true },
  });
  let decided: boolean | undefined;
  const openedAt = Date.now();
  const summary = `approval of ${svc.service}: ${rule.minApprovals} of ${rule.approvers.join(', ')}`;
  const decidedOrRejected = (): boolean => isApproved(gate) || Boolean(gate.rejection);
  try {
    decided = ctx.notifier
      ? await ctx.notifier.waitNoticing(decidedOrRejected, rule.timeout, `${summary} (tidegate approve ${ctx.releaseId})`, svc.service, summary)
      : await condition(decidedOrRejected, rule.timeout, { summary });
  } finally {
    // decided, timed out, or cancelled by an abort: the gate closes, and nobody is waited for
    gate.open = false;
    requests.gate = undefined;
    st.approvalUntil = undefined;
    if (gate.advertised) upsertSearchAttributes([{ key: AWAITING_KEY, value: null }]);
    approvalClosed(gate.rejection ? 'rejected' : decided === undefined ? 'aborted' : decided ? 'approved' : 'timed-out', Date.now() - openedAt);
  }
  if (gate.rejection) throw new ReleaseStop('rejected', 'rejected', `${gate.rejection.by} rejected ${svc.service}: ${gate.rejection.reason}`);
  if (!decided) {
    const why = `approval of ${svc.service} timed out after ${Math.round(rule.timeout / 60_000)}m with ${gate.approvals.length} of ${rule.minApprovals} approvals`;
    if (rule.onTimeout === 'rollback') throw new ReleaseStop('rolled-back', 'timeout', why);
    ctx.record('approval-timed-out-proceeding', `${why}; proceeding (onTimeout: proceed)`, { service: svc.service, stage: 'approval' });
  }
}

/**
 * The approval gate of one cluster's part of a release across clusters: the parent holds the gate
 * (approvers approve the release they know, once or once per wave); this part tells the parent it
 * is at the gate and waits for its decision (at once when the release or the wave was approved already).
 */
async function partApproval(ctx: ReleaseContext, part: ClusterPart, service: string): Promise<void> {
  ctx.record('cluster-at-gate', `${waveEvents.clusterAtGate(part.cluster.name).event}: waiting for the decision of ${part.parent}`, { service, stage: 'approval' });
  await getExternalWorkflowHandle(part.parent).signal(clusterAtGateSignal, { cluster: part.cluster.name, service });
  await condition(() => ctx.requests.gateDecisions.has(service));
  const decision = ctx.requests.gateDecisions.get(service);
  if (!decision?.approved) throw new ReleaseStop('rejected', 'rejected', decision?.reason ?? `${part.parent} rejected ${service}`);
  ctx.record('gate-decided', `approval of ${service} given by ${part.parent} (${decision.by})`, { service, stage: 'approval' });
}
