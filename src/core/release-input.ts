// The release workflow's input as it is written into Temporal's history — a versioned interface of
// its own, part of the durable contract (docs/architecture.md) — and how an input stored by an older
// tidegate is read: every reader (the workflow, `analysis replay`) goes through upgradeReleaseInput
// instead of casting, so the shapes older releases stored are named in one place.
import type { CompareAnalysisSpec, CompareMetricSpec, ReleaseSpec } from './release-spec.js';

/** The contract version new releases write into their input. */
export const RELEASE_INPUT_CONTRACT = 1;

export interface ReleaseInput {
  /** 1; absent in inputs written before the contract was versioned (read as 1). */
  contract?: typeof RELEASE_INPUT_CONTRACT;
  spec: ReleaseSpec;
  /** Who started the release (for the self-approval rule and the record). */
  initiator: string;
  /** Roll back a running release of the same service(s) first instead of refusing. */
  supersede: boolean;
}

/** A compare analysis as releases stored it before compare analyses had `metrics`: one `query`. */
export type StoredCompareAnalysis = Omit<CompareAnalysisSpec, 'metrics'> & { metrics?: CompareMetricSpec[]; query?: string };

/** What any release since 0.1.0's development commits may have stored as its input. */
export interface StoredReleaseInput {
  contract?: number;
  spec: Omit<ReleaseSpec, 'analyses'> & { analyses: Record<string, ReleaseSpec['analyses'][string] | StoredCompareAnalysis> };
  initiator: string;
  supersede: boolean;
}

export class UnsupportedInputError extends Error {}

/**
 * The input as this version reads it:
 *   - contract absent or 1: as stored;
 *   - a compare analysis with `query` and no `metrics` (the query era) gets the one metric its query
 *     was: `{name: 'value', query, direction: the analysis's, weight: 1, critical: false}` — exactly
 *     what the spec's `query:` shorthand produces today, so the workflow measures the same query;
 *   - a later contract than this version knows is refused (a newer worker must run it).
 */
export function upgradeReleaseInput(stored: StoredReleaseInput): ReleaseInput {
  const contract = stored.contract ?? RELEASE_INPUT_CONTRACT;
  if (contract !== RELEASE_INPUT_CONTRACT) {
    throw new UnsupportedInputError(`release input contract ${contract} is newer than this tidegate reads (${RELEASE_INPUT_CONTRACT}): upgrade the worker`);
  }
  const analyses = Object.fromEntries(
    Object.entries(stored.spec.analyses ?? {}).map(([name, a]) => {
      if (a.kind !== 'compare' || a.metrics) return [name, a];
      const { query, ...rest } = a as StoredCompareAnalysis;
      return [name, { ...rest, metrics: [{ name: 'value', query: query ?? '', direction: rest.direction, weight: 1, critical: false }] }];
    }),
  ) as ReleaseSpec['analyses'];
  return { ...stored, contract: RELEASE_INPUT_CONTRACT, spec: { ...stored.spec, analyses } };
}
