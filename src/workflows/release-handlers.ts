// The release's updates, signals and query with their validators, and the state they leave for the
// workflow to act on (the open approval gate, promote, abort, freed locks), kept in one small class.
// A signed approve / reject / promote / abort passes the cheap checks in its validator, then its
// handler awaits the signature's verification by an activity, checks again, and records the proof;
// whatever is refused after the validator is recorded with its reason.
import { ActivityFailure, ApplicationFailure, condition, setHandler, workflowInfo, type CancellationScope } from '@temporalio/workflow';
import { approvalsNeeded, checkApprove, checkControl, checkReject, checkSignature, checkSupersede, type ApprovalGate, type DecisionProof, type SignatureCheck, type Verdict } from '../core/approval.js';
import { failure } from '../core/failures.js';
import { SIGNATURE_NAMESPACE, type SignedStatement } from '../core/statement.js';
import { abortSignal, abortUpdate, calendarChangedSignal, approveUpdate, clusterRollBackSignal, commitSignal, gateDecisionSignal, lockFreedSignal, promoteUpdate, refusedSignal, rejectUpdate, statusQuery, type AbortRequest, type AbortResponse, type GateDecision, type RefusedRequest } from './definitions.js';
import { failureMessage, verification } from './release-activities.js';
import { advertiseAwaiting } from './awaiting.js';
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
  /** Signed statements accepted in this run: each counts once. */
  readonly usedStatements = new Set<string>();
  /** How often the release was told its calendar changed (a lifted freeze): a release waiting for its window checks again. */
  calendarChanges = 0;
  /** A cluster's part: the parent's decisions of its approval gates, by service. */
  readonly gateDecisions = new Map<string, GateDecision>();
  /** A cluster's part: the parent committed it (every wave released). */
  committed = false;
}

export function installHandlers(ctx: ReleaseContext): void {
  const { status, requests } = ctx;

  setHandler(statusQuery, () => status, { description: "The release's status: stages, weights, analyses with every measurement, approvals, refusals, the rollback's undos, the timeline (what `tidegate status --json` prints)." });

  type Checked = SignatureCheck | Verdict;
  /**
   * The cheap checks of an approve / reject, as its validator runs them: the rule, then the
   * signature's binding. `text` is the approval's comment or the rejection's reason, which a signed
   * statement must carry as its comment.
   */
  const checkDecision = (decision: 'approve' | 'reject', by: string, signed: SignedStatement | undefined, text?: string): Checked => {
    const rule = decision === 'approve' ? checkApprove(requests.gate, by, status.stage) : checkReject(requests.gate, by, text ?? '', status.stage);
    if (!rule.ok || !requests.gate) return rule;
    return checkSignature(requests.gate, decision, by, signed, ctx.decisionContext(), text);
  };

  /** The cheap checks of a promote: the release can be promoted now, then the signature's binding. */
  const checkPromote = (by: string, full: boolean | undefined, signed: SignedStatement | undefined): Checked => {
    if (status.outcome || status.stage === 'rollback') return { ok: false, reason: `the release is ${status.outcome ?? 'rolling back'}` };
    if (full && status.stage !== 'canary') return { ok: false, reason: `promote --full applies during the canary stage; the release is in stage "${status.stage}"` };
    if (!full && !status.pausedFor) return { ok: false, reason: `nothing to promote: the release is not paused (stage "${status.stage}")` };
    if (ctx.controlsPending) return { ok: false, reason: 'the release is reading its signing policy: try again in a moment' };
    return checkControl(ctx.controls, { decision: 'promote', by, signed, ...(full ? { full } : {}) }, ctx.decisionContext(), requests.usedStatements);
  };

  /** The cheap checks of an abort sent as an update: the release runs, a reason is given, then the signature's binding. */
  const checkAbort = (by: string, reason: string, signed: SignedStatement | undefined): Checked => {
    if (status.outcome) return { ok: false, reason: `the release has already ended (${status.outcome})` };
    if (!reason.trim()) return { ok: false, reason: 'an abort needs a reason (--reason)' };
    if (ctx.controlsPending) return { ok: false, reason: 'the release is reading its signing policy: try again in a moment' };
    return checkControl(ctx.controls, { decision: 'abort', by, signed, reason }, ctx.decisionContext(), requests.usedStatements);
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
   * while it was verified (the gate closed, the same approver approved meanwhile, the release ended).
   * The proof to keep, or a refusal, recorded, thrown as the update's failure.
   */
  const verified = async (decision: RefusedRequest['decision'], by: string, signed: SignedStatement | undefined, check: () => Checked): Promise<DecisionProof | undefined> => {
    // the validator's checks again: validators do not run on replay, and this gives the keys to verify with
    const before = check();
    if (!before.ok) {
      refuse(decision, by, before.reason);
      throw failure('SignatureInvalid', before.reason);
    }
    if (!('signed' in before) || !before.signed || !signed) return undefined;
    let proof: DecisionProof;
    try {
      const sig = await verification.verifyStatement({ signed, keys: before.keys, namespace: SIGNATURE_NAMESPACE });
      proof = { ...sig, statement: signed.statement, signature: signed.signature };
    } catch (err) {
      // a bad proof is final; a verification that could not run (timed out, an issuer down past the retries) may pass when sent again
      const bad = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'SignatureInvalid';
      const why = bad ? failureMessage(err) : `the signature could not be verified now (${failureMessage(err)}): send the decision again`;
      refuse(decision, by, why);
      throw bad ? failure('SignatureInvalid', why) : failure('SignatureVerificationUnavailable', why);
    }
    const after = check();
    if (!after.ok) {
      const why = `${after.reason} (checked again after the signature was verified)`;
      refuse(decision, by, why, proof.fingerprint);
      throw failure('SignatureInvalid', why);
    }
    requests.usedStatements.add(signed.statement);
    return proof;
  };

  const validate = (check: () => Checked): void => {
    const verdict = check();
    if (!verdict.ok) throw new Error(verdict.reason);
  };

  /** How a decision's proof reads in the timeline. */
  const how = (proof: DecisionProof | undefined): string => (proof ? `signed, ${proof.keyType} ${proof.fingerprint}` : 'unverified');

  setHandler(
    approveUpdate,
    async ({ by, comment, signed }) => {
      const proof = await verified('approve', by, signed, () => checkDecision('approve', by, signed, comment));
      const gate = requests.gate;
      if (!gate) throw new Error('no approval gate is open');
      gate.approvals.push({ by, at: ctx.now(), ...(comment ? { comment } : {}), ...(proof ? { proof } : {}) });
      const svc = status.services.find((s) => s.service === gate.service);
      if (svc) {
        svc.approvals = [...gate.approvals];
        svc.approvalsNeeded = approvalsNeeded(gate);
      }
      advertiseAwaiting(gate);
      ctx.record('approved', `approved by ${by}${comment ? `: ${comment}` : ''} (${gate.approvals.length}/${gate.rule.minApprovals}; ${how(proof)})`, {
        service: gate.service,
        stage: 'approval',
      });
      return { service: gate.service, approvals: gate.approvals.length, needed: approvalsNeeded(gate) };
    },
    {
      validator: ({ by, comment, signed }) => validate(() => checkDecision('approve', by, signed, comment)),
      description: 'Approve the open gate as {by, comment?, signed?}; a signed statement is verified before it counts. Use `tidegate approve <release> --as <you> [--key <SSH key>]`.',
    },
  );

  setHandler(
    rejectUpdate,
    async ({ by, reason, signed }) => {
      const proof = await verified('reject', by, signed, () => checkDecision('reject', by, signed, reason));
      const gate = requests.gate;
      if (!gate) throw new Error('no approval gate is open');
      gate.rejection = { by, at: ctx.now(), reason, ...(proof ? { proof } : {}) };
      const svc = status.services.find((s) => s.service === gate.service);
      if (svc) svc.rejection = gate.rejection;
      ctx.record('rejected', `rejected by ${by}: ${reason}${proof ? ` (signed, ${proof.keyType} ${proof.fingerprint})` : ''}`, { service: gate.service, stage: 'approval' });
      return { service: gate.service };
    },
    {
      validator: ({ by, reason, signed }) => validate(() => checkDecision('reject', by, signed, reason)),
      description: 'Reject the open gate as {by, reason, signed?}: the release rolls back. Use `tidegate reject <release> --as <you> --reason <why> [--key <SSH key>]`.',
    },
  );

  // a refused update leaves no history: the client reports it, and the workflow records its own reason
  setHandler(refusedSignal, ({ decision, by, answer, text, signed, full }) => {
    const now =
      decision === 'approve' || decision === 'reject'
        ? checkDecision(decision, by, signed, text)
        : decision === 'promote'
          ? checkPromote(by, full, signed)
          : checkAbort(by, text ?? '', signed);
    refuse(decision, by, now.ok ? `${answer} (as the client reported it; the same decision passes the checks now)` : now.reason);
  }, { description: 'Sent by the CLI when an update was refused before it entered the history, so that the refusal is on record with the reason the release gives.' });

  setHandler(
    promoteUpdate,
    async ({ by, full, signed }) => {
      const proof = await verified('promote', by, signed, () => checkPromote(by, full, signed));
      if (full) requests.skipCanary = true;
      const what = full ? 'skipping the remaining canary steps' : (status.pausedFor ?? 'pause');
      requests.promoted = true;
      status.controls?.decisions.push({ decision: 'promote', by, at: ctx.now(), ...(full ? { full } : {}), ...(proof ? { proof } : {}) });
      // releases before signed controls keep their timeline text
      ctx.record('promoted', `promoted by ${by}: ${what}${ctx.controls ? ` (${how(proof)})` : ''}`, { ...(status.service ? { service: status.service } : {}), stage: 'canary' });
      return { promoted: what };
    },
    {
      validator: ({ by, full, signed }) => validate(() => checkPromote(by, full, signed)),
      description: 'Go on from the current pause as {by, full?, signed?}; full skips the remaining canary steps. Use `tidegate promote <release> [--full] [--key <SSH key>]`.',
    },
  );

  setHandler(calendarChangedSignal, () => void requests.calendarChanges++, { description: 'Sent by `tidegate unfreeze` to every running release: one waiting at a stage boundary checks its calendar again now.' });

  setHandler(lockFreedSignal, (service) => void requests.freedLocks.add(service), { description: 'Sent by a release this one supersedes once it has given back the lock of a service.' });

  /** Starts the abort: the pipeline is cancelled, and the release rolls back. */
  const beginAbort = (req: AbortRequest, proof?: DecisionProof): void => {
    requests.abort = req;
    if (!req.supersededBy) status.controls?.decisions.push({ decision: 'abort', by: req.by, at: ctx.now(), reason: req.reason, ...(proof ? { proof } : {}) });
    // releases before signed controls keep their timeline text
    const signedNote = ctx.controls ? ` (${how(proof)})` : '';
    ctx.record(
      req.supersededBy ? 'superseded' : 'abort-requested',
      req.supersededBy ? `superseded by ${req.supersededBy} (${req.by}${ctx.controls ? `; ${how(proof)}` : ''})` : `abort requested by ${req.by}: ${req.reason}${signedNote}`,
    );
    requests.pipelineScope?.cancel();
  };

  setHandler(abortSignal, async (req) => {
    if (requests.abort || status.outcome) return;
    if (ctx.controlsPending) {
      // the policy is being read: decide with it, not without it
      await condition(() => !ctx.controlsPending);
      if (requests.abort || status.outcome) return;
    }
    const trust = ctx.controls;
    if (!trust?.requireSigned) return beginAbort(req);
    // a release that requires signed decisions: a plain signal proves nothing, a supersede proves itself with the newer release's signed start
    if (!req.supersededBy) {
      refuse('abort', req.by, 'this release requires a signed abort: run `tidegate abort … --key <your SSH key>` (an abort signal carries no signature)');
      return;
    }
    const supersededBy = req.supersededBy;
    const proof = await verified('abort', req.by, req.startProof, () => checkSupersede(trust, { by: req.by, supersededBy }, req.startProof, { ...ctx.decisionContext(), startedAt: workflowInfo().startTime.getTime() })).catch(() => undefined);
    if (!proof || requests.abort || status.outcome) return;
    beginAbort(req, proof);
  }, { description: 'Abort as {by, reason}: the release rolls back. Accepted while no worker runs; a release that requires signed decisions refuses it (use the abort update with a signed statement), except a supersede carrying the newer release\'s signed start.' });

  if (ctx.part) {
    const parent = ctx.part.parent;
    setHandler(gateDecisionSignal, (d) => void requests.gateDecisions.set(d.service, d), { description: `Sent by ${parent}: the decision of the approval gate this cluster's release waits at.` });
    setHandler(commitSignal, () => void (requests.committed = true), { description: `Sent by ${parent} once every wave released: scale the old color down and end released.` });
    setHandler(
      clusterRollBackSignal,
      ({ reason }) => {
        // (a part rolling back already, on its own failure, has nothing more to do)
        if (requests.abort || status.outcome || status.stage === 'rollback') return;
        beginAbort({ by: parent, reason });
      },
      { description: `Sent by ${parent} when another cluster failed or the release was aborted: this cluster's release rolls back.` },
    );
  }

  setHandler(
    abortUpdate,
    async (req): Promise<AbortResponse> => {
      if (requests.abort) return { abortedBy: requests.abort.by, accepted: false };
      const proof = await verified('abort', req.by, req.signed, () => checkAbort(req.by, req.reason, req.signed));
      if (requests.abort !== undefined) return { abortedBy: (requests.abort as AbortRequest).by, accepted: false };
      beginAbort({ by: req.by, reason: req.reason }, proof);
      return { abortedBy: req.by, accepted: true };
    },
    {
      validator: ({ by, reason, signed }) => validate(() => checkAbort(by, reason, signed)),
      description: 'Abort as {by, reason, signed?}, answered at once: the release rolls back. Use `tidegate abort <release> --reason <why> [--key <SSH key>]`.',
    },
  );
}
