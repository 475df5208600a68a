// The client library: start a release (idempotently, one per service), approve, reject, promote,
// abort, read status, list and wait. The CLI is a thin layer over this; CI can use it directly.
import { ApplicationFailure } from '@temporalio/common';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { isClusterReleaseId, lockedMessage, lockOrder, TASK_QUEUE, releaseId as makeReleaseId, serviceLockId } from '../core/ids.js';
import { isEndingFailureType, refusedAtStart, upgradeStatus, type ReleaseResult, type ReleaseStatus } from '../core/status.js';
import type { ReleaseSpec } from '../spec/schema.js';
import { contractFor, requiresSignatures, upgradeReleaseInput, type StoredReleaseInput } from '../core/release-input.js';
import { decodePayloads } from './analysis-replay.js';
import { AesGcmCodec } from '../temporal/codec.js';
import {
  abortSignal,
  abortUpdate,
  approveUpdate,
  promoteUpdate,
  refusedSignal,
  rejectUpdate,
  statusQuery,
  unlockSignal,
  type AbortResponse,
  type ApproveResponse,
  type RefusedRequest,
  type ReleaseInput,
} from '../workflows/definitions.js';
import { canonicalJson, makeStatement, SIGNATURE_NAMESPACE, statementServices, type SignedStatement, type Statement } from '../core/statement.js';
import type { Signer } from '../signing/sign.js';
import { specDigest } from '../signing/digest.js';
import type { release } from '../workflows/release.js';
import { OUTCOME_KEY, SERVICE_KEY, STAGE_KEY, VERSION_KEY } from '../workflows/search-attributes.js';
import { InvalidInputError, RefusedError, ReleaseNotFoundError } from './errors.js';
import { describeServiceLock, lockHolder, takeServiceLock } from '../temporal/locks.js';

/** How long a signed decision is valid: long enough to send, short enough not to be replayed later. */
export const STATEMENT_VALIDITY_MS = 10 * 60_000;
/** How long abort waits for a running release's status before it falls back to the signal (no worker answers). */
const ABORT_STATUS_MS = 10_000;

/** What an abort did: `accepted` false when an abort was already under way; `queued` when sent as a signal no worker has answered yet. */
export interface AbortOutcome extends AbortResponse {
  queued: boolean;
  /** Said with a queued abort that a worker may still refuse. */
  warning?: string;
}

/** How long approve / reject wait for a gate that is opening. */
const GATE_OPENING_MS = 60_000;

/** An ISO time without milliseconds, as statements carry it. */
const isoSeconds = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

/** A statement issued now and valid for STATEMENT_VALIDITY_MS, in its canonical text, signed. */
async function signStatement(fields: Omit<Statement, 'v' | 'issuedAt' | 'expiresAt'>, signer: Signer): Promise<SignedStatement> {
  const issued = new Date();
  const text = canonicalJson(makeStatement({ ...fields, issuedAt: isoSeconds(issued), expiresAt: isoSeconds(new Date(issued.getTime() + STATEMENT_VALIDITY_MS)) }));
  return { statement: text, signature: await signer(text, SIGNATURE_NAMESPACE), ...(signer.kind ? { kind: signer.kind } : {}) };
}

/**
 * What the Temporal UI shows under a release's summary from its start: what it releases, from which
 * commit, who started it, and the digest of the spec it runs (which a signed start vouches for).
 */
export function startDetails(id: string, spec: ReleaseSpec, initiator: string, signed: boolean): string {
  const lines = [`**${id}** started by ${initiator}${signed ? ' (signed start)' : ''}`, ''];
  for (const s of spec.services) lines.push(`- **${s.service}** ${s.version} \`${s.image}\``);
  if (spec.source) lines.push('', `Source: ${spec.source.repo}@${spec.source.sha}`);
  lines.push('', `Spec sha256 ${specDigest(spec)}`, '', `Act on it: \`tidegate status ${id}\`, \`tidegate approve ${id}\`, \`tidegate abort ${id} --reason …\``);
  return lines.join('\n');
}

export interface StartOptions {
  initiator: string;
  /** Signs the start as the initiator (tidegate start --key): the release then knows who started it. */
  signer?: Signer;
  supersede?: boolean;
  /** How long start waits for the release to take its service locks (0: do not wait). */
  lockWaitMs?: number;
}

export interface Started {
  releaseId: string;
  /** False when the same release was already started (a retried start). */
  created: boolean;
  /** Set when the existing release has already ended. */
  ended?: ReleaseResult;
  /** Set by `queue` / `startMany`: the release holds its locks and its worker has not verified its start yet. */
  queued?: boolean;
}

export interface ReleaseSummary {
  releaseId: string;
  service: string;
  version: string;
  stage: string;
  outcome?: string;
  running: boolean;
  startedAt: string;
  closedAt?: string;
}

/** The locks a release of `spec` holds: each service, in each cluster of a release across clusters (lockOrder). */
const lockKeys = (spec: ReleaseSpec): string[] => lockOrder(spec.services, (spec.clusters ?? []).map((c) => c.context));

export class Releases {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string = TASK_QUEUE,
  ) {}

  private handle(id: string): WorkflowHandle<typeof release> {
    return this.client.workflow.getHandle<typeof release>(id);
  }

  /**
   * Starts the release of `spec`. Starting the same release id again returns it (CI retries are
   * safe); a release of a service that another release holds is refused, naming it, unless supersede.
   * Returns once the release holds its locks (its worker verified the start first), so a refusal at
   * the start — locked, unsigned — is this call's error.
   */
  async start(spec: ReleaseSpec, options: StartOptions): Promise<Started> {
    const prepared = await this.prepare(spec, options);
    if ('existing' in prepared) return prepared.existing;
    const { id, input } = prepared;
    try {
      await this.startRelease(id, spec, input, options);
      await this.awaitLocks(id, lockKeys(spec), options.lockWaitMs ?? 15_000);
      return { releaseId: id, created: true };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const raced = await this.existing(id);
        if (raced) return raced;
      }
      throw err;
    }
  }

  /**
   * Starts many releases, `concurrency` at a time, each as `queue` does: for CI starting a fleet,
   * where `start`'s wait for each release's worker would serialise them behind the releases already
   * running. One result per spec, in order: started (or found already started), or refused.
   */
  async startMany(specs: readonly ReleaseSpec[], options: StartOptions, concurrency = 16): Promise<Array<Started | { refused: RefusedError }>> {
    const results = new Array<Started | { refused: RefusedError }>(specs.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < specs.length; i = next++) {
        try {
          results[i] = await this.queue(specs[i]!, options);
        } catch (err) {
          if (!(err instanceof RefusedError)) throw err;
          results[i] = { refused: err };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, specs.length)) }, lane));
    return results;
  }

  /**
   * Starts a release without waiting for a worker: the client takes the service locks itself (a
   * service held by a running release is refused here, naming it) and hands them to the release,
   * which confirms them. Returns `queued`: the release holds its services, and its worker has not
   * verified the start yet — a release the worker then refuses (unsigned under
   * TIDEGATE_REQUIRE_SIGNED, a signature it does not accept) ends `failed` with that reason in its
   * status, and gives the locks back. A supersede takes the waiting path of `start`.
   */
  async queue(spec: ReleaseSpec, options: StartOptions): Promise<Started> {
    if (options.supersede) return this.start(spec, options);
    const prepared = await this.prepare(spec, options, { readLocks: false });
    if ('existing' in prepared) return prepared.existing;
    const { id, input } = prepared;
    const taken: string[] = [];
    let started = false;
    try {
      // no read of the locks first (as `start` does): taking each one answers who holds it
      for (const service of lockKeys(spec)) {
        const holder = await takeServiceLock(this.client, this.taskQueue, service, id);
        if (holder !== id) throw new RefusedError(lockedMessage(service, holder));
        taken.push(service);
      }
      await this.startRelease(id, spec, { ...input, locksTaken: taken }, options);
      started = true;
      return { releaseId: id, created: true, queued: true };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // the same release started by a retry racing this one: it holds these locks (they name it)
        const raced = await this.existing(id);
        if (raced) return raced;
      }
      throw err;
    } finally {
      if (!started && taken.length > 0 && !(await this.existing(id).catch(() => undefined))) {
        for (const service of taken) await this.giveBackLock(service, id);
      }
    }
  }

  /** Gives back a lock the client took for `holder`, a release that was then not started (the lock ignores an unlock from any other). */
  private async giveBackLock(service: string, holder: string): Promise<void> {
    await this.client.workflow
      .getHandle(serviceLockId(service))
      .signal(unlockSignal, holder)
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
  }

  /** What every start does first: the existing release if this one was started before, else its input (after the client's refusals). */
  private async prepare(spec: ReleaseSpec, options: StartOptions, { readLocks = true } = {}): Promise<{ existing: Started } | { id: string; input: ReleaseInput }> {
    const id = makeReleaseId(spec.name, spec.version);
    const existing = await this.existing(id);
    if (existing) return { existing };
    if (!options.supersede && readLocks) {
      for (const service of lockKeys(spec)) {
        const lock = await describeServiceLock(this.client, service);
        if (lock.holder && lock.holder !== id && lock.holderRunning) throw new RefusedError(lockedMessage(service, lock.holder));
      }
    }
    if (options.supersede && !options.signer) {
      // a release that requires signed decisions rolls back for a supersede only with the newer release's signed start
      for (const service of lockKeys(spec)) {
        const lock = await describeServiceLock(this.client, service);
        if (!lock.holder || lock.holder === id || !lock.holderRunning) continue;
        const held = await this.answeringStatus(lock.holder);
        if (held?.controls?.requireSigned) throw new RefusedError(`${lock.holder} requires signed decisions: supersede it with --key <your SSH key> (it rolls back only for a signed start)`);
      }
    }
    const contract = contractFor(spec);
    if (requiresSignatures(spec) && !options.signer) throw new RefusedError(`${id}'s spec requires signed decisions (approval.requireSignature): start it with --key <your SSH key>`);
    const signedStart = options.signer
      ? await signStatement({ decision: 'start', principal: options.initiator, releaseId: id, services: statementServices(spec), spec: specDigest(spec), ...(options.supersede ? { supersede: true as const } : {}) }, options.signer)
      : undefined;
    return { id, input: { contract, spec, initiator: options.initiator, supersede: options.supersede ?? false, ...(signedStart ? { signedStart } : {}) } };
  }

  private async startRelease(id: string, spec: ReleaseSpec, input: ReleaseInput, options: StartOptions): Promise<void> {
    // a release across clusters runs as its parent, which starts one release per cluster (src/workflows/waves.ts)
    await this.client.workflow.start<typeof release>(spec.waves ? 'waveRelease' : 'release', {
      workflowId: id,
      taskQueue: this.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: SERVICE_KEY, value: spec.name },
        { key: VERSION_KEY, value: spec.version },
        { key: STAGE_KEY, value: 'lock' },
      ],
      staticSummary: `release ${spec.services.map((s) => `${s.service} ${s.image}`).join(', ')}`,
      staticDetails: startDetails(id, spec, options.initiator, input.signedStart !== undefined),
    });
  }

  /**
   * Waits until the new release holds its service locks, so that a start that returns means the
   * services are taken, and a start that lost a race is refused like one that was checked first.
   * The locks are read where they are taken: each service's lock workflow names its holder in its
   * memo, set when the release starts it — the release's second workflow task, after its start is
   * verified. Every refusal at the start (locked, unsigned) comes before that, so a release holding
   * all its locks is past them; waiting for the release to leave its lock stage instead (its
   * TidegateStage) also waited for its GitHub commit status and one more task of a worker that
   * serves every running release, which made a start take seconds under load.
   * Without a worker nothing moves: start then returns after `waitMs`, the release still queued.
   */
  private async awaitLocks(id: string, services: readonly string[], waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    const held = new Set<string>();
    while (Date.now() < deadline) {
      const d = await this.handle(id).describe();
      if (d.status.name !== 'RUNNING') {
        const result = await this.result(id);
        if (result.cause === 'locked') throw new RefusedError(result.reason ?? `${id} could not take its service locks`);
        if (result.cause === 'unsigned') throw new RefusedError(result.reason ?? `${id} was refused: its start is not signed`);
        return;
      }
      const stage = d.typedSearchAttributes.get(STAGE_KEY);
      if (stage === 'done') {
        // ended, and finishing (sending its last notifications): its status says whether it was refused
        const status = await this.handle(id).query(statusQuery);
        if (refusedAtStart(status.cause)) throw new RefusedError(status.reason ?? `${id} was refused at its start`);
        return;
      }
      if (stage !== 'lock') return;
      // locks are taken in name order and kept: a service once seen held is not read again
      for (const service of services) {
        if (held.has(service)) continue;
        if ((await lockHolder(this.client, service)) !== id) break;
        held.add(service);
      }
      if (held.size === services.length) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async existing(id: string): Promise<Started | undefined> {
    try {
      const d = await this.handle(id).describe();
      if (d.status.name === 'RUNNING') return { releaseId: id, created: false };
      return { releaseId: id, created: false, ended: await this.result(id) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Approves as `by`. With a signer, the statement names this release's run, the gate open now and
   * its images, and is signed before it is sent; without one the approval is unverified.
   */
  async approve(id: string, by: string, comment?: string, signer?: Signer): Promise<ApproveResponse> {
    const status = await this.gateSettled(id);
    const signed = signer ? await this.sign(id, status, 'approve', by, comment, signer) : undefined;
    const request = { by, ...(comment ? { comment } : {}), ...(signed ? { signed } : {}) };
    return this.update(id, () => this.handle(id).executeUpdate(approveUpdate, { args: [request] }), (answer) => ({ decision: 'approve', by, answer, ...(comment ? { text: comment } : {}), ...(signed ? { signed } : {}) }));
  }

  async reject(id: string, by: string, reason: string, signer?: Signer): Promise<{ service: string }> {
    const status = await this.gateSettled(id);
    const signed = signer ? await this.sign(id, status, 'reject', by, reason, signer) : undefined;
    return this.update(id, () => this.handle(id).executeUpdate(rejectUpdate, { args: [{ by, reason, ...(signed ? { signed } : {}) }] }), (answer) => ({ decision: 'reject', by, answer, text: reason, ...(signed ? { signed } : {}) }));
  }

  /**
   * Waits (up to `GATE_OPENING_MS`) while the release is in its approval stage but its gate is still
   * opening — the worker reading its allowed signers — so that a decision sent just as the stage
   * begins meets the open gate instead of being refused. The status last read (undefined when the
   * release cannot be read: the update then says why).
   */
  private async gateSettled(id: string): Promise<ReleaseStatus | undefined> {
    const deadline = Date.now() + GATE_OPENING_MS;
    for (;;) {
      const status = await this.status(id).catch(() => undefined);
      const current = status?.services.find((s) => s.service === status.service);
      const opening = status?.stage === 'approval' && current?.stages.approval === 'running' && current.approvalsNeeded === undefined;
      if (!opening || Date.now() >= deadline) return status;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The statement for a decision at the gate open in `read` (the status just read), signed. */
  private async sign(id: string, read: ReleaseStatus | undefined, decision: 'approve' | 'reject', by: string, comment: string | undefined, signer: Signer): Promise<SignedStatement> {
    await this.requireRunning(id);
    const status = read ?? (await this.status(id));
    const open = status.stage === 'approval' ? status.services.find((s) => s.service === status.service) : undefined;
    if (!open) throw new RefusedError(`no approval gate is open: ${id} is in stage "${status.stage}"`);
    if (!status.runId) throw new RefusedError(`${id} started before signed decisions (its gate has no nonce): send the decision without --key`);
    if (!open.gate) throw new RefusedError(`the approval gate of ${open.service} is opening (the worker is reading its allowed signers): try again in a moment`);
    const fields = { decision, principal: by, releaseId: id, runId: status.runId, gate: open.gate.nonce, services: statementServices(status) };
    return signStatement({ ...fields, ...(comment ? { comment } : {}) }, signer);
  }

  /**
   * Promotes the paused release (or, with `full`, skips its remaining canary steps) as `by`. With a
   * signer the promote is signed: the statement names this release's run and images, and --full.
   */
  async promote(id: string, by: string, full = false, signer?: Signer): Promise<{ promoted: string }> {
    const signed = signer ? await this.signControl(id, 'promote', by, signer, { full }) : undefined;
    const request = { by, full, ...(signed ? { signed } : {}) };
    return this.update(id, () => this.handle(id).executeUpdate(promoteUpdate, { args: [request] }), (answer) => ({ decision: 'promote', by, answer, full, ...(signed ? { signed } : {}) }));
  }

  /**
   * Asks the release to abort (it rolls back). Releases started with signed controls take it as an
   * update, answered at once — refused with the reason when it must be signed and is not — and a
   * signer signs it. Older releases, and any release whose worker does not answer now, get the
   * `abort` signal, accepted even while no worker runs: the rollback starts when one does.
   */
  async abort(id: string, by: string, reason: string, signer?: Signer): Promise<AbortOutcome> {
    if (!reason.trim()) throw new InvalidInputError('abort needs a reason (--reason)');
    await this.requireRunning(id);
    const status = await this.answeringStatus(id);
    if (status && !status.controls) {
      if (signer) throw new RefusedError(`${id} started before signed aborts: send it without --key`);
      await this.handle(id).signal(abortSignal, { by, reason });
      return { abortedBy: by, accepted: true, queued: false };
    }
    if (!status) {
      // no worker answers: the signal waits for one — unless the release will refuse it unsigned
      const input = await this.startInput(id);
      if (signer) throw new RefusedError(`${id} does not answer (no worker is running?): a signed abort needs a worker to verify it; try again when one runs`);
      if (input && requiresSignatures(input.spec)) throw new RefusedError(`${id} does not answer (no worker is running?), and its spec requires a signed abort, which needs a worker to verify it: try again with --key when one runs`);
      await this.handle(id).signal(abortSignal, { by, reason });
      return { abortedBy: by, accepted: true, queued: true, ...(input?.signedStart ? { warning: 'the release was started signed: a worker that requires signed decisions will refuse this unsigned abort (see its status)' } : {}) };
    }
    const signed = signer ? await this.signControl(id, 'abort', by, signer, { reason, status: upgradeStatus(status) }) : undefined;
    const request = { by, reason, ...(signed ? { signed } : {}) };
    const answer = await this.update(id, () => this.handle(id).executeUpdate(abortUpdate, { args: [request] }), (refusal) => ({ decision: 'abort', by, answer: refusal, text: reason, ...(signed ? { signed } : {}) }));
    return { ...answer, queued: false };
  }

  /** A running release's status if its worker answers within ABORT_STATUS_MS, else undefined (no worker runs, or none answers now). */
  private async answeringStatus(id: string): Promise<ReleaseStatus | undefined> {
    return this.client.withDeadline(Date.now() + ABORT_STATUS_MS, () => this.handle(id).query(statusQuery)).catch(() => undefined);
  }

  /** The release's start input, read from its history (no worker needed); undefined when it cannot be read. */
  private async startInput(id: string): Promise<ReleaseInput | undefined> {
    try {
      const history = await this.handle(id).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const codec = this.client.options.loadedDataConverter.payloadCodecs.find((c): c is AesGcmCodec => c instanceof AesGcmCodec);
      return started ? upgradeReleaseInput(decodePayloads(started.input, 'start input', codec)[0] as StoredReleaseInput) : undefined;
    } catch {
      return undefined;
    }
  }

  /** A promote or abort statement for the release as it runs now, signed. */
  private async signControl(id: string, decision: 'promote' | 'abort', by: string, signer: Signer, opts: { full?: boolean; reason?: string; status?: ReleaseStatus }): Promise<SignedStatement> {
    await this.requireRunning(id);
    const status = opts.status ?? (await this.status(id));
    if (!status.runId || !status.controls) throw new RefusedError(`${id} started before signed ${decision}s: send it without --key`);
    const fields = { decision, principal: by, releaseId: id, runId: status.runId, services: statementServices(status) };
    return signStatement({ ...fields, ...(opts.reason ? { comment: opts.reason } : {}), ...(opts.full ? { full: true as const } : {}) }, signer);
  }

  /** Live status of a running release (query), or the final status of an ended one (its result). */
  async status(id: string): Promise<ReleaseStatus> {
    const d = await this.describe(id);
    if (d.status.name === 'RUNNING') return this.withClusterStages(upgradeStatus(await this.handle(id).query(statusQuery)));
    return (await this.result(id)).status;
  }

  /**
   * A release across clusters as it runs: each releasing cluster's stage, canary step and weight,
   * read from its own release (queried together). A cluster that does not answer keeps what its
   * parent knows (releasing).
   */
  private async withClusterStages(status: ReleaseStatus): Promise<ReleaseStatus> {
    const releasing = (status.waves ?? []).flatMap((w) => w.clusters).filter((c) => c.phase === 'releasing' && c.releaseId);
    await Promise.all(
      releasing.map(async (c) => {
        const part = await this.handle(c.releaseId as string)
          .query(statusQuery)
          .catch(() => undefined);
        if (!part) return;
        c.stage = part.stage;
        const svc = part.services.find((s) => s.service === part.service) ?? part.services[0];
        if (svc?.step) c.step = svc.step;
        if (svc?.canaryWeight) c.canaryWeight = svc.canaryWeight;
      }),
    );
    return status;
  }

  /** Waits for the release to end. */
  async result(id: string): Promise<ReleaseResult> {
    try {
      const result: ReleaseResult = await this.handle(id).result();
      return result && typeof result === 'object' ? { ...result, status: upgradeStatus(result.status) } : result;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ReleaseNotFoundError(id);
      // a release that did not ship ends as a failed workflow whose details are its result
      const ended = endedResult(err);
      if (ended) return { ...ended, status: upgradeStatus(ended.status) };
      throw err;
    }
  }

  async list(filter: { service?: string; running?: boolean } = {}, limit = 50): Promise<ReleaseSummary[]> {
    const clauses = [`(WorkflowType = "release" OR WorkflowType = "waveRelease")`];
    if (filter.service) clauses.push(`TidegateService = "${filter.service.replace(/"/g, '')}"`);
    if (filter.running) clauses.push(`ExecutionStatus = "Running"`);
    const out: ReleaseSummary[] = [];
    for await (const wf of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
      // a cluster's release is its parent's to show (status lists each) and to act on: listed, it
      // would fill the list by the dozen, and `abort --all` would ask each one (a cluster's release refuses, naming its parent)
      if (isClusterReleaseId(wf.workflowId)) continue;
      const sa = wf.typedSearchAttributes;
      out.push({
        releaseId: wf.workflowId,
        service: sa.get(SERVICE_KEY) ?? '',
        version: sa.get(VERSION_KEY) ?? '',
        stage: sa.get(STAGE_KEY) ?? '',
        ...(sa.get(OUTCOME_KEY) ? { outcome: sa.get(OUTCOME_KEY) } : {}),
        running: wf.status.name === 'RUNNING',
        startedAt: wf.startTime.toISOString(),
        ...(wf.closeTime ? { closedAt: wf.closeTime.toISOString() } : {}),
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  private async describe(id: string) {
    try {
      return await this.handle(id).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ReleaseNotFoundError(id);
      throw err;
    }
  }

  private async requireRunning(id: string): Promise<void> {
    const d = await this.describe(id);
    if (d.status.name !== 'RUNNING') {
      const ended = await this.result(id).catch(() => undefined);
      throw new RefusedError(`${id} has already ended${ended ? ` (${ended.outcome})` : ''}`);
    }
  }

  /**
   * Runs an update; a refusal exits 3 with the workflow's reason. A refusal by the update's validator
   * leaves no history, so `refused` (when given) reports it to the release, which records it with the
   * reason its own checks give; refusals after the validator (a bad signature) the handler recorded.
   */
  private async update<T>(id: string, call: () => Promise<T>, refused?: (answer: string) => RefusedRequest): Promise<T> {
    await this.requireRunning(id);
    try {
      return await call();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const reason = err.cause?.message ?? err.message;
        const recordedByHandler = err.cause instanceof ApplicationFailure && (err.cause.type === 'SignatureInvalid' || err.cause.type === 'SignatureVerificationUnavailable');
        if (refused && !recordedByHandler) await this.handle(id).signal(refusedSignal, refused(reason)).catch(() => undefined);
        throw new RefusedError(reason);
      }
      if (err instanceof WorkflowNotFoundError) throw new ReleaseNotFoundError(id);
      throw err;
    }
  }
}

/** The ReleaseResult a release that did not ship ended with (the failure's details), if `err` is that failure. */
function endedResult(err: unknown): ReleaseResult | undefined {
  if (!(err instanceof WorkflowFailedError) || !(err.cause instanceof ApplicationFailure) || !isEndingFailureType(err.cause.type)) return undefined;
  const [result] = err.cause.details ?? [];
  return isReleaseResult(result) ? result : undefined;
}

function isReleaseResult(value: unknown): value is ReleaseResult {
  return typeof value === 'object' && value !== null && 'outcome' in value && 'status' in value && typeof (value as { status: unknown }).status === 'object';
}
