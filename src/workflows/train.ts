// A release train: what a Temporal Schedule starts each time it fires (`tidegate schedule create`).
// It resolves the version to ship now — the newest release tag of the spec's source repository, or
// the next entry of an explicit list — and starts an ordinary release of it, with its own id
// (`<name>@<version>`), as a child that outlives the train (ParentClosePolicy ABANDON), then waits
// for it so that the schedule's overlap policy (skip) holds the next firing back while it runs. A
// version that already has a release (shipped, rolled back or running) is not started again.
import { ApplicationFailure, ChildWorkflowFailure, ParentClosePolicy, proxyActivities, startChild, workflowInfo, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { CoordinationActivities, GitHubActivities } from '../activities/types.js';
import { contractFor, type ReleaseInput } from '../core/release-input.js';
import type { ReleaseSpec } from '../core/release-spec.js';
import { isEndingFailureType, type ReleaseResult } from '../core/status.js';
import { imageFor, newestVersion, nextFromList, type VersionSource } from '../core/versions.js';
import { RETRY } from './release-activities.js';
import { release } from './release.js';
import { SERVICE_KEY, STAGE_KEY, VERSION_KEY } from './search-attributes.js';

const github = proxyActivities<Pick<GitHubActivities, 'listTags'>>({ startToCloseTimeout: '1m', retry: RETRY });
const coordination = proxyActivities<Pick<CoordinationActivities, 'releasesExisting'>>({ startToCloseTimeout: '30s', retry: RETRY });

export interface TrainInput {
  /** The schedule's id (tidegate schedule create --id), for the record. */
  schedule: string;
  /** The spec as validated when the schedule was created; its version and images are replaced. */
  spec: ReleaseSpec;
  version: VersionSource;
  /** Who created the schedule: the releases' initiator is `schedule:<schedule> (by <who>)`. */
  createdBy: string;
}

export type TrainResult =
  | { started: false; reason: string }
  | { started: true; releaseId: string; version: string; outcome: ReleaseResult['outcome']; reason?: string };

/** The spec of `version`: the version, every service's version and image tag, and the tag's commit when it came from a tag. */
export function specAt(spec: ReleaseSpec, version: string, sha?: string): ReleaseSpec {
  return {
    ...spec,
    version,
    ...(spec.source ? { source: { ...spec.source, ...(sha ? { sha } : {}) } } : {}),
    services: spec.services.map((s) => ({ ...s, version, image: imageFor(s.image, version) })),
  };
}

export async function releaseTrain(input: TrainInput): Promise<TrainResult> {
  let version: string | undefined;
  let sha: string | undefined;
  if (input.version.from === 'tags') {
    const repo = input.spec.source?.repo;
    if (!repo) return { started: false, reason: 'the spec has no source.repo to read tags from' };
    const tags = await github.listTags({ repo });
    version = newestVersion(tags.map((t) => t.name), { preReleases: input.version.preReleases ?? false });
    if (!version) return { started: false, reason: `${repo} has no release tag (vX.Y.Z or X.Y.Z) among its ${tags.length} tags` };
    const v = version;
    sha = tags.find((t) => t.name === v || t.name === `v${v}`)?.sha;
  } else {
    const ids = input.version.versions.map((v) => `${input.spec.name}@${v}`);
    const existing = new Set(await coordination.releasesExisting({ releaseIds: ids }));
    version = nextFromList(input.version.versions, new Set(input.version.versions.filter((v) => existing.has(`${input.spec.name}@${v}`))));
    if (!version) return { started: false, reason: `every version of the list has a release already (${input.version.versions.join(', ')})` };
  }
  const releaseId = `${input.spec.name}@${version}`;
  if ((await coordination.releasesExisting({ releaseIds: [releaseId] })).length > 0) return { started: false, reason: `${releaseId} has a release already: nothing new to ship` };

  const spec = specAt(input.spec, version, sha);
  const child: ReleaseInput = { contract: contractFor(spec), spec, initiator: `schedule:${input.schedule} (by ${input.createdBy})`, supersede: false };
  const handle = await startChild(release, {
    workflowId: releaseId,
    args: [child],
    taskQueue: workflowInfo().taskQueue,
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    typedSearchAttributes: [
      { key: SERVICE_KEY, value: spec.name },
      { key: VERSION_KEY, value: spec.version },
      { key: STAGE_KEY, value: 'lock' },
    ],
    staticSummary: `release ${spec.services.map((s) => `${s.service} ${s.image}`).join(', ')} (schedule ${input.schedule})`,
  });
  try {
    const result = await handle.result();
    return { started: true, releaseId, version, outcome: result.outcome, ...(result.reason ? { reason: result.reason } : {}) };
  } catch (err) {
    // a release that did not ship ends as a failed workflow carrying its result (failed-ending)
    const ending = err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure && isEndingFailureType(err.cause.type) ? (err.cause.details?.[0] as ReleaseResult | undefined) : undefined;
    return { started: true, releaseId, version, outcome: ending?.outcome ?? 'failed', reason: ending?.reason ?? (err instanceof Error ? err.message : String(err)) };
  }
}
