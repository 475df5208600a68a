// The release's observable state — what `status` shows and the workflow result carries — and the
// mapping from how a release ended to the CLI's exit codes.
import type { ApprovalRecord, ControlRecord, DecisionProof, Refusal, RejectionRecord } from './approval.js';
import type { Measurement, RunPhase } from './analysis.js';
import { STAGES, type ReleasePlan, type Stage } from './plan.js';
import type { HookAction, HookPoint, ReleaseSpec, ServiceSpec } from './release-spec.js';
import { callTarget, HOOK_POINTS, renderHookValue } from './hooks.js';
import type { Color } from './snapshot.js';
import { TIMEOUT_FAILURES, type PermanentFailureType } from './failures.js';
import type { ClusterPhase } from './waves.js';

export type Outcome = 'released' | 'rolled-back' | 'rejected' | 'aborted' | 'failed';
/** Why a release did not end released. */
export type Cause = 'analysis' | 'rejected' | 'aborted' | 'superseded' | 'timeout' | 'locked' | 'unsigned' | 'error';

/**
 * Whether a release was refused at its start (its locks held by another release, or unsigned where
 * signatures are required): it changed nothing, and the one who started it is answered "refused".
 *   refusedAtStart('locked') → true;  refusedAtStart('rejected') → false
 */
export function refusedAtStart(cause: Cause | undefined): boolean {
  return cause === 'locked' || cause === 'unsigned';
}
export type StageState = 'pending' | 'running' | 'done' | 'skipped' | 'failed';

/**
 * What happened, as a stable code beside the text: tools (the CLI, the demo, benchmarks, the
 * history recorder, tests) match on codes; the text is for people and may be reworded.
 */
export const TIMELINE_CODES = [
  'release-started',
  'start-verified',
  'locked',
  'lock-broken',
  'superseding',
  'build-skipped',
  'build-waiting',
  'build-passed',
  'stage-skipped',
  'stage-started',
  'stage-done',
  'snapshot',
  'canary-weight',
  'canary-step-skipped',
  'paused',
  'window-waiting',
  'window-open',
  'analysis-delayed',
  'analysis-verdict',
  'approval-gate-opened',
  'approved',
  'rejected',
  'decision-refused',
  'approval-timed-out-proceeding',
  'promoted',
  'abort-requested',
  'superseded',
  'drift',
  'github-failed',
  'stopped',
  'rollback-step',
  'rollback-step-failed',
  'rollback-step-skipped',
  'rollback-note',
  'traffic-back',
  'scale-down-delayed',
  'scale-down-spared',
  'scaled-down',
  'notified',
  'notification-failed',
  'hook-started',
  'hook-done',
  'hook-failed',
  // a release across clusters (its parent's timeline; src/core/waves.ts writes their texts)
  'wave-started',
  'cluster-started',
  'cluster-at-gate',
  /** (a cluster's release) its parent decided the approval gate it waited at */
  'gate-decided',
  'cluster-released',
  'wave-baking',
  'wave-baked',
  'cluster-stopped',
  'cluster-undone',
  'committed',
  'release-ended',
  /** Recorded before codes existed, and matching none of the known texts (see upgradeStatus). */
  'unknown',
] as const;
export type TimelineCode = (typeof TIMELINE_CODES)[number];

export interface TimelineEntry {
  /** ISO workflow time. */
  at: string;
  service?: string;
  stage?: Stage | 'rollback' | 'release';
  code: TimelineCode;
  event: string;
  /** Rollback entries: which undo (the saga undoes traffic first). */
  undo?: 'restoreTraffic' | 'restoreWorkloads' | 'restoreStaging' | 'runHook';
}

/** Why a release waits for `promote`: a timed pause step, an indefinite one, an inconclusive analysis, traffic moved by someone else. */
export type PauseCode = 'step-pause' | 'awaiting-promote' | 'analysis-inconclusive' | 'traffic-drift' | 'unknown';

export interface Pause {
  code: PauseCode;
  service?: string;
  stage?: ReleaseStatus['stage'];
  /** 1-based canary step. */
  step?: number;
  analysis?: string;
  /** A timed pause: when it goes on by itself (ISO workflow time). */
  until?: string;
}

/** A release held at a stage boundary by its calendar (src/core/windows.ts). */
export interface WindowWait {
  service: string;
  /** The stage that waits to start. */
  stage: Stage;
  reason: string;
  /** Whose rule holds it: the global freeze (`tidegate freeze`), the spec's windows, the worker's calendar. */
  source: 'global-freeze' | 'spec' | 'worker';
  /** When every rule allows it to go on (ISO); absent while a global freeze holds, or when no window opens within weeks. */
  opensAt?: string;
  /** When it began to wait (ISO workflow time). */
  since: string;
}

export interface AnalysisRun {
  id: string;
  analysis: string;
  kind: 'threshold' | 'compare';
  service: string;
  stage: Stage;
  step?: number;
  color: Color | 'staging';
  query: string;
  phase: RunPhase;
  reason?: string;
  /** Workflow time the run began and reached its verdict. */
  startedAt?: string;
  endedAt?: string;
  measurements: Measurement[];
  /** Compare analyses: the windows, and each metric's test and verdict. */
  compare?: CompareRunSummary;
}

/** One metric of a compare analysis, as the judge saw it. */
export interface CompareMetricResult {
  name: string;
  weight: number;
  critical: boolean;
  classification: 'Pass' | 'High' | 'Low' | 'NoData';
  verdict: 'Pass' | 'Fail' | 'NoData';
  reason: string;
  pValue?: number;
  /** Hodges-Lehmann shift of the canary against the baseline, with its confidence interval. */
  shift?: { estimate: number; lower: number; upper: number };
  relativeEffect?: number;
  medians?: { canary: number; baseline: number };
}

export interface CompareRunSummary {
  /** Weighted score 0..100 (absent when every metric had no data). */
  score?: number;
  windows: Record<'canary' | 'baseline', { color: string; start: string; end: string }>;
  metrics: CompareMetricResult[];
}

export interface CompensationRecord {
  label: string;
  service: string;
  /** 'skipped': left alone because what it would undo was changed outside this release (drift). */
  status: 'pending' | 'done' | 'failed' | 'skipped';
  attempts: number;
  errors: string[];
  /** Why it was skipped, or what it spared. */
  note?: string;
}

export interface ServiceStatus {
  service: string;
  version: string;
  image: string;
  stages: Record<Stage, StageState>;
  activeColor?: Color;
  newColor?: Color;
  /** Percent of production traffic on the new color. */
  canaryWeight: number;
  step?: { index: number; label: string; total: number };
  approvals: ApprovalRecord[];
  rejection?: RejectionRecord;
  approvalsNeeded?: number;
  /** When the open approval gate times out (ISO workflow time). */
  approvalUntil?: string;
  /** The approval gate as it opened: what a signed decision must name, and whom the worker trusts. */
  gate?: GateStatus;
  /** The service's hooks in the order they run (spec `hooks:`); absent when it has none. */
  hooks?: HookStatus[];
}

/** A hook as `status` shows it: pending until its point comes, then running, done, failed or timed out. */
export interface HookStatus {
  point: HookPoint;
  name: string;
  /** `Job prod/checkout-expand-schema-1a2b3c4d`, or `POST https://…`. */
  target: string;
  state: 'pending' | 'running' | 'done' | 'failed' | 'timed-out';
  /** How it ended. */
  detail?: string;
  /** The last lines its pod logged (or of the answer's body), when it failed. */
  logTail?: string[];
  /** Whether it has an undo (which the rollback runs; see `compensations`). */
  undo: boolean;
}

export interface GateStatus {
  /** The nonce a signed approve / reject names. */
  nonce: string;
  /** Signed decisions required at this gate. */
  requireSigned: boolean;
  /** The allowed signers the worker read when the gate opened. */
  signers: { source: string; sha256: string; principals: string[] };
}

/** The signing policy promote and abort are checked with, and the ones accepted (releases started with signed controls). */
export interface ControlsStatus {
  /** Signed promote / abort required (the start's policy). */
  requireSigned: boolean;
  /** The allowed signers last read (at the start, or when a gate opened). */
  signers: { source: string; sha256: string; principals: string[] };
  decisions: ControlRecord[];
}

/**
 * Where a wave of a release across clusters stands: 'waiting' for the wave before; 'releasing' its
 * clusters; 'awaiting-approval' at its gate; 'baking' once every cluster released (until
 * `bakeUntil`); 'baked' (the next wave runs); 'released' when the whole release committed;
 * 'rolling-back' / 'rolled-back' after a failure anywhere in the release.
 */
export type WaveState = 'waiting' | 'releasing' | 'awaiting-approval' | 'baking' | 'baked' | 'released' | 'rolling-back' | 'rolled-back';

/** One wave of a release across clusters, in its parent's status (src/core/waves.ts reads it into lines). */
export interface WaveStatus {
  name: string;
  /** 0-based, in spec order. */
  index: number;
  maxParallel: number;
  /** How long the wave bakes once every cluster released; 0: the next wave starts at once. */
  bakeMs: number;
  state: WaveState;
  /** While baking: when the next wave may start (ISO workflow time). */
  bakeUntil?: string;
  /** In spec order. */
  clusters: ClusterStatus[];
}

/** Where one cluster's release (a child workflow of the parent) stands. */
export interface ClusterStatus {
  /** The spec's name of the cluster. */
  cluster: string;
  /** The kubeconfig context it is reached through. */
  context: string;
  /** The child release (`<parent>/<cluster>`), once started. */
  releaseId?: string;
  phase: ClusterPhase;
  /** In which order its child started, 0 first (the rollback undoes newest first); absent while waiting. */
  startedSeq?: number;
  /** The child's stage, as the client last read it from the running child. */
  stage?: ReleaseStatus['stage'];
  /** The child's canary step (0-based index, as ServiceStatus.step), while at the canary. */
  step?: { index: number; total: number };
  /** Percent of the cluster's production traffic on the new color. */
  canaryWeight?: number;
  /** Why it was rolled back (its own failure) or undone (another cluster's). */
  reason?: string;
}

/** What a child release's status says of its place in a release across clusters. */
export interface ClusterOfParent {
  /** The spec's name of the cluster. */
  name: string;
  context: string;
  /** 0-based wave index, as WaveStatus.index. */
  wave: number;
  /** The parent release's id. */
  parent: string;
}

export interface ReleaseStatus {
  releaseId: string;
  /** The workflow run as it started (its original run id, which a reset keeps and replay knows): a signed decision names it. Absent in statuses recorded before signed decisions. */
  runId?: string;
  name: string;
  version: string;
  initiator: string;
  /** The initiator's signed start, verified on the worker; absent: the initiator is as the client named it. */
  initiatorProof?: DecisionProof;
  startedAt: string;
  /**
   * Current stage; 'lock' while acquiring service locks, 'scale-down' while the old color stays warm, 'rollback', 'done'.
   * A release across clusters (the parent): 'waves' while its waves release, 'bake' while one bakes.
   */
  stage: Stage | 'lock' | 'scale-down' | 'rollback' | 'done' | 'waves' | 'bake';
  service?: string;
  /** Set while waiting for a human: a pause step, an inconclusive analysis (text for people). */
  pausedFor?: string;
  /** The same, as data to match on. */
  pause?: Pause;
  /** Set while the release waits at a stage boundary for its window, a freeze's end or an unfreeze. */
  waiting?: WindowWait;
  services: ServiceStatus[];
  /** A release across clusters (the parent): each wave, its clusters and where each one's release stands. */
  waves?: WaveStatus[];
  /** A release that is one cluster of a release across clusters (a child). */
  cluster?: ClusterOfParent;
  analyses: AnalysisRun[];
  compensations: CompensationRecord[];
  timeline: TimelineEntry[];
  /** Decisions refused (a bad signature, a key not allowed, a stale statement, …), newest last. */
  refusals?: Refusal[];
  /** Present in releases started with signed promote / abort: their policy and the ones accepted. */
  controls?: ControlsStatus;
  outcome?: Outcome;
  cause?: Cause;
  reason?: string;
  endedAt?: string;
}

export interface ReleaseResult {
  releaseId: string;
  outcome: Outcome;
  cause?: Cause;
  reason?: string;
  status: ReleaseStatus;
}

/**
 * How a release that did not end released closes its workflow: as a *failed* workflow execution
 * whose failure has this type and carries the full ReleaseResult as its only detail, so the Temporal
 * UI's list shows it red ("Failed") beside the green "Completed" of a released one, and
 * `ExecutionStatus = "Failed"` finds every release that did not ship. The message names the
 * outcome and cause only: the reason (numbers, names) stays in the details, which the payload codec
 * encrypts.
 *
 *   endingFailure({ outcome: 'rolled-back', cause: 'analysis' })
 *     → { type: 'ReleaseRolledBack', message: 'release rolled back (analysis); the result is in the failure details' }
 *   endingFailure({ outcome: 'rejected', cause: 'rejected' })
 *     → { type: 'ReleaseRejected', message: 'release rejected; the result is in the failure details' }
 *   endingFailure({ outcome: 'aborted', cause: 'superseded' })
 *     → { type: 'ReleaseAborted', message: 'release aborted (superseded); the result is in the failure details' }
 *   endingFailure({ outcome: 'released' }) → undefined (a released release completes)
 */
export function endingFailure(result: Pick<ReleaseResult, 'outcome' | 'cause'>): { type: EndingFailureType; message: string } | undefined {
  if (result.outcome === 'released') return undefined;
  const type = ENDING_FAILURE_TYPES[result.outcome];
  const cause = result.cause && result.cause !== result.outcome ? ` (${result.cause})` : '';
  return { type, message: `release ${result.outcome.replace('-', ' ')}${cause}; the result is in the failure details` };
}

const ENDING_FAILURE_TYPES: Record<Exclude<Outcome, 'released'>, Extract<PermanentFailureType, `Release${string}`>> = {
  'rolled-back': 'ReleaseRolledBack',
  rejected: 'ReleaseRejected',
  aborted: 'ReleaseAborted',
  failed: 'ReleaseFailed',
};

export type EndingFailureType = Extract<PermanentFailureType, `Release${string}`>;

/** Whether a workflow failure's type is one a release ends with (its details then hold the ReleaseResult). */
export function isEndingFailureType(type: string | null | undefined): type is EndingFailureType {
  return typeof type === 'string' && (Object.values(ENDING_FAILURE_TYPES) as string[]).includes(type);
}

export const EXIT_CODES = {
  released: 0,
  error: 1,
  invalid: 2,
  refused: 3,
  rolledBackByAnalysis: 10,
  rejected: 11,
  aborted: 12,
  timedOut: 13,
} as const;


/**
 * The cause of a release stopped by a failure of the given type: a rollout that did not finish
 * within its timeout, or a superseded release that did not roll back within the hour, timed out
 * (exit 13); anything else is an error (exit 1).
 *
 *   causeOfFailure('RolloutTimeout')     → 'timeout'
 *   causeOfFailure('KubernetesNotFound') → 'error'
 *   causeOfFailure(undefined)            → 'error'
 */
export function causeOfFailure(type: string | undefined): Extract<Cause, 'timeout' | 'error'> {
  return type !== undefined && (TIMEOUT_FAILURES as ReadonlySet<string>).has(type) ? 'timeout' : 'error';
}

/**
 * Exit code for `start --wait` / `status --wait`:
 *   released → 0; rolled back by analysis → 10; rejected → 11; aborted or superseded → 12;
 *   any timeout (approval, build, rollout, supersede) → 13; another release held the service → 3; anything else → 1.
 */
export function exitCodeFor(result: Pick<ReleaseResult, 'outcome' | 'cause'>): number {
  if (result.outcome === 'released') return EXIT_CODES.released;
  switch (result.cause) {
    case 'analysis':
      return EXIT_CODES.rolledBackByAnalysis;
    case 'rejected':
      return EXIT_CODES.rejected;
    case 'aborted':
    case 'superseded':
      return EXIT_CODES.aborted;
    case 'timeout':
      return EXIT_CODES.timedOut;
    case 'locked':
    case 'unsigned':
      return EXIT_CODES.refused;
    default:
      return EXIT_CODES.error;
  }
}

/**
 * The status of a release that has just started: every service of the plan, in release order, with
 * each stage pending, or skipped when the spec leaves it out (the build stage is release-wide).
 */
export function initialStatus(args: { releaseId: string; spec: ReleaseSpec; plan: ReleasePlan; initiator: string; startedAt: string }): ReleaseStatus {
  const { releaseId, spec, plan, initiator, startedAt } = args;
  const specOf = new Map(spec.services.map((s) => [s.service, s]));
  return {
    releaseId,
    name: spec.name,
    version: spec.version,
    initiator,
    startedAt,
    stage: 'lock',
    services: plan.services.map((p): ServiceStatus => {
      const svc = specOf.get(p.service);
      const state = (stage: Stage): StageState => {
        if (stage === 'build') return plan.build ? 'pending' : 'skipped';
        return p.stages.includes(stage) ? 'pending' : 'skipped';
      };
      return {
        service: p.service,
        version: svc?.version ?? spec.version,
        image: svc?.image ?? '',
        stages: Object.fromEntries(STAGES.map((stage) => [stage, state(stage)])) as Record<Stage, StageState>,
        canaryWeight: 0,
        approvals: [],
        ...(svc && hasHooksOf(svc) ? { hooks: plannedHooks(svc, releaseId) } : {}),
      };
    }),
    analyses: [],
    compensations: [],
    timeline: [],
  };
}

/**
 * The code of a timeline text recorded before entries carried codes (the texts of 0.1.0, which
 * recorded histories keep). First match wins; order matters where texts share a start.
 *
 *   legacyTimelineCode('canary weight 20% on green')   → 'canary-weight'
 *   legacyTimelineCode('rejected by bob: too slow')      → 'rejected'
 *   legacyTimelineCode('rejected: approval of checkout') → 'stopped'
 */
const LEGACY_TIMELINE: readonly (readonly [RegExp, TimelineCode])[] = [
  // a release across clusters: the texts of waveEvents (src/core/waves.ts)
  [/^wave \d+ \S+ started: /, 'wave-started'],
  [/^wave \d+ \S+ baking until /, 'wave-baking'],
  [/^wave \d+ \S+ baked /, 'wave-baked'],
  [/^cluster \S+ started: /, 'cluster-started'],
  [/^cluster \S+ at its approval gate/, 'cluster-at-gate'],
  [/^cluster \S+ released; /, 'cluster-released'],
  [/^cluster \S+ (rolled-back|rejected|aborted|failed): /, 'cluster-stopped'],
  [/^cluster \S+ undone: /, 'cluster-undone'],
  [/^committed: /, 'committed'],
  // a cluster's release (a child): what its parent decided for it
  [/^approval of \S+ given by /, 'gate-decided'],
  [/^committed by /, 'committed'],
  [/^release \S+ started by /, 'release-started'],
  [/^release (released|rolled-back|rejected|aborted|failed)\b/, 'release-ended'],
  [/^locked /, 'locked'],
  [/^breaking stale lock /, 'lock-broken'],
  [/^superseding /, 'superseding'],
  [/^superseded by /, 'superseded'],
  [/^build skipped/, 'build-skipped'],
  [/^build gate: waiting for /, 'build-waiting'],
  [/^build gate passed/, 'build-passed'],
  [/^canary step \d+ \(.*\) skipped by promote --full$/, 'canary-step-skipped'],
  [/^[a-z-]+ skipped \(not in the spec\)$/, 'stage-skipped'],
  [/^[a-z-]+ started$/, 'stage-started'],
  [/^[a-z-]+ done$/, 'stage-done'],
  [/^snapshot: /, 'snapshot'],
  [/^canary weight \d+% on /, 'canary-weight'],
  [/^paused: /, 'paused'],
  [/^[a-z-]+ of \S+ waits: /, 'window-waiting'],
  [/^[a-z-]+ of \S+ goes on: /, 'window-open'],
  [/^analysis \S+: first measurement in /, 'analysis-delayed'],
  [/^analysis \S+: (Successful|Failed|Error|Inconclusive)\b/, 'analysis-verdict'],
  [/^approval gate of \S+ open: /, 'approval-gate-opened'],
  [/^(start|approve|reject|promote|abort) by \S+ refused: /, 'decision-refused'],
  [/^start signed by \S+ /, 'start-verified'],
  [/^approved by /, 'approved'],
  [/^rejected by /, 'rejected'],
  [/; proceeding \(onTimeout: proceed\)$/, 'approval-timed-out-proceeding'],
  [/^promoted by /, 'promoted'],
  [/^abort requested by /, 'abort-requested'],
  [/^drift: /, 'drift'],
  [/^GitHub: could not /, 'github-failed'],
  [/^rollback step failed: /, 'rollback-step-failed'],
  [/^rollback: skipped "/, 'rollback-step-skipped'],
  [/^rollback: left \S+ as it is: /, 'rollback-note'],
  [/^rollback: /, 'rollback-step'],
  [/^monitor: analysis \S+ failed; /, 'traffic-back'],
  [/^(rolled-back|rejected|aborted|failed): /, 'stopped'],
  [/^keeping \S+ warm for /, 'scale-down-delayed'],
  [/^left \S+ running: /, 'scale-down-spared'],
  [/^scaled \S+ down$/, 'scaled-down'],
  [/^notified /, 'notified'],
  [/^hook \S+ \(.+\) started: /, 'hook-started'],
  [/^hook \S+ done: /, 'hook-done'],
  [/^hook \S+ (\(undo\) )?\(.+\) (failed|timed out): /, 'hook-failed'],
  [/^(notification \S+ not delivered: |the release ended with .* still being sent)/, 'notification-failed'],
];

export function legacyTimelineCode(event: string): TimelineCode {
  return LEGACY_TIMELINE.find(([pattern]) => pattern.test(event))?.[1] ?? 'unknown';
}

/**
 * The pause of a `pausedFor` text recorded before statuses carried one.
 *
 *   legacyPause('canary step 5: waiting for promote') → { code: 'awaiting-promote', stage: 'canary', step: 5 }
 *   legacyPause('canary step 2: pause 120s')          → { code: 'step-pause', stage: 'canary', step: 2 }
 */
export function legacyPause(text: string): Pause {
  const step = /^canary step (\d+): (.*)$/.exec(text);
  if (step) return { code: step[2] === 'waiting for promote' ? 'awaiting-promote' : 'step-pause', stage: 'canary', step: Number(step[1]) };
  const analysis = /^analysis (\S+) inconclusive at (?:canary step (\d+)|(\S+)) of (\S+):/.exec(text);
  if (analysis) {
    const [, name, stepNo, stage, service] = analysis;
    return {
      code: 'analysis-inconclusive',
      ...(name ? { analysis: name } : {}),
      ...(service ? { service } : {}),
      ...(stepNo ? { stage: 'canary' as const, step: Number(stepNo) } : stage ? { stage: stage as Stage } : {}),
    };
  }
  const drift = /^traffic of (\S+) changed outside this release/.exec(text);
  if (drift?.[1]) return { code: 'traffic-drift', service: drift[1] };
  return { code: 'unknown' };
}

type LegacyStatus = Omit<ReleaseStatus, 'timeline'> & { timeline: (Omit<TimelineEntry, 'code'> & { code?: TimelineCode })[] };

/**
 * A status as this version describes it, from one recorded by any release since 0.1.0: timeline
 * entries and pauses recorded before they carried codes get them from their text. The only place
 * that reads the old prose; everything else matches on codes.
 */
export function upgradeStatus(status: ReleaseStatus | LegacyStatus): ReleaseStatus {
  // a status this cannot read stays as it is, for the renderer to show what it can
  if (!status || typeof status !== 'object') return status as ReleaseStatus;
  const timeline = (Array.isArray(status.timeline) ? status.timeline : []).map((t): TimelineEntry =>
    t && typeof t === 'object' && !t.code ? { ...t, code: legacyTimelineCode(typeof t.event === 'string' ? t.event : '') } : (t as TimelineEntry),
  );
  const legacy = typeof status.pausedFor === 'string' ? legacyPause(status.pausedFor) : undefined;
  // what the old text did not say, the status did: the service and stage being released
  const pause =
    status.pause ??
    (legacy && { ...legacy, ...(legacy.service === undefined && status.service ? { service: status.service } : {}), ...(legacy.stage === undefined ? { stage: status.stage } : {}) });
  return { ...status, timeline, ...(pause ? { pause } : {}) };
}

function hasHooksOf(svc: ServiceSpec): boolean {
  return Object.values(svc.hooks ?? {}).some((l) => (l?.length ?? 0) > 0);
}

/** A service's hooks before any has run, in the order of their points. */
function plannedHooks(svc: ServiceSpec, release: string): HookStatus[] {
  const vars = { release, service: svc.service, version: svc.version, image: svc.image, namespace: svc.production.namespace };
  return HOOK_POINTS.flatMap((point) =>
    (svc.hooks?.[point] ?? []).map((h): HookStatus => ({ point, name: h.name, target: hookTarget(renderHookValue(h.action, vars), svc), state: 'pending', undo: h.undo !== undefined })),
  );
}

/** What a hook acts on, before variables are filled in: `Job <namespace> (<first image>)` or `<METHOD> <url>`. */
export function hookTarget(action: HookAction, svc: Pick<ServiceSpec, 'production'>): string {
  if (action.kind === 'http') return callTarget(action.method, action.url);
  const image = ((action.template.template as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec?.containers ?? [])[0]?.image;
  return `Job in ${action.namespace ?? svc.production.namespace}${image ? ` (${image})` : ''}`;
}
