// What one release run shares across its stages, analyses, rollback, GitHub reporting and handlers:
// the spec and plan, the status `status` shows, the saga's undo list and the traffic picture. One
// object per run, passed explicitly; no module holds state of its own.
import { condition, log, patched, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { currentDetails } from '../core/details.js';
import type { DecisionContext, GateTrust } from '../core/approval.js';
import type { ExpectedTraffic } from '../core/drift.js';
import { statementServices } from '../core/statement.js';
import type { Compensation, UndoAction } from '../core/compensation.js';
import { planRelease, type PlannedStage, type ReleasePlan } from '../core/plan.js';
import type { Color, ProductionSnapshot, ProductionTarget } from '../core/snapshot.js';
import { initialStatus, type Cause, type Outcome, type Pause, type ReleaseResult, type ReleaseStatus, type ServiceStatus, type TimelineCode, type TimelineEntry } from '../core/status.js';
import type { ReleaseSpec, ServiceSpec } from '../core/release-spec.js';
import type { ClusterPart } from '../core/release-input.js';
import type { ReleaseInput } from './definitions.js';
import { GitHubReport } from './release-github.js';
import { Requests } from './release-handlers.js';
import { OUTCOME_KEY, STAGE_KEY } from './search-attributes.js';
import { releaseEnded, releaseStarted } from './release-metrics.js';
import { Notifier } from './release-notify.js';
import { PATCHES } from './patches.js';

/** How a release stops early; thrown inside the pipeline, caught once at the top. */
export class ReleaseStop extends Error {
  constructor(
    readonly outcome: Exclude<Outcome, 'released'>,
    readonly stopCause: Cause,
    message: string,
  ) {
    super(message);
    this.name = 'ReleaseStop';
  }
}

/** How the release ended, as the result and the status carry it. */
export interface Ending {
  outcome: Outcome;
  cause?: Cause;
  reason?: string;
}

/** One service being released: what its stages share. */
export interface ServiceRun {
  readonly svc: ServiceSpec;
  readonly status: ServiceStatus;
  readonly stages: PlannedStage[];
  readonly target: ProductionTarget;
  /** Production as it was before the release. */
  readonly snapshot: ProductionSnapshot;
  readonly newColor: Color;
  /** Whether the new color is deployed (by the canary stage, or by the switch when there is none). */
  deployed: boolean;
  /** When traffic first left the old color: the end of the monitor window's baseline. */
  trafficMovedAt?: number;
}

type TimelineStage = ReleaseStatus['timeline'][number]['stage'];

export class ReleaseContext {
  readonly releaseId = workflowInfo().workflowId;
  readonly spec: ReleaseSpec;
  readonly initiator: string;
  readonly supersede: boolean;
  /** The initiator's signed start, if the client signed it (verified by stage-start.ts). */
  readonly signedStart: ReleaseInput['signedStart'];
  readonly plan: ReleasePlan;
  readonly specOf: Map<string, ServiceSpec>;
  readonly status: ReleaseStatus;
  /** The saga: the undo of every forward effect, registered before the effect. */
  readonly compensations: Compensation[] = [];
  private readonly registered = new Set<string>();
  /** Services whose lock this release holds. */
  readonly heldLocks: string[] = [];
  /** Services whose lock the client took before starting this release (see ReleaseInput.locksTaken). */
  readonly locksTaken: readonly string[];
  /** When each service's traffic last changed (`<service>/production`, `<service>/staging`): analyses wait for their window after it. */
  readonly trafficChangedAt = new Map<string, number>();
  /** Where each service's production traffic is as this release left it: the picture drift is measured against. */
  readonly expectedTraffic = new Map<string, ExpectedTraffic>();
  /** Services whose traffic undo the monitor's watch ran (done, or cut short): a half-way state is then this release's own (ownTraffic). */
  readonly trafficUndoneEarly = new Set<string>();
  /** Parts of the rollback left alone because traffic changed outside this release. */
  readonly leftAlone: string[] = [];
  /** The signing policy and allowed signers promote and abort are checked with (undefined: a release started before signed controls). */
  controls: GateTrust | undefined;
  /** True while the start reads the signing policy promote and abort are checked with. */
  controlsPending = false;
  /** What the handlers were asked (approvals, promote, abort, freed locks). */
  readonly requests = new Requests();
  readonly github: GitHubReport;
  /** Notifications (undefined: a release started before them, which notifies nobody). */
  readonly notifier: Notifier | undefined;

  /** Where a signed decision is checked now: this release, run and images, at workflow time. */
  decisionContext(): DecisionContext {
    return {
      releaseId: this.releaseId,
      runId: workflowInfo().originalExecutionRunId,
      services: statementServices(this.spec),
      now: Date.now(),
      initiatorProven: this.status.initiatorProof !== undefined,
    };
  }

  /**
   * Traffic found where this release's own next canary weight puts it is its own doing (a weight set
   * in a workflow task that then timed out), not drift: on for releases started with the patch
   * `drift-own-step`, decided in their first task (askEveryPatch), never half-way through one.
   */
  readonly ownStepRule: boolean;

  /** Set when this release is one cluster's part of a release across clusters (see ClusterPart). */
  readonly part: ClusterPart | undefined;

  /** The kubeconfig context every Kubernetes call names, spread into requests (`{}`: the worker's current context, as before clusters). */
  get inCluster(): { cluster?: string } {
    return this.part ? { cluster: this.part.cluster.context } : {};
  }

  constructor(input: ReleaseInput, patchesAtStart: ReadonlySet<string> = new Set()) {
    this.ownStepRule = patchesAtStart.has(PATCHES.driftOwnStep.id);
    this.spec = input.spec;
    this.initiator = input.initiator;
    this.supersede = input.supersede;
    this.signedStart = input.signedStart;
    this.locksTaken = input.locksTaken ?? [];
    this.part = input.part;
    this.plan = planRelease(this.spec);
    this.specOf = new Map(this.spec.services.map((s) => [s.service, s]));
    this.status = { ...initialStatus({ releaseId: this.releaseId, spec: this.spec, plan: this.plan, initiator: this.initiator, startedAt: this.now() }), runId: workflowInfo().originalExecutionRunId };
    if (input.part) this.status.cluster = { name: input.part.cluster.name, context: input.part.cluster.context, wave: input.part.wave, parent: input.part.parent };
    this.github = new GitHubReport(this);
    // (a cluster's part notifies nobody: its parent notifies for the whole release)
    this.notifier = !input.part && patched(PATCHES.notifications.id) ? new Notifier(this) : undefined;
    releaseStarted(this.spec.services.map((s) => s.service));
  }

  now(): string {
    return new Date().toISOString();
  }

  record(code: TimelineCode, event: string, extra: { service?: string; stage?: TimelineStage; undo?: TimelineEntry['undo'] } = {}): void {
    this.status.timeline.push({ at: this.now(), ...extra, code, event });
    log.info(event, { releaseId: this.releaseId, ...extra });
    this.refreshDetails();
  }

  /** The release's page in the Temporal UI (its current details) says what the status says now: not a command, so not in the history. */
  refreshDetails(): void {
    setCurrentDetails(currentDetails(this.status, this.spec));
  }

  setStage(stage: ReleaseStatus['stage']): void {
    this.status.stage = stage;
    upsertSearchAttributes([{ key: STAGE_KEY, value: stage }]);
    this.refreshDetails();
  }

  /** Registers the undo of an effect about to happen (once per key). */
  register(key: string, service: string, label: string, action: UndoAction): void {
    if (this.registered.has(key)) return;
    this.registered.add(key);
    this.compensations.push({ seq: this.compensations.length, service, label, action });
  }

  serviceStatus(service: string): ServiceStatus {
    const found = this.status.services.find((s) => s.service === service);
    if (!found) throw new Error(`unknown service ${service}`);
    return found;
  }

  /** Waits for `promote` (or the duration); a durable condition, not a sleeping activity. */
  async pause(pause: Pause, why: string, durationMs?: number): Promise<void> {
    this.requests.promoted = false;
    this.status.pausedFor = why;
    this.status.pause = durationMs === undefined ? pause : { ...pause, until: new Date(Date.now() + durationMs).toISOString() };
    this.record('paused', `paused: ${why}`);
    if (this.notifier) await this.notifier.waitNoticing(() => this.requests.promoted, durationMs, `${why} (tidegate promote ${this.releaseId})`, pause.service, why);
    else if (durationMs === undefined) await condition(() => this.requests.promoted);
    else await condition(() => this.requests.promoted, durationMs, { summary: why });
    this.status.pausedFor = undefined;
    this.status.pause = undefined;
    this.refreshDetails();
  }

  /** Records how the release ended and returns its result. */
  conclude({ outcome, cause, reason }: Ending): ReleaseResult {
    const status = this.status;
    status.outcome = outcome;
    if (cause) status.cause = cause;
    if (reason) status.reason = reason;
    status.stage = 'done';
    status.pausedFor = undefined;
    status.pause = undefined;
    status.waiting = undefined;
    status.endedAt = this.now();
    upsertSearchAttributes([
      { key: STAGE_KEY, value: 'done' },
      { key: OUTCOME_KEY, value: outcome },
    ]);
    this.record('release-ended', `release ${outcome}${reason ? `: ${reason}` : ''}`, { stage: 'release' });
    releaseEnded(this.spec.services.map((s) => s.service), outcome, cause, Date.now() - Date.parse(status.startedAt));
    return { releaseId: this.releaseId, outcome, ...(cause ? { cause } : {}), ...(reason ? { reason } : {}), status };
  }
}
