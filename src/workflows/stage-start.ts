// Before anything is touched: whom the release was started by. The worker's allowed signers and
// policy are read (so they are in the history), a signed `start` is verified — its initiator is
// then proven, which the no-self-approval rule compares approvers with — and a release that must be
// signed but is not (the spec's approval.requireSignature, or TIDEGATE_REQUIRE_SIGNED) stops here,
// refused, with nothing changed. The same policy then applies to promote and abort.
import { patched, workflowInfo } from '@temporalio/workflow';
import { checkStart } from '../core/approval.js';
import { requiresSignatures } from '../core/release-input.js';
import { SIGNATURE_NAMESPACE, statementServices } from '../core/statement.js';
import { PATCHES } from './patches.js';
import { failureMessage, signing, verification } from './release-activities.js';
import { ReleaseStop, type ReleaseContext } from './release-context.js';

export async function verifyStart(ctx: ReleaseContext): Promise<void> {
  if (!patched(PATCHES.signedStart.id)) return;
  // until the policy is read, promote and abort wait (or are refused): none is taken unchecked
  const controls = patched(PATCHES.signedControls.id);
  if (controls) ctx.controlsPending = true;
  let trust: Awaited<ReturnType<typeof signing.readSignerTrust>>;
  try {
    trust = await signing.readSignerTrust({ for: 'start' });
  } catch (err) {
    // the release fails here (a bad allowed signers file): nothing waits for a policy that will not come
    ctx.controlsPending = false;
    throw err;
  }
  const required = trust.requireSigned || requiresSignatures(ctx.spec);
  if (controls) {
    // promote and abort follow the same policy, with the allowed signers read now (and at each gate)
    ctx.controls = { ...trust, requireSigned: required };
    const principals = [...new Set(trust.signers.flatMap((s) => s.principals))];
    ctx.status.controls = { requireSigned: required, signers: { source: trust.source, sha256: trust.sha256, principals }, decisions: [] };
    ctx.controlsPending = false;
  }
  // a cluster's part was started by its parent, whose start was verified (promote and abort of the part follow the policy above)
  if (ctx.part) return;
  const signed = ctx.signedStart;
  let refusal: string | undefined;
  if (signed) {
    const checked = checkStart(signed, trust, {
      releaseId: ctx.releaseId,
      initiator: ctx.initiator,
      services: statementServices(ctx.spec),
      startedAt: workflowInfo().startTime.getTime(),
    });
    if (!checked.ok) refusal = checked.reason;
    else {
      try {
        const sig = await verification.verifyStatement({ signed, keys: checked.keys, namespace: SIGNATURE_NAMESPACE, spec: ctx.spec });
        ctx.status.initiatorProof = { ...sig, statement: signed.statement, signature: signed.signature };
        ctx.record('start-verified', `start signed by ${ctx.initiator} (${sig.keyType} ${sig.fingerprint})`, { stage: 'release' });
      } catch (err) {
        refusal = failureMessage(err);
      }
    }
    if (refusal) {
      (ctx.status.refusals ??= []).push({ decision: 'start', by: ctx.initiator, at: ctx.now(), reason: refusal });
      ctx.record('decision-refused', `start by ${ctx.initiator} refused: ${refusal}`, { stage: 'release' });
    }
  }
  if (required && !ctx.status.initiatorProof) {
    const why = refusal ? `its start signature was refused (${refusal})` : 'it was started unsigned';
    const policy = trust.requireSigned ? "the worker requires signed decisions (TIDEGATE_REQUIRE_SIGNED)" : 'its spec requires signed decisions (approval.requireSignature)';
    throw new ReleaseStop('failed', 'unsigned', `${policy} and ${why}: start it with \`tidegate start … --key <your SSH key>\``);
  }
}
