// The release workflow's input as it is written into Temporal's history — a versioned interface of
// its own, part of the durable contract (docs/architecture.md) — and how an input stored by an older
// tidegate is read: every reader (the workflow, `analysis replay`) goes through upgradeReleaseInput
// instead of casting, so the shapes older releases stored are named in one place.
import type { AnalysisSpec, ClusterSpec, CompareAnalysisSpec, ReleaseSpec, ThresholdAnalysisSpec } from './release-spec.js';
import type { SignedStatement } from './statement.js';

/**
 * The newest contract version this tidegate reads. 1: the input since 0.1.0. 2: the same shape, and
 * its spec requires signed decisions (approval.requireSignature), which a worker that reads only 1
 * would not enforce — so such a release is written as 2 and an older worker refuses it instead.
 * 3: its spec has allowed windows or freezes (`windows`), which a worker that reads only 2 would
 * ignore (it would release inside a freeze); it may require signatures too.
 * 4: a service has hooks (`hooks`: a migration before the switch, say), which a worker that reads
 * only 3 would skip — it would switch traffic to code whose schema was never migrated.
 * 5: one cluster's part of a release across clusters (`parent`), which a worker that reads only 4
 * would run as a release of its own — locking, gating and acting on its current context.
 */
export const RELEASE_INPUT_CONTRACT = 5;

/** The contract a release of this spec is written with: the lowest that a worker honouring all of it reads. */
export function contractFor(spec: ReleaseSpec): 1 | 2 | 3 | 4 | 5 {
  // (a release across clusters runs as a waveRelease, which a worker reading only 4 does not have)
  if (spec.waves !== undefined) return 5;
  if (hasHooks(spec)) return 4;
  if (hasWindows(spec)) return 3;
  return requiresSignatures(spec) ? 2 : 1;
}

/** Whether the spec limits when the release may move on (allowed windows or freezes). */
export function hasWindows(spec: ReleaseSpec): boolean {
  return (spec.windows?.allow.length ?? 0) > 0 || (spec.windows?.freezes.length ?? 0) > 0;
}

/** Whether any service runs a hook at any point. */
export function hasHooks(spec: ReleaseSpec): boolean {
  return spec.services.some((s) => Object.values(s.hooks ?? {}).some((list) => (list?.length ?? 0) > 0));
}

/** Whether any service's approval gate requires signed decisions (approval.requireSignature). */
export function requiresSignatures(spec: ReleaseSpec): boolean {
  return spec.services.some((s) => s.production.approval?.requireSignature === true);
}

/**
 * One cluster's part of a release across clusters, as the parent (`waveRelease`) starts it: the
 * parent holds the locks, ran the build gate, reports to GitHub and notifies; this release acts on
 * one cluster, hands its approval gate to the parent, and once released waits for the parent to
 * commit it (the old color is scaled down then) or roll it back.
 */
export interface ClusterPart {
  /** The parent's workflow id: the release id users know. */
  parent: string;
  cluster: ClusterSpec;
  /** 0-based wave of the cluster. */
  wave: number;
}

export interface ReleaseInput {
  /** 1 to 5 (see RELEASE_INPUT_CONTRACT); absent in inputs written before the contract was versioned (read as 1). */
  contract?: 1 | 2 | 3 | 4 | 5;
  spec: ReleaseSpec;
  /** Who started the release (for the self-approval rule and the record). */
  initiator: string;
  /** Roll back a running release of the same service(s) first instead of refusing. */
  supersede: boolean;
  /** The initiator's signed `start` statement (tidegate start --key), verified when the release begins. */
  signedStart?: SignedStatement;
  /**
   * Services whose lock the client took for this release before starting it (`startMany`): the
   * release confirms it holds them instead of taking them, and gives them back even when it is
   * refused before its lock stage. Absent for a release that takes its own locks.
   */
  locksTaken?: string[];
  /** Set when this release is one cluster's part of a release across clusters (contract 5). */
  part?: ClusterPart;
}

/** What any release since 0.1.0's development commits may have stored as its input. */
export interface StoredReleaseInput {
  contract?: number;
  /** Analyses in any shape a release stored (older ones lack later fields, or are of the query era). */
  spec: Omit<ReleaseSpec, 'analyses'> & { analyses: Record<string, unknown> };
  initiator: string;
  supersede: boolean;
  signedStart?: SignedStatement;
  locksTaken?: string[];
  part?: ClusterPart;
}

export class UnsupportedInputError extends Error {}

/** A JSON object (what a stored value must be before its fields are read). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// The schema's defaults (src/spec/schema.ts), for specs recorded by a version that lacked a field.
const THRESHOLD_DEFAULTS = { interval: 30_000, count: 4, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4, onInconclusive: 'pause' } as const;
const COMPARE_DEFAULTS = {
  direction: 'increase',
  interval: 15_000,
  count: 8,
  confidence: 0.95,
  minEffect: 0.1,
  passScore: 95,
  marginalScore: 75,
  outliers: 'keep',
  consecutiveErrorLimit: 4,
  onInconclusive: 'pause',
} as const;

/**
 * An analysis as a release recorded it (the validated spec in its start input), in today's shape:
 * defaults filled in for fields added since, and a compare analysis of the `query:` era given its
 * one metric. Undefined when it is not an analysis.
 *
 *   normaliseAnalysis({kind: 'compare', query: 'q', direction: 'increase', …})
 *     → {kind: 'compare', …, metrics: [{name: 'value', query: 'q', weight: 1, critical: false, direction: 'increase'}]}
 */
export function normaliseAnalysis(raw: unknown): AnalysisSpec | undefined {
  if (!isObject(raw)) return undefined;
  if (raw.kind === 'compare') {
    const base = { ...COMPARE_DEFAULTS, ...raw } as CompareAnalysisSpec & { query?: string };
    type RecordedMetric = Partial<CompareAnalysisSpec['metrics'][number]> & { name: string; query: string };
    const metrics: RecordedMetric[] = Array.isArray(raw.metrics)
      ? (raw.metrics as RecordedMetric[])
      : [{ name: 'value', query: typeof raw.query === 'string' ? raw.query : '' }];
    const { query: _query, ...rest } = base;
    return { ...rest, metrics: metrics.map((m) => ({ ...m, weight: m.weight ?? 1, critical: m.critical ?? false, direction: m.direction ?? base.direction })) };
  }
  if (raw.kind !== undefined && raw.kind !== 'threshold') return undefined;
  return { ...THRESHOLD_DEFAULTS, ...raw, kind: 'threshold' } as ThresholdAnalysisSpec;
}

/**
 * The input as this version reads it:
 *   - contract absent or 1: as stored, each analysis through normaliseAnalysis (a compare analysis
 *     of the query era gets the one metric its query was — what the spec's `query:` shorthand
 *     produces today — and fields added since get the schema's defaults);
 *   - a later contract than this version knows is refused (a newer worker must run it).
 */
export function upgradeReleaseInput(stored: StoredReleaseInput): ReleaseInput {
  const contract = stored.contract ?? 1;
  if (contract !== 1 && contract !== 2 && contract !== 3 && contract !== 4 && contract !== 5) {
    throw new UnsupportedInputError(`release input contract ${contract} is newer than this tidegate reads (${RELEASE_INPUT_CONTRACT}): upgrade the worker`);
  }
  const analyses: ReleaseSpec['analyses'] = {};
  for (const [name, raw] of Object.entries(stored.spec.analyses ?? {})) {
    const analysis = normaliseAnalysis(raw);
    if (analysis) analyses[name] = analysis;
  }
  return { ...stored, contract, spec: { ...stored.spec, analyses } };
}
