// `tidegate verify`: an attestation an auditor can check without trusting tidegate's worker. From a
// release's history (the server's, or a file `temporal workflow show -o json` exported) it reads
// every approve / reject / promote / abort the release accepted or refused (and every abort signal,
// a supersede's with the newer release's signed start), the allowed signers each gate opened with,
// and the statements and signatures themselves, and verifies each signature again against the
// auditor's own allowed signers file — the same check `ssh-keygen -Y verify` makes — and each OIDC
// ID token against the issuer's keys the auditor holds (a JWKS file), as of when it was accepted.
import { createHash } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { matchesPatternList, parseAllowedSigners, signersFor, type AllowedSigner } from '../core/allowed-signers.js';
import { isObject, requiresSignatures, upgradeReleaseInput, type ReleaseInput, type StoredReleaseInput } from '../core/release-input.js';
import { checkStatement, CLOCK_SKEW_MS, MAX_STATEMENT_LIFETIME_MS, parseStatement, SIGNATURE_NAMESPACE, statementServices, type SignedStatement, type Statement, type StatementService } from '../core/statement.js';
import { decodePayloads, resultPayloads } from './analysis-replay.js';
import type { AesGcmCodec } from '../temporal/codec.js';
import { specDigest } from '../signing/digest.js';
import type { ReleaseStatus } from '../core/status.js';
import type { SignerTrust } from '../activities/types.js';
import { verifySshSignature } from '../signing/sshsig.js';
import { decodeJwt, type JSONWebKeySet } from 'jose';
import { verifyIdTokenWithKeys } from '../signing/oidc.js';
import type { TrustedIssuer } from '../core/approval.js';
import { InvalidInputError } from './errors.js';

type History = temporal.api.history.v1.IHistory;

export interface VerifiedDecision {
  decision: string;
  /** Workflow time the update was accepted (ISO). */
  at: string;
  by: string;
  /** What the release did with it ('signal': an abort signal, which has no answer in the history; the release's timeline says what it did). */
  outcome: 'accepted' | 'refused' | 'pending' | 'signal';
  refusal?: string;
  signed: boolean;
  /** Signed: does the signature verify against the auditor's file, with which key. */
  signature?: { ok: boolean; keyType?: string; fingerprint?: string; reason?: string };
  /** Signed: does the statement name this release, run, gate (when known), images, decision and text, valid when accepted. */
  binding?: { ok: boolean; reason?: string; gateUnchecked?: boolean };
}

export interface GateRecord {
  /** What the list was read for: the start, or the approval gate of a service. */
  for: string;
  at: string;
  source: string;
  sha256: string;
  requireSigned: boolean;
  /** Whether the auditor's file is byte for byte the one the gate read. */
  sameAsYours: boolean;
  /** The OIDC issuers the worker trusted then. */
  issuers?: string[];
}

export interface Attestation {
  releaseId: string;
  runId: string;
  /** Who started it, and — for a signed start — whether the signature verifies against your file. */
  initiator: { principal: string; signature?: VerifiedDecision['signature'] };
  outcome?: string;
  allowedSigners: { sha256: string; keys: number };
  gates: GateRecord[];
  decisions: VerifiedDecision[];
  /** Every accepted signed decision verifies and is bound to this release; refused ones may not. */
  ok: boolean;
}

const timeOf = (e: temporal.api.history.v1.IHistoryEvent): string => {
  const t = e.eventTime;
  if (!t) return '';
  const ms = Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
};

/** What an auditor verifies with: their allowed signers, the issuers' keys they hold, and the issuers the worker recorded (for each one's audience and principal claim). */
interface AuditorTrust {
  signers: AllowedSigner[];
  jwks?: JSONWebKeySet;
  issuers: TrustedIssuer[];
}

/**
 * A signed statement checked against the auditor's trust: an SSH signature against their allowed
 * signers as of when it was issued; an ID token against the JWKS they hold, as of `at` (when the
 * decision was accepted).
 */
async function checkedSignature(signed: SignedStatement, principal: string, issuedAt: string, trust: AuditorTrust, at: string = issuedAt): Promise<NonNullable<VerifiedDecision['signature']>> {
  if (signed.kind === 'oidc') return checkedToken(signed, trust, at);
  const signers = trust.signers;
  const keys = signersFor(signers, principal, SIGNATURE_NAMESPACE, Date.parse(issuedAt)).map((k) => k.key);
  if (keys.length === 0) return { ok: false, reason: `${principal} has no key in your allowed signers` };
  const v = verifySshSignature(signed.statement, signed.signature, SIGNATURE_NAMESPACE, keys);
  return v.ok ? { ok: true, keyType: v.keyType, fingerprint: v.fingerprint } : { ok: false, reason: v.reason };
}

/** A decision as its request was sent: the text a statement must carry (comment or reason) and promote's --full. */
interface Sent {
  decision: 'approve' | 'reject' | 'promote' | 'abort';
  by: string;
  text?: string;
  full?: boolean;
  at: string;
}

/** An ID token checked offline against the issuer keys the auditor holds (--jwks), with the audience and principal claim the worker recorded for its issuer. */
async function checkedToken(signed: SignedStatement, trust: AuditorTrust, at: string): Promise<NonNullable<VerifiedDecision['signature']>> {
  if (!trust.jwks) return { ok: false, reason: "an OIDC ID token: pass --jwks FILE (the issuer's published keys you trust) to check it" };
  let iss: string | undefined;
  try {
    iss = decodeJwt(signed.signature).iss;
  } catch {
    return { ok: false, reason: 'the ID token cannot be read' };
  }
  const issuer = trust.issuers.find((i) => i.issuer === iss);
  if (!issuer) return { ok: false, reason: `the ID token's issuer ${iss ?? '(none)'} is not one the worker recorded trusting` };
  // the same scope the worker applied: an issuer proves only the principals it was trusted for
  const parsed = parseStatement(signed.statement);
  const principal = parsed.ok ? parsed.value.principal : '';
  if (!matchesPatternList(issuer.principals, principal)) return { ok: false, reason: `${issuer.issuer} was not trusted to prove ${principal} (its principals: ${issuer.principals.join(' ')})` };
  const v = await verifyIdTokenWithKeys(signed.statement, signed.signature, trust.jwks, { issuer: issuer.issuer, audience: issuer.audience, principalClaim: issuer.principalClaim ?? 'email', at: new Date(at) });
  if (!v.ok) return { ok: false, reason: v.reason };
  return { ok: true, keyType: `oidc ${v.value.alg}`, fingerprint: `${v.value.issuer}#${v.value.kid}` };
}

/** What binds an accepted decision to this release, or the first thing that does not. */
function bindingProblem(st: Statement, sent: Sent, release: { releaseId: string; runId: string; services: StatementService[]; nonces?: Set<string> }): string | undefined {
  const bound = checkStatement(st, { decision: sent.decision, releaseId: release.releaseId, ...(release.runId ? { runId: release.runId } : {}), services: release.services, now: Date.parse(sent.at) });
  if (!bound.ok) return bound.reason;
  if (st.principal !== sent.by) return `it is signed as ${st.principal}, sent as ${sent.by}`;
  if ((st.comment ?? '') !== (sent.text ?? '')) return `the text sent (${JSON.stringify(sent.text ?? '')}) is not the one signed (${JSON.stringify(st.comment ?? '')})`;
  if (sent.decision === 'promote' && Boolean(st.full) !== Boolean(sent.full)) return `it was signed ${st.full ? 'with' : 'without'} --full, sent ${sent.full ? 'with' : 'without'}`;
  const gated = sent.decision === 'approve' || sent.decision === 'reject';
  if (gated && release.nonces && (st.gate === undefined || !release.nonces.has(st.gate))) return `it names gate ${st.gate ?? '(none)'}, which this release never opened`;
  return undefined;
}

/** A supersede's proof: the newer release's start, signed as a supersede by whoever sent the signal, after this release began, naming a service of this release. */
function supersedeProblem(st: Statement, req: { by: string; supersededBy: string; at: string }, release: { releaseId: string; services: StatementService[]; startedAt: string }): string | undefined {
  const services = release.services;
  if (req.supersededBy === release.releaseId) return 'a release cannot supersede itself';
  if (st.decision !== 'start' || st.releaseId !== req.supersededBy) return `it is a "${st.decision}" of ${st.releaseId}, not the start of ${req.supersededBy}`;
  if (st.supersede !== true) return 'the start was not signed as a supersede';
  const issued = Date.parse(st.issuedAt);
  const expires = Date.parse(st.expiresAt);
  if (expires - issued > MAX_STATEMENT_LIFETIME_MS) return `it is valid for ${Math.round((expires - issued) / 60_000)} min, more than ${MAX_STATEMENT_LIFETIME_MS / 60_000}`;
  if (issued < Date.parse(release.startedAt) - CLOCK_SKEW_MS) return `it was signed at ${st.issuedAt}, before this release started (${release.startedAt})`;
  if (issued > Date.parse(req.at) + CLOCK_SKEW_MS || expires <= Date.parse(req.at)) return `it was not valid when sent (${req.at})`;
  if (st.principal !== req.by) return `it is signed as ${st.principal}, sent as ${req.by}`;
  if (!st.services.some((s) => services.some((m) => m.service === s.service))) return `${req.supersededBy} releases none of this release's services`;
  return undefined;
}

/** A decision's statement checked: its signature against your file, and what binds it here. */
async function checkedDecision(d: VerifiedDecision, signed: SignedStatement, trust: AuditorTrust, bind: (st: Statement) => string | undefined, gateUnchecked: boolean): Promise<void> {
  const parsed = parseStatement(signed.statement);
  if (!parsed.ok) {
    d.binding = { ok: false, reason: parsed.reason };
    d.signature = { ok: false, reason: 'the statement cannot be read' };
    return;
  }
  d.signature = await checkedSignature(signed, parsed.value.principal, parsed.value.issuedAt, trust, d.at);
  const wrong = bind(parsed.value);
  d.binding = wrong ? { ok: false, reason: wrong } : { ok: true, ...(gateUnchecked ? { gateUnchecked: true } : {}) };
}

/**
 * Re-verifies every decision of a release's history against `allowedSignersText` (the auditor's
 * file) and, for ID tokens, `options.jwks` (the issuer's keys the auditor trusts). Offline: the
 * history and the files are inputs.
 */
export async function attest(history: History, allowedSignersText: string, where: string, options: { jwks?: JSONWebKeySet; codec?: AesGcmCodec } = {}): Promise<Attestation> {
  const decode = (payloads: Parameters<typeof decodePayloads>[0], what?: string): unknown[] => decodePayloads(payloads, what, options.codec);
  const events = history.events ?? [];
  const started = events.find((e) => e.workflowExecutionStartedEventAttributes)?.workflowExecutionStartedEventAttributes;
  // (a release across clusters is verified on its parent: it holds the start and the approval gate)
  const type = started?.workflowType?.name;
  if (!started || (type !== 'release' && type !== 'waveRelease')) throw new InvalidInputError(`${where} is not the history of a release`);
  let input: ReleaseInput;
  try {
    input = upgradeReleaseInput(decode(started.input)[0] as StoredReleaseInput);
  } catch (err) {
    throw new InvalidInputError(`${where}: the start input cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const runId = started.originalExecutionRunId || started.firstExecutionRunId || '';
  const startedAt = events[0] ? timeOf(events[0]) : '';
  const { signers, problems } = parseAllowedSigners(allowedSignersText);
  if (problems.length > 0) throw new InvalidInputError('the allowed signers file has errors:', problems.map((p) => `line ${p.line}: ${p.message}`));
  const yours = createHash('sha256').update(allowedSignersText).digest('hex');

  // the final status (when the release ended) names each gate's nonce
  const ended = resultPayloads(events);
  const [result] = ended ? decode(ended) : [];
  const status = isObject(result) && isObject(result.status) ? (result.status as unknown as ReleaseStatus) : undefined;
  const releaseId = status?.releaseId ?? `${input.spec.name}@${input.spec.version}`;
  const release = {
    releaseId,
    runId,
    services: statementServices(input.spec),
    ...(status ? { nonces: new Set(status.services.map((s) => s.gate?.nonce).filter((n): n is string => typeof n === 'string')) } : {}),
  };

  const trustActivities = new Map(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'readSignerTrust')
      .map((e) => {
        const [what] = decode(e.activityTaskScheduledEventAttributes?.input) as [{ for?: string; service?: string } | undefined];
        return [String(e.eventId), what?.for === 'gate' ? `the approval gate of ${what.service ?? '?'}` : 'start'] as const;
      }),
  );
  // the issuers the worker trusted (each one's audience and principal claim), from every list it read
  const issuers: TrustedIssuer[] = [];
  for (const e of events) {
    const done = e.activityTaskCompletedEventAttributes;
    if (!done || !trustActivities.has(String(done.scheduledEventId))) continue;
    const [read] = decode(done.result) as [SignerTrust | undefined];
    for (const i of read?.oidc ?? []) if (!issuers.some((k) => k.issuer === i.issuer)) issuers.push(i);
  }
  const trust: AuditorTrust = { signers, issuers, ...(options.jwks ? { jwks: options.jwks } : {}) };
  const gates: GateRecord[] = [];
  const decisions: VerifiedDecision[] = [];
  const byUpdate = new Map<string, VerifiedDecision>();
  for (const e of events) {
    const done = e.activityTaskCompletedEventAttributes;
    const label = done ? trustActivities.get(String(done.scheduledEventId)) : undefined;
    if (done && label) {
      const [trust] = decode(done.result) as [SignerTrust | undefined];
      if (trust) {
        gates.push({
          for: label,
          at: timeOf(e),
          source: trust.source,
          sha256: trust.sha256,
          requireSigned: trust.requireSigned || requiresSignatures(input.spec),
          sameAsYours: trust.sha256 === yours,
          ...(trust.oidc?.length ? { issuers: trust.oidc.map((i) => i.issuer) } : {}),
        });
      }
    }
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    const name = accepted?.acceptedRequest?.input?.name;
    if (accepted && (name === 'approve' || name === 'reject' || name === 'promote' || name === 'abort')) {
      const [request] = decode(accepted.acceptedRequest?.input?.args) as [{ by?: string; comment?: string; reason?: string; full?: boolean; signed?: SignedStatement } | undefined];
      const d: VerifiedDecision = { decision: name, at: timeOf(e), by: request?.by ?? '?', outcome: 'pending', signed: Boolean(request?.signed) };
      if (request?.signed) {
        const text = name === 'approve' ? request.comment : name === 'promote' ? undefined : (request.reason ?? '');
        const sent: Sent = { decision: name, by: d.by, at: d.at, ...(text ? { text } : {}), ...(request.full ? { full: true } : {}) };
        await checkedDecision(d, request.signed, trust, (st) => bindingProblem(st, sent, release), !status && (name === 'approve' || name === 'reject'));
      }
      decisions.push(d);
      byUpdate.set(accepted.acceptedRequest?.meta?.updateId ?? accepted.protocolInstanceId ?? '', d);
    }
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === 'abort') {
      const [request] = decode(signal.input) as [{ by?: string; reason?: string; supersededBy?: string; startProof?: SignedStatement } | undefined];
      const d: VerifiedDecision = { decision: request?.supersededBy ? 'supersede' : 'abort', at: timeOf(e), by: request?.by ?? '?', outcome: 'signal', signed: Boolean(request?.startProof) };
      const supersededBy = request?.supersededBy;
      if (request?.startProof && supersededBy) await checkedDecision(d, request.startProof, trust, (st) => supersedeProblem(st, { by: d.by, supersededBy, at: d.at }, { ...release, startedAt }), false);
      // a signal has no answer in the history: the final status says whether the release took it
      if (status) {
        const took = status.timeline.some((t) => (supersededBy ? t.event.startsWith(`superseded by ${supersededBy} (${d.by}`) : t.event.startsWith(`abort requested by ${d.by}: ${request?.reason ?? ''}`)));
        d.outcome = took ? 'accepted' : 'refused';
        if (!took) d.refusal = (status.refusals ?? []).find((r) => r.decision === 'abort' && r.by === d.by)?.reason ?? 'not taken (an abort was already under way, or the release had ended)';
      }
      decisions.push(d);
    }
    const completedUpdate = e.workflowExecutionUpdateCompletedEventAttributes;
    const d = completedUpdate ? byUpdate.get(completedUpdate.meta?.updateId ?? '') : undefined;
    if (completedUpdate && d) {
      const failure = completedUpdate.outcome?.failure;
      d.outcome = failure ? 'refused' : 'accepted';
      if (failure) d.refusal = failure.message ?? '';
    }
  }
  const startSignature = input.signedStart ? await checkedStart(input, releaseId, trust) : undefined;
  // where the release required signed decisions, an accepted unsigned one is a failure too (not to be taken on tidegate's word)
  const required = gates.some((g) => g.requireSigned);
  const controlsSigned = status?.controls !== undefined;
  for (const d of decisions) {
    const covered = d.decision === 'approve' || d.decision === 'reject' || controlsSigned;
    if (d.outcome === 'accepted' && !d.signed && required && covered) d.signature = { ok: false, reason: 'unsigned, though the release required signed decisions' };
  }
  const ok =
    decisions.filter((d) => d.outcome === 'accepted' && (d.signed || d.signature)).every((d) => d.signature?.ok && (d.binding?.ok ?? !d.signed)) && (startSignature === undefined || startSignature.ok);
  return { releaseId, runId, initiator: { principal: input.initiator, ...(startSignature ? { signature: startSignature } : {}) }, ...(status?.outcome ? { outcome: status.outcome } : {}), allowedSigners: { sha256: yours, keys: signers.length }, gates, decisions, ok };
}

/** The signed start, verified against your file as of when it was issued, and for the spec the release ran. */
async function checkedStart(input: ReleaseInput, releaseId: string, trust: AuditorTrust): Promise<NonNullable<VerifiedDecision['signature']>> {
  const signed = input.signedStart;
  if (!signed) return { ok: false, reason: 'the start is not signed' };
  const parsed = parseStatement(signed.statement);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const st = parsed.value;
  const signature = await checkedSignature(signed, st.principal, st.issuedAt, trust);
  if (!signature.ok) return signature;
  if (st.principal !== input.initiator || st.decision !== 'start' || st.releaseId !== releaseId) return { ok: false, reason: `the statement is a "${st.decision}" of ${st.releaseId} as ${st.principal}` };
  const runs = specDigest(input.spec);
  if (st.spec !== runs) return { ok: false, reason: `it was signed for another spec than the one the release ran (sha256 ${runs.slice(0, 12)}…)` };
  return signature;
}

/** The attestation for people: the chain of decisions, one line each. */
export function renderAttestation(a: Attestation): string {
  const lines = [`${a.releaseId} run ${a.runId}${a.outcome ? ` — ${a.outcome}` : ' — still running'}`];
  const start = a.initiator.signature;
  lines.push(
    `  started by ${a.initiator.principal} ${
      !start ? '(unsigned: the initiator is as the client named it)' : start.ok ? `signed ${start.keyType} ${start.fingerprint}: signature good` : `signature BAD: ${start.reason}`
    }`,
  );
  lines.push(`  your allowed signers: sha256 ${a.allowedSigners.sha256.slice(0, 16)}…, ${a.allowedSigners.keys} keys`);
  for (const g of a.gates) {
    lines.push(`  ${g.at}  allowed signers read for ${g.for}: ${g.requireSigned ? 'signatures required' : 'signatures optional'}; signers ${g.source} sha256 ${g.sha256.slice(0, 16) || '-'}… (${g.sameAsYours ? 'the same file as yours' : 'NOT the file you gave'})${g.issuers ? `; OIDC issuers ${g.issuers.join(', ')}` : ''}`);
  }
  for (const d of a.decisions) {
    const who = `${d.decision.padEnd(7)} by ${d.by}`;
    const sig = !d.signed
      ? d.signature && !d.signature.ok
        ? `unsigned — BAD: ${d.signature.reason}`
        : 'unsigned (unverified)'
      : d.signature?.ok
        ? `signed ${d.signature.keyType} ${d.signature.fingerprint}: signature good${
            d.binding?.ok
              ? d.decision === 'supersede'
                ? ', the newer release\'s start'
                : `, bound to this release, run${d.binding.gateUnchecked ? ' (the gate is unchecked: the release has not ended)' : d.decision === 'approve' || d.decision === 'reject' ? ' and gate' : ''}`
              : `, but ${d.binding?.reason}`
          }`
        : `signature BAD: ${d.signature?.reason}`;
    const outcome = d.outcome === 'accepted' ? 'accepted' : d.outcome === 'refused' ? `refused by the release: ${d.refusal}` : d.outcome === 'signal' ? 'sent as a signal (the timeline says what the release did)' : 'pending';
    lines.push(`  ${d.at}  ${who}  ${sig}  → ${outcome}`);
  }
  if (a.decisions.length === 0) lines.push('  no approve / reject / promote / abort was sent');
  lines.push(
    a.ok
      ? 'every accepted signed decision verifies against your allowed signers (and, for ID tokens, the issuer keys you gave)'
      : 'VERIFICATION FAILED: a signed start or an accepted signed decision does not verify against your allowed signers (or, for ID tokens, the issuer keys you gave)',
  );
  return lines.join('\n');
}
