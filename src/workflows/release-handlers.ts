// The release's updates, signals and query with their validators, and the state they leave for the
// workflow to act on (the open approval gate, promote, abort, freed locks), kept in one small class.
import { setHandler, type CancellationScope } from '@temporalio/workflow';
import { approvalsNeeded, checkApprove, checkReject, type ApprovalGate } from '../core/approval.js';
import { abortSignal, approveUpdate, lockFreedSignal, promoteUpdate, rejectUpdate, statusQuery, type AbortRequest } from './definitions.js';
import type { ReleaseContext } from './release-context.js';

/** What the handlers were asked, read by the stages. */
export class Requests {
  /** The approval gate open now, if any. */
  gate: ApprovalGate | undefined;
  abort: AbortRequest | undefined;
  /** Set by `promote`; a pause clears it when it starts. */
  promoted = false;
  /** Set by `promote --full`: the remaining canary steps are skipped. */
  skipCanary = false;
  /** Services whose lock a superseded release has given up (lockFreed). */
  readonly freedLocks = new Set<string>();
  /** The scope of the forward stages, which an abort cancels. */
  pipelineScope: CancellationScope | undefined;
}

export function installHandlers(ctx: ReleaseContext): void {
  const { status, requests } = ctx;

  setHandler(statusQuery, () => status);

  setHandler(
    approveUpdate,
    ({ by, comment }) => {
      const gate = requests.gate;
      if (!gate) throw new Error('no approval gate is open');
      gate.approvals.push({ by, at: ctx.now(), ...(comment ? { comment } : {}) });
      const svc = status.services.find((s) => s.service === gate.service);
      if (svc) {
        svc.approvals = [...gate.approvals];
        svc.approvalsNeeded = approvalsNeeded(gate);
      }
      ctx.record('approved', `approved by ${by}${comment ? `: ${comment}` : ''} (${gate.approvals.length}/${gate.rule.minApprovals})`, {
        service: gate.service,
        stage: 'approval',
      });
      return { service: gate.service, approvals: gate.approvals.length, needed: approvalsNeeded(gate) };
    },
    {
      validator: ({ by }) => {
        const verdict = checkApprove(requests.gate, by, status.stage);
        if (!verdict.ok) throw new Error(verdict.reason);
      },
    },
  );

  setHandler(
    rejectUpdate,
    ({ by, reason }) => {
      const gate = requests.gate;
      if (!gate) throw new Error('no approval gate is open');
      gate.rejection = { by, at: ctx.now(), reason };
      const svc = status.services.find((s) => s.service === gate.service);
      if (svc) svc.rejection = gate.rejection;
      ctx.record('rejected', `rejected by ${by}: ${reason}`, { service: gate.service, stage: 'approval' });
      return { service: gate.service };
    },
    {
      validator: ({ by, reason }) => {
        const verdict = checkReject(requests.gate, by, reason, status.stage);
        if (!verdict.ok) throw new Error(verdict.reason);
      },
    },
  );

  setHandler(
    promoteUpdate,
    ({ by, full }) => {
      if (full) requests.skipCanary = true;
      const what = full ? 'skipping the remaining canary steps' : (status.pausedFor ?? 'pause');
      requests.promoted = true;
      ctx.record('promoted', `promoted by ${by}: ${what}`, { ...(status.service ? { service: status.service } : {}), stage: 'canary' });
      return { promoted: what };
    },
    {
      validator: ({ full }) => {
        if (status.outcome || status.stage === 'rollback') throw new Error(`the release is ${status.outcome ?? 'rolling back'}`);
        if (full && status.stage !== 'canary') throw new Error(`promote --full applies during the canary stage; the release is in stage "${status.stage}"`);
        if (!full && !status.pausedFor) throw new Error(`nothing to promote: the release is not paused (stage "${status.stage}")`);
      },
    },
  );

  setHandler(lockFreedSignal, (service) => void requests.freedLocks.add(service));

  setHandler(abortSignal, (req) => {
    if (requests.abort || status.outcome) return;
    requests.abort = req;
    ctx.record(req.supersededBy ? 'superseded' : 'abort-requested', req.supersededBy ? `superseded by ${req.supersededBy} (${req.by})` : `abort requested by ${req.by}: ${req.reason}`);
    requests.pipelineScope?.cancel();
  });
}
