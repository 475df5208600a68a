// Approval rules, checked in the workflow's update validators so a refused approval is
// answered at once with its reason: who may approve or reject, and — for a signed decision — whether
// its statement is for this release, run, gate and images, now, and from a principal the worker's
// allowed signers list. The signature itself is verified by an activity after the validator.
import type { AllowedSigner } from './allowed-signers.js';
import { matchesPatternList, signersFor } from './allowed-signers.js';
import type { ApprovalSpec } from './release-spec.js';
import { checkStatement, CLOCK_SKEW_MS, MAX_STATEMENT_LIFETIME_MS, parseStatement, SIGNATURE_NAMESPACE, type Decision, type SignedStatement, type StatementService } from './statement.js';

/** The proof kept with a signed decision: enough for anyone to verify it again. */
export interface DecisionProof {
  keyType: string;
  /** SHA256:… as ssh-keygen -l prints it. */
  fingerprint: string;
  /** The canonical statement text that was signed, and the armored SSHSIG signature (or the ID token). */
  statement: string;
  signature: string;
  /** An ID token's proof (kind 'oidc'): the issuer, the key that verified it, and the person's stable id there. */
  oidc?: OidcProof;
  kind?: 'oidc';
}

/** What an OIDC-proven decision keeps: keyType is `oidc <alg>`, fingerprint `<issuer>#<kid>`. */
export interface OidcProof {
  issuer: string;
  kid: string;
  /** The token's `sub`. */
  subject: string;
  /** The issuer's public key that verified the token (JWK, public fields only). */
  jwk: Record<string, string | string[]>;
}

/** An OIDC issuer the worker trusts: its ID tokens, bound to a statement by their nonce, prove who decided. */
export interface TrustedIssuer {
  issuer: string;
  /** The client id the tokens' aud must contain. */
  audience: string;
  jwksUri?: string;
  /** The claim naming the person (default email). */
  principalClaim?: string;
  /** Whom this issuer may prove, as allowed-signers principal patterns (`*@example.com`, `!mallory@example.com`). */
  principals: string[];
}

export interface ApprovalRecord {
  by: string;
  /** ISO time (workflow time). */
  at: string;
  comment?: string;
  /** Present when the approval was signed and verified; absent: unverified (the name is self-asserted). */
  proof?: DecisionProof;
}

export interface RejectionRecord {
  by: string;
  at: string;
  reason: string;
  proof?: DecisionProof;
}

/** A promote or abort the release accepted (kept in status.controls.decisions). */
export interface ControlRecord {
  decision: Extract<Decision, 'promote' | 'abort'>;
  by: string;
  at: string;
  /** promote --full */
  full?: boolean;
  /** An abort's reason. */
  reason?: string;
  /** Present when signed and verified; absent: unverified. */
  proof?: DecisionProof;
}

/** A decision the workflow refused, kept in status (a refused update leaves no history of its own). */
export interface Refusal {
  decision: Decision;
  by: string;
  at: string;
  reason: string;
  /** The key that signed it, when it was signed. */
  fingerprint?: string;
}

/** The allowed signers and policy a gate opened with (read on the worker, recorded in history). */
export interface GateTrust {
  /** Where the worker read the list ("none": it has none), and the file's SHA-256. */
  source: string;
  sha256: string;
  signers: AllowedSigner[];
  /** The OIDC issuers the worker trusts (TIDEGATE_OIDC_ISSUERS); absent: none. */
  oidc?: TrustedIssuer[];
  /** Signatures required: the spec's approval.requireSignature or the worker's TIDEGATE_REQUIRE_SIGNED. */
  requireSigned: boolean;
}

export interface ApprovalGate {
  service: string;
  rule: ApprovalSpec;
  /** Who started the release (recorded at start). */
  initiator: string;
  open: boolean;
  approvals: ApprovalRecord[];
  rejection?: RejectionRecord;
  /** A fresh nonce per gate, which a signed decision must name (absent in releases started before signed decisions). */
  nonce?: string;
  trust?: GateTrust;
  /** Whether the gate keeps the TidegateAwaiting search attribute (releases started with it). */
  advertised?: boolean;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

function notOpen(gate: ApprovalGate | undefined, stage: string): Verdict {
  if (!gate && stage === 'approval') return { ok: false, reason: 'the approval gate is opening (the worker is reading its allowed signers): try again in a moment' };
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

/** Where a signed decision is checked: this release, run and images, at workflow time `now`. */
export interface DecisionContext {
  releaseId: string;
  runId: string;
  services: StatementService[];
  now: number;
  /** Whether the initiator's signed start was verified (the no-self-approval rule then compares with a proven name). */
  initiatorProven: boolean;
}

/** A signed decision that passed the cheap checks: the keys its signature must verify with. */
export type SignatureCheck = { ok: true; signed: false } | { ok: true; signed: true; keys: string[] } | { ok: false; reason: string };

/**
 * The signature part of an approve / reject at this gate, before its signature is verified: when
 * unsigned, allowed unless the gate requires signatures; when signed, the statement must be this
 * decision for this release, run, gate and images, valid now, signed as `by`, and `by` must have a
 * key in the gate's allowed signers. The keys returned are the ones the signature may verify with.
 *
 *   unsigned approval at a gate with requireSigned → {ok: false, reason: 'this gate requires a signed approval: …'}
 *   statement principal 'alice' sent as by 'bob'    → {ok: false, reason: 'the statement is signed as alice, not bob'}
 */
export function checkSignature(
  gate: ApprovalGate,
  decision: Extract<Decision, 'approve' | 'reject'>,
  by: string,
  signed: SignedStatement | undefined,
  ctx: DecisionContext,
  text?: string,
): SignatureCheck {
  if (!signed) {
    if (gate.trust?.requireSigned) {
      return { ok: false, reason: `this gate requires a signed ${decision === 'approve' ? 'approval' : 'rejection'}: run \`tidegate ${decision} … --key <your SSH key>\` (approval.requireSignature or the worker's TIDEGATE_REQUIRE_SIGNED)` };
    }
    return { ok: true, signed: false };
  }
  if (!gate.trust || gate.nonce === undefined) return { ok: false, reason: 'this release started before signed decisions: its gate has no nonce or allowed signers; send the decision unsigned' };
  const parsed = parseStatement(signed.statement);
  if (!parsed.ok) return parsed;
  const statement = parsed.value;
  if (statement.principal !== by) return { ok: false, reason: `the statement is signed as ${statement.principal}, not ${by}` };
  if ((statement.comment ?? '') !== (text ?? '')) {
    return { ok: false, reason: `the ${decision === 'approve' ? 'comment' : 'reason'} sent is not the one signed (${JSON.stringify(statement.comment ?? '')})` };
  }
  if (gate.trust.requireSigned && !ctx.initiatorProven) {
    return { ok: false, reason: `this gate requires signed decisions, but who started the release is not proven (its start was not signed), so self-approval cannot be ruled out: abort it and start it again with --key` };
  }
  const bound = checkStatement(statement, { decision, releaseId: ctx.releaseId, runId: ctx.runId, gate: gate.nonce, services: ctx.services, now: ctx.now });
  if (!bound.ok) return bound;
  return proofKeys(gate.trust, signed, by, ctx.now, ' as read when the gate opened');
}

/**
 * A signed `start` before its signature is verified: the statement must be a start of this release
 * and its images, signed as the initiator, valid when the release started, by a principal with a
 * key in the worker's allowed signers. The keys returned are the ones the signature may verify with.
 *
 *   a start statement signed as 'carol' for a release the client started as 'dave'
 *     → {ok: false, reason: 'the start is signed as carol, but the release was started as dave'}
 */
export function checkStart(
  signed: SignedStatement,
  trust: GateTrust,
  ctx: { releaseId: string; initiator: string; services: StatementService[]; startedAt: number },
): { ok: true; keys: string[] } | { ok: false; reason: string } {
  const parsed = parseStatement(signed.statement);
  if (!parsed.ok) return parsed;
  const statement = parsed.value;
  if (statement.principal !== ctx.initiator) return { ok: false, reason: `the start is signed as ${statement.principal}, but the release was started as ${ctx.initiator}` };
  const bound = checkStatement(statement, { decision: 'start', releaseId: ctx.releaseId, services: ctx.services, now: ctx.startedAt });
  if (!bound.ok) return bound;
  const keys = proofKeys(trust, signed, ctx.initiator, ctx.startedAt);
  return keys.ok ? { ok: true, keys: keys.signed ? keys.keys : [] } : keys;
}

/** What a promote or abort says besides its statement: an abort's reason, a promote's --full. */
export interface ControlRequest {
  decision: Extract<Decision, 'promote' | 'abort'>;
  by: string;
  signed: SignedStatement | undefined;
  /** An abort's reason (the statement's comment). */
  reason?: string;
  /** promote --full. */
  full?: boolean;
}

/**
 * The signature part of a promote or abort, before its signature is verified. `trust` is the
 * release's signing policy and allowed signers (read at its start, refreshed when a gate opens;
 * undefined for releases started before signed promote / abort). Any principal the allowed signers
 * list may promote or abort; a signed statement names this release, run and images, is valid now,
 * carries the abort's reason or the promote's --full, and counts once (`used`: statements already
 * accepted in this run).
 *
 *   unsigned abort, trust.requireSigned     → {ok: false, reason: 'this release requires a signed abort: …'}
 *   promote --full sent with a statement signed without it → {ok: false, reason: 'the statement promotes the current pause only, but the request is promote --full'}
 */
export function checkControl(trust: GateTrust | undefined, req: ControlRequest, ctx: DecisionContext, used: ReadonlySet<string>): SignatureCheck {
  const { decision, by, signed } = req;
  if (!signed) {
    if (trust?.requireSigned) return { ok: false, reason: `this release requires a signed ${decision}: run \`tidegate ${decision} … --key <your SSH key>\` (approval.requireSignature or the worker's TIDEGATE_REQUIRE_SIGNED)` };
    return { ok: true, signed: false };
  }
  if (!trust) return { ok: false, reason: `this release started before signed ${decision}s: send it without --key` };
  const parsed = parseStatement(signed.statement);
  if (!parsed.ok) return parsed;
  const statement = parsed.value;
  if (statement.principal !== by) return { ok: false, reason: `the statement is signed as ${statement.principal}, not ${by}` };
  if (decision === 'abort' && (statement.comment ?? '') !== (req.reason ?? '')) return { ok: false, reason: `the reason sent is not the one signed (${JSON.stringify(statement.comment ?? '')})` };
  if (decision === 'promote' && Boolean(statement.full) !== Boolean(req.full)) {
    const says = (full: boolean): string => (full ? 'promote --full' : 'a promote of the current pause only');
    return { ok: false, reason: `the statement is ${says(Boolean(statement.full))}, but the request is ${says(Boolean(req.full))}` };
  }
  if (used.has(signed.statement)) return { ok: false, reason: `this signed ${decision} was already used in this release: sign a new one` };
  const bound = checkStatement(statement, { decision, releaseId: ctx.releaseId, runId: ctx.runId, services: ctx.services, now: ctx.now });
  if (!bound.ok) return bound;
  return proofKeys(trust, signed, by, ctx.now);
}

/**
 * A supersede, in a release that requires signed decisions: the newer release's signed start, sent
 * with its abort signal, is what proves who asks. It must be a start of `supersededBy` naming at
 * least one service of this release, valid now, by a principal the allowed signers list.
 *
 *   a supersede signal with no signed start → {ok: false, reason: 'superseding by shop@2 needs its signed start: …'}
 */
export function checkSupersede(trust: GateTrust, supersede: { by: string; supersededBy: string }, signed: SignedStatement | undefined, ctx: DecisionContext & { startedAt: number }): SignatureCheck {
  const { supersededBy } = supersede;
  if (!signed) return { ok: false, reason: `superseding by ${supersededBy} needs its signed start: this release requires signed decisions (start ${supersededBy} with --key)` };
  if (supersededBy === ctx.releaseId) return { ok: false, reason: 'a release cannot supersede itself' };
  const parsed = parseStatement(signed.statement);
  if (!parsed.ok) return parsed;
  const st = parsed.value;
  if (st.decision !== 'start' || st.releaseId !== supersededBy) return { ok: false, reason: `the statement sent with the supersede is a "${st.decision}" of ${st.releaseId}, not the start of ${supersededBy}` };
  if (st.supersede !== true) return { ok: false, reason: `the start of ${supersededBy} was not signed as a supersede (tidegate start … --supersede --key)` };
  if (st.principal !== supersede.by) return { ok: false, reason: `the start of ${supersededBy} is signed as ${st.principal}, but the supersede was sent as ${supersede.by}` };
  const mine = new Set(ctx.services.map((s) => s.service));
  if (!st.services.some((s) => mine.has(s.service))) return { ok: false, reason: `${supersededBy} releases none of this release's services` };
  const issued = Date.parse(st.issuedAt);
  const expires = Date.parse(st.expiresAt);
  if (expires - issued > MAX_STATEMENT_LIFETIME_MS) return { ok: false, reason: `the start of ${supersededBy} is valid for ${Math.round((expires - issued) / 60_000)} min; at most ${MAX_STATEMENT_LIFETIME_MS / 60_000} min is accepted` };
  // a start signed before this release began was not signed to supersede it
  if (issued < ctx.startedAt - CLOCK_SKEW_MS) return { ok: false, reason: `the start of ${supersededBy} was signed at ${st.issuedAt}, before this release started (${new Date(ctx.startedAt).toISOString()})` };
  if (issued > ctx.now + CLOCK_SKEW_MS || expires <= ctx.now) return { ok: false, reason: `the start of ${supersededBy} is valid from ${st.issuedAt} to ${st.expiresAt}, not now (${new Date(ctx.now).toISOString()})` };
  return proofKeys(trust, signed, st.principal, ctx.now);
}

/**
 * What a signed statement's proof may verify with: `principal`'s keys valid at `now` in the allowed
 * signers, or — for an OIDC ID token — the trusted issuers whose `principals` patterns name the
 * principal (the verifying activity accepts a token only from one of them).
 */
function proofKeys(trust: GateTrust, signed: SignedStatement, principal: string, now: number, when = ''): SignatureCheck {
  if (signed.kind === 'oidc') {
    if (!trust.oidc?.length) return { ok: false, reason: 'the decision is proven by an OIDC ID token, but the worker trusts no OIDC issuer (TIDEGATE_OIDC_ISSUERS)' };
    // each issuer proves only the principals it is trusted for: the "keys" are those issuers
    const issuers = trust.oidc.filter((i) => matchesPatternList(i.principals, principal)).map((i) => i.issuer);
    if (issuers.length === 0) return { ok: false, reason: `no OIDC issuer the worker trusts may prove ${principal} (TIDEGATE_OIDC_ISSUERS principals: ${trust.oidc.map((i) => `${i.issuer} → ${i.principals.join(' ')}`).join('; ')})` };
    return { ok: true, signed: true, keys: issuers };
  }
  const keys = signersFor(trust.signers, principal, SIGNATURE_NAMESPACE, now);
  if (keys.length > 0) return { ok: true, signed: true, keys: keys.map((k) => k.key) };
  const listed = trust.source === 'none' ? 'the worker has no allowed signers (TIDEGATE_ALLOWED_SIGNERS)' : `${trust.source} (sha256 ${trust.sha256.slice(0, 12)}…)${when}`;
  return { ok: false, reason: `${principal} has no key valid now for namespace "${SIGNATURE_NAMESPACE}" in the allowed signers: ${listed}` };
}

/**
 * Who may still approve at a gate: the listed approvers who have not approved, less the initiator
 * when self-approval is not allowed (what the UI and the awaiting search attribute name).
 *
 *   approversLeft({approvers: ['alice', 'bob', 'dave'], allowSelfApproval: false, …}, [{by: 'alice', …}], 'dave') → ['bob']
 */
export function approversLeft(rule: ApprovalSpec, approvals: readonly { by: string }[], initiator: string): string[] {
  return rule.approvers.filter((a) => !approvals.some((x) => x.by === a) && (rule.allowSelfApproval || a !== initiator));
}

export function approvalsNeeded(gate: ApprovalGate): number {
  return Math.max(0, gate.rule.minApprovals - gate.approvals.length);
}

export function isApproved(gate: ApprovalGate): boolean {
  return !gate.rejection && approvalsNeeded(gate) === 0;
}
