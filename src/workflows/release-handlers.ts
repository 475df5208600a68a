// The release's updates, signals and query with their validators, and the state they leave for the
// workflow to act on (the open approval gate, promote, abort, freed locks), kept in one small class.
// A signed approve / reject passes the cheap checks in its validator, then its handler awaits the
// signature's verification by an activity, checks the gate again, and records the proof; whatever is
// refused after the validator is recorded with its reason.
import { setHandler, type CancellationScope } from '@temporalio/workflow';
import { approvalsNeeded, checkApprove, checkReject, checkSignature, type ApprovalGate, type DecisionProof, type Verdict } from '../core/approval.js';
import { failure } from '../core/failures.js';
import { SIGNATURE_NAMESPACE, type SignedStatement } from '../core/statement.js';
import { abortSignal, approveUpdate, lockFreedSignal, promoteUpdate, refusedSignal, rejectUpdate, statusQuery, type AbortRequest, type RefusedRequest } from './definitions.js';
import { failureMessage, signing } from './release-activities.js';
import type { ReleaseContext } from './release-context.js';

/** Refusals kept in status at most (the oldest are dropped; the history keeps every one). */
const MAX_REFUSALS = 100;
/** Longest name or reason of a refusal kept in status: a client cannot grow the status without bound. */
const MAX_TEXT = 500;

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

  /**
   * The cheap checks of an approve / reject, as its validator runs them: the rule, then the
   * signature's binding. `text` is the approval's comment or the rejection's reason, which a signed
   * statement must carry as its comment.
   */
  const check = (decision: RefusedRequest['decision'], by: string, signed: SignedStatement | undefined, text?: string): ReturnType<typeof checkSignature> | Verdict => {
    const rule = decision === 'approve' ? checkApprove(requests.gate, by, status.stage) : checkReject(requests.gate, by, text ?? '', status.stage);
    if (!rule.ok || !requests.gate) return rule;
    return checkSignature(requests.gate, decision, by, signed, ctx.decisionContext(), text);
  };

  let refusedSoFar = 0;
  /** Records a refused decision in status and (for the first MAX_REFUSALS) the timeline; the update then fails with `reason`. */
  const refuse = (decision: RefusedRequest['decision'], by: string, reason: string, fingerprint?: string): void => {
    const short = (t: string): string => (t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}…` : t);
    const refusals = (status.refusals ??= []);
    refusals.push({ decision, by: short(by), at: ctx.now(), reason: short(reason), ...(fingerprint ? { fingerprint } : {}) });
    if (refusals.length > MAX_REFUSALS) refusals.splice(0, refusals.length - MAX_REFUSALS);
    if (++refusedSoFar > MAX_REFUSALS) return;
    const more = refusedSoFar === MAX_REFUSALS ? ` (the timeline records no further refusals; status.refusals keeps the last ${MAX_REFUSALS})` : '';
    ctx.record('decision-refused', `${decision} by ${short(by)} refused: ${short(reason)}${more}`, { ...(requests.gate ? { service: requests.gate.service } : {}), stage: 'approval' });
  };

  /**
   * Verifies a signed decision that passed its validator, then checks again what may have changed
   * while it was verified (the gate closed, the same approver approved meanwhile). The proof to keep,
   * or a refusal, recorded, thrown as the update's failure.
   */
  const verified = async (decision: RefusedRequest['decision'], by: string, signed: SignedStatement | undefined, text?: string): Promise<DecisionProof | undefined> => {
    // the validator's checks again: validators do not run on replay, and this gives the keys to verify with
    const before = check(decision, by, signed, text);
    if (!before.ok) {
      refuse(decision, by, before.reason);
      throw failure('SignatureInvalid', before.reason);
    }
    if (!('signed' in before) || !before.signed || !signed) return undefined;
    let proof: DecisionProof;
    try {
      const sig = await signing.verifyStatement({ signed, keys: before.keys, namespace: SIGNATURE_NAMESPACE });
      proof = { ...sig, statement: signed.statement, signature: signed.signature };
    } catch (err) {
      const why = failureMessage(err);
      refuse(decision, by, why);
      throw failure('SignatureInvalid', why);
    }
    const after = check(decision, by, signed, text);
    if (!after.ok) {
      const why = `${after.reason} (checked again after the signature was verified)`;
      refuse(decision, by, why, proof.fingerprint);
      throw failure('SignatureInvalid', why);
    }
    return proof;
  };

  const validate = (decision: RefusedRequest['decision'], by: string, signed: SignedStatement | undefined, text?: string): void => {
    const verdict = check(decision, by, signed, text);
    if (!verdict.ok) throw new Error(verdict.reason);
  };

  setHandler(
    approveUpdate,
    async ({ by, comment, signed }) => {
      const proof = await verified('approve', by, signed, comment);
      const gate = requests.gate;
      if (!gate) throw new Error('no approval gate is open');
      gate.approvals.push({ by, at: ctx.now(), ...(comment ? { comment } : {}), ...(proof ? { proof } : {}) });
      const svc = status.services.find((s) => s.service === gate.service);
      if (svc) {
        svc.approvals = [...gate.approvals];
        svc.approvalsNeeded = approvalsNeeded(gate);
      }
      const how = proof ? `signed, ${proof.keyType} ${proof.fingerprint}` : 'unverified';
      ctx.record('approved', `approved by ${by}${comment ? `: ${comment}` : ''} (${gate.approvals.length}/${gate.rule.minApprovals}; ${how})`, {
        service: gate.service,
        stage: 'approval',
      });
      return { service: gate.service, approvals: gate.approvals.length, needed: approvalsNeeded(gate) };
    },
    { validator: ({ by, comment, signed }) => validate('approve', by, signed, comment) },
  );

  setHandler(
    rejectUpdate,
    async ({ by, reason, signed }) => {
      const proof = await verified('reject', by, signed, reason);
      const gate = requests.gate;
      if (!gate) throw new Error('no approval gate is open');
      gate.rejection = { by, at: ctx.now(), reason, ...(proof ? { proof } : {}) };
      const svc = status.services.find((s) => s.service === gate.service);
      if (svc) svc.rejection = gate.rejection;
      ctx.record('rejected', `rejected by ${by}: ${reason}${proof ? ` (signed, ${proof.keyType} ${proof.fingerprint})` : ''}`, { service: gate.service, stage: 'approval' });
      return { service: gate.service };
    },
    { validator: ({ by, reason, signed }) => validate('reject', by, signed, reason) },
  );

  // a refused update leaves no history: the client reports it, and the workflow records its own reason
  setHandler(refusedSignal, ({ decision, by, answer, text, signed }) => {
    if (decision !== 'approve' && decision !== 'reject') return;
    const now = check(decision, by, signed, text);
    refuse(decision, by, now.ok ? `${answer} (as the client reported it; the same decision passes the checks now)` : now.reason);
  });

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
