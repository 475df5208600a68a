// The release spec as a release stores and reads it — the `spec` of the workflow input, written into
// Temporal's history and read back by every later worker — as plain interfaces of their own, part
// of the durable contract (docs/architecture.md). src/spec's zod schema must produce exactly these
// types (a compile-time check in src/spec/schema.ts), so a schema edit that would change what is
// written into history fails the typecheck instead of changing it silently: change these types on
// purpose, with `upgradeReleaseInput` (src/core/release-input.ts) reading what older releases stored.
// Durations are milliseconds.
import type { Condition } from './condition.js';
import type { AllowedWindow, Freeze } from './windows.js';

export type { AllowedWindow, Freeze };

export type Direction = 'increase' | 'decrease' | 'either';
export type OnInconclusive = 'pause' | 'rollback';

export interface ThresholdAnalysisSpec {
  kind: 'threshold';
  query: string;
  successCondition?: Condition;
  failureCondition?: Condition;
  interval: number;
  count: number;
  /** Wait after the service's last traffic change before the first measurement (default: the query's longest range window). */
  initialDelay?: number;
  failureLimit: number;
  inconclusiveLimit: number;
  /** Consecutive Errors (backend down) tolerated before the run counts as Inconclusive. */
  consecutiveErrorLimit: number;
  onInconclusive: OnInconclusive;
}

/** One metric of a compare analysis (Kayenta's canary config). */
export interface CompareMetricSpec {
  name: string;
  query: string;
  direction: Direction;
  weight: number;
  critical: boolean;
}

export interface CompareAnalysisSpec {
  kind: 'compare';
  direction: Direction;
  interval: number;
  count: number;
  initialDelay?: number;
  confidence: number;
  minEffect: number;
  passScore: number;
  marginalScore: number;
  outliers: 'keep' | 'remove';
  consecutiveErrorLimit: number;
  onInconclusive: OnInconclusive;
  /** Always at least one (a spec's `query:` shorthand is one metric named "value"). */
  metrics: CompareMetricSpec[];
}

export type AnalysisSpec = ThresholdAnalysisSpec | CompareAnalysisSpec;

export type CanaryStep = { kind: 'setWeight'; weight: number } | { kind: 'pause'; durationMs?: number } | { kind: 'analysis'; analyses: string[] };

export interface TrafficSpec {
  router: 'gateway-api' | 'istio' | 'nginx' | 'replicas';
  httpRoute?: string;
  virtualService?: string;
  /** nginx: the stable Ingress; tidegate manages `<ingress>-canary` beside it. */
  ingress?: string;
}

export interface BlueGreenSpec {
  activeService: string;
  previewService?: string;
  deploymentPrefix: string;
  colorLabel: string;
  scaleDownDelay: number;
}

export interface ApprovalSpec {
  approvers: string[];
  minApprovals: number;
  allowSelfApproval: boolean;
  timeout: number;
  onTimeout: 'rollback' | 'proceed';
  /** Every approve / reject at this gate must be signed by a key of the worker's allowed signers (input contract 2). */
  requireSignature?: boolean;
  /** With waves: one approval for the whole release (at its first wave), or one at each wave. */
  per?: 'release' | 'wave';
}

export interface ProductionSpec {
  namespace: string;
  blueGreen: BlueGreenSpec;
  rolloutTimeout: number;
  canary?: { traffic: TrafficSpec; steps: CanaryStep[] };
  approval?: ApprovalSpec;
  monitor?: { duration: number; analyses: string[] };
}

export interface StagingSpec {
  namespace: string;
  deployment: string;
  rolloutTimeout: number;
  verify: string[];
}

export interface SourceSpec {
  repo: string;
  sha: string;
}

export interface BuildSpec {
  requiredChecks: string[];
  timeout: number;
  dispatch?: { workflow: string; ref: string; inputs?: Record<string, string> };
}

/** Where a service's hooks run, in this order (see src/core/hooks.ts). */
export type HookPoint = 'beforeStaging' | 'beforeSwitch' | 'afterSwitch' | 'afterMonitor';

/**
 * What a hook does: a Kubernetes Job made from `template` (a batch/v1 JobSpec whose strings may name
 * {{release}}, {{service}}, {{version}}, {{image}}, {{namespace}}), waited for until `timeout`; or
 * an HTTP call whose 2xx answer is success (headers whose values are secrets name variables of the
 * worker's environment, never the values).
 */
export type HookAction =
  | { kind: 'job'; namespace?: string; template: Record<string, unknown>; timeout: number }
  | { kind: 'http'; url: string; method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; headers: Record<string, string>; headersFromEnv: Record<string, string>; body?: string; timeout: number };

export interface HookSpec {
  /** Unique within the service: it names the Job and the timeline's entries. */
  name: string;
  action: HookAction;
  /** Joins the saga when the hook starts: a failed, rejected or aborted release runs it in rollback. */
  undo?: HookAction;
}

export type HooksSpec = Partial<Record<HookPoint, HookSpec[]>>;

export interface ServiceSpec {
  service: string;
  image: string;
  version: string;
  staging?: StagingSpec;
  production: ProductionSpec;
  dependsOn: string[];
  hooks?: HooksSpec;
}

/**
 * When the release may move on at a stage boundary: one of the allowed windows open (none listed:
 * any time) and no freeze covering the time. The worker's calendar and a global freeze apply too.
 */
export interface WindowsSpec {
  allow: AllowedWindow[];
  freezes: Freeze[];
}

/**
 * A cluster a wave release reaches: by the name of a kubeconfig context the worker holds. The
 * credentials stay in the worker's kubeconfig; the spec (which goes into history) only names them.
 */
export interface ClusterSpec {
  name: string;
  context: string;
}

/**
 * One wave: its clusters released together, at most `maxParallel` at a time, then `bake` ms of
 * watching (durable timer) before the next wave starts. 0 means the next wave starts at once.
 */
export interface WaveSpec {
  name: string;
  clusters: string[];
  maxParallel: number;
  bake: number;
}

export interface ReleaseSpec {
  /** The service name, or the release name of a multi-service spec. */
  name: string;
  version: string;
  source?: SourceSpec;
  build?: BuildSpec;
  /** In spec order; the plan orders them by dependsOn. */
  services: ServiceSpec[];
  analyses: Record<string, AnalysisSpec>;
  windows?: WindowsSpec;
  /** A release across clusters: every service is released to each cluster, wave after wave. Both or neither. */
  clusters?: ClusterSpec[];
  waves?: WaveSpec[];
}
