// Keeps the patch list (src/workflows/patches.ts) true to the code and the fixtures: every
// patched()/deprecatePatch() call in src/workflows names a listed patch and every listed patch is
// called; every fixture it lists exists; a `new` fixture carries the patch's marker (and every
// fixture that carries it is listed), an `old` one lacks it yet reaches the code the patch guards —
// so the replay test (test/replay/histories.test.ts) runs both branches of every patch.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { longestWindowMs } from '../../src/core/promql.js';
import { PATCHES, type PatchId } from '../../src/workflows/patches.js';
import { historiesDir, historyFiles, loadRecorded, type Recorded } from '../cli/support/recorded.js';

const workflowsDir = fileURLToPath(new URL('../../src/workflows/', import.meta.url));
const patches = Object.entries(PATCHES).map(([key, p]) => ({ key, ...p }));
const ids: string[] = patches.map((p) => p.id);

/** The ids passed to patched()/deprecatePatch() in the workflow code: a PATCHES.<key>.id or a string literal. */
function patchCalls(): { file: string; arg: string; id: string | undefined }[] {
  const calls: { file: string; arg: string; id: string | undefined }[] = [];
  for (const file of readdirSync(workflowsDir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(`${workflowsDir}${file}`, 'utf8');
    // patchesAtStart.has(…): a patch read from the answers of a release's first task (askEveryPatch), never asked later
    for (const [, arg = ''] of source.matchAll(/\b(?:patched|deprecatePatch|patchesAtStart\.has)\(\s*([^)]*?)\s*\)/g)) {
      if (arg === '') continue; // "patched()" in a comment
      if (file === 'release-activities.ts' && arg === 'patch.id') continue; // askEveryPatch: every listed patch, at a release's start
      const byKey = /^PATCHES\.(\w+)\.id$/.exec(arg)?.[1];
      const literal = /^(['"`])([^'"`]+)\1$/.exec(arg)?.[2];
      const id = byKey !== undefined ? patches.find((p) => p.key === byKey)?.id : literal;
      calls.push({ file, arg, id });
    }
  }
  return calls;
}

type Event = temporal.api.history.v1.IHistoryEvent;
const events = (r: Recorded): Event[] => r.history.events ?? [];

/** The patch ids in a history's core_patch markers. */
const markers = (r: Recorded): Set<string> => patchIds(events(r));

/** The patch ids in these events' core_patch markers. */
function patchIds(evs: Event[]): Set<string> {
  const found = new Set<string>();
  for (const e of evs) {
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName !== 'core_patch') continue;
    for (const payload of m.details?.['patch-data']?.payloads ?? []) found.add(defaultPayloadConverter.fromPayload<{ id: string }>(payload).id);
  }
  return found;
}

/** The local activities of this type a history recorded (core_local_activity markers), as their markers' details. */
function localRuns(r: Recorded, name: string): NonNullable<Event['markerRecordedEventAttributes']>['details'][] {
  return events(r)
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_local_activity')
    .filter((m) => (m?.details?.data?.payloads ?? []).some((p) => defaultPayloadConverter.fromPayload<{ activity_type?: string }>(p).activity_type === name))
    .map((m) => m?.details);
}

/** How many times each activity was scheduled, or run as a local activity. */
function scheduled(r: Recorded, name: string): number {
  return events(r).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).length + localRuns(r, name).length;
}

/** The results of every completed activity (or local activity) of this type, decoded. */
function activityResults(r: Recorded, name: string): unknown[] {
  const ofType = new Set(events(r).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).map((e) => String(e.eventId)));
  return [
    ...events(r)
      .map((e) => e.activityTaskCompletedEventAttributes)
      .filter((a) => a && ofType.has(String(a.scheduledEventId)))
      .flatMap((a) => a?.result?.payloads ?? []),
    ...localRuns(r, name).flatMap((d) => d?.result?.payloads ?? []),
  ].map((p) => defaultPayloadConverter.fromPayload<unknown>(p));
}

/**
 * Whether a history reaches the code a patch guards, i.e. would call patched() there (as far as the
 * recorded input, activities and status tell). With the marker, the new branch ran; without it, the old.
 */
const reachesGuardedCode: Record<PatchId, (r: Recorded) => boolean> = {
  // reportsToGitHub is decided once, for any spec with a source
  'github-reporting': (r) => r.input.spec.source !== undefined,
  // every traffic step and every production undo comes after the snapshot that sets the expected traffic
  'drift-guard': (r) => ['setCanaryWeight', 'switchActive', 'scaleDeployment', 'restoreTraffic', 'restoreWorkloads'].some((a) => scheduled(r, a) > 0),
  // runAnalyses ran: some analysis run is in the status
  'analysis-fail-fast': (r) => r.result.status.analyses.length > 0,
  // runAnalysis reached the judge of a compare analysis
  'compare-judge': (r) => r.result.status.analyses.some((a) => a.kind === 'compare' && a.reason !== 'cut short: another analysis of this step decided the rollback'),
  // a measured value arrived as null (a NaN an older worker sent as a bare number)
  'nan-inconclusive': (r) =>
    activityResults(r, 'measure').some((batch) => Array.isArray(batch) && batch.some((o: { observation?: { kind?: string; value?: unknown } }) => o.observation?.kind === 'value' && o.observation.value === null)),
  // a canary analysis started while its query's window still held traffic from before the last weight change
  'analysis-initial-delay': (r) => {
    const { timeline, analyses } = r.result.status;
    return analyses.some((run) => {
      const spec = r.input.spec.analyses[run.analysis];
      if (run.stage !== 'canary' || !spec || run.startedAt === undefined) return false;
      // (compare specs recorded before the compare judge carry `query`, not `metrics`)
      const queries = spec.kind === 'threshold' ? [spec.query] : ((spec.metrics as typeof spec.metrics | undefined) ?? []).map((m) => m.query);
      const windowMs = spec.initialDelay ?? longestWindowMs(queries);
      const started = Date.parse(run.startedAt);
      const lastChange = timeline.filter((t) => t.service === run.service && /^canary weight \d+% on /.test(t.event) && Date.parse(t.at) <= started).at(-1);
      return lastChange !== undefined && started - Date.parse(lastChange.at) < windowMs;
    });
  },
  // every release reaches its start (before the locks)
  'signed-start': (r) => r.result.status.timeline.length > 0,
  // the start was checked (signed-start), where signed controls are decided
  'signed-controls': (r) => markers(r).has('signed-start'),
  // an approval gate opened (and waited: a gate timed out or decided by the handlers)
  'awaiting-approval': (r) => r.result.status.timeline.some((t) => t.event === 'approval started'),
  // the first activation of every release asks (its start runs through the interceptors)
  'otel-tracing': () => true,
  // every release asks once, when its context is built
  notifications: () => true,
  // the release ended without shipping (the patch is asked only then, as the workflow ends)
  'failed-ending': (r) => r.result.outcome !== 'released',
  // an approval gate opened
  'signed-decisions': (r) => r.result.status.timeline.some((t) => t.event === 'approval started'),
  // a staging, canary or switch stage was about to start (the calendar is checked before each)
  'release-calendar': (r) => r.result.status.timeline.some((t) => (t.code === 'stage-started' || t.event.endsWith(' started')) && ['staging', 'canary', 'switch'].includes(t.stage ?? '')),
  // a threshold analysis of the monitor window started measuring
  'monitor-watch': (r) => r.result.status.analyses.some((a) => a.stage === 'monitor' && a.kind === 'threshold' && a.measurements.length > 0),
  // the release took its snapshot (every release asks once, right after it)
  'hook-stages': (r) => r.result.status.timeline.some((t) => t.event.startsWith('snapshot: ')),
  // the build gate ran for a spec that dispatches a workflow
  // the release read production (its first cheap call, right after the build gate)
  'local-calls': (r) => scheduled(r, 'snapshotProduction') > 0,
  // every release with local activities asks in its first task; others only when traffic is already at a weight about to be set
  'drift-own-step': (r) => markers(r).has('local-calls'),
  'build-dispatch': (r) => r.input.spec.build?.dispatch !== undefined && r.result.status.timeline.some((t) => t.event.startsWith('build gate: waiting for')),
};

test('every patched()/deprecatePatch() call in src/workflows names a listed patch, and every listed patch is called', () => {
  const calls = patchCalls();
  expect(calls.filter((c) => c.id === undefined || !ids.includes(c.id))).toEqual([]);
  expect(ids.filter((id) => !calls.some((c) => c.id === id))).toEqual([]);
  expect(new Set(ids).size).toBe(ids.length);
  expect(Object.keys(reachesGuardedCode).sort()).toEqual([...ids].sort());
});

const files = historyFiles();
const recorded = new Map(files.map((f) => [f.replace(/\.json$/, ''), loadRecorded(f)]));

test('a release with local activities records every patch marker in its first workflow task, before any local activity', () => {
  const withLocalCalls = [...recorded].filter(([, r]) => markers(r).has(PATCHES.localCalls.id));
  expect(withLocalCalls.length).toBeGreaterThan(0);
  for (const [name, r] of withLocalCalls) {
    const evs = events(r);
    const firstCompleted = evs.findIndex((e) => e.workflowTaskCompletedEventAttributes);
    const firstTask = evs.slice(firstCompleted + 1, evs.findIndex((e, i) => i > firstCompleted && e.workflowTaskScheduledEventAttributes));
    const patchesFirst = patchIds(firstTask);
    const firstLocal = evs.findIndex((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    const lastPatch = evs.map((e) => e.markerRecordedEventAttributes?.markerName).lastIndexOf('core_patch');
    // (every patch the release asked: one added after it was recorded is not in its history at all)
    expect({ name, missing: ids.filter((id) => markers(r).has(id) && !patchesFirst.has(id)), patchAfterLocal: firstLocal >= 0 && lastPatch > firstLocal }).toEqual({ name, missing: [], patchAfterLocal: false });
  }
});

describe.each(patches)('$id', (patch) => {
  test('lists at least one fixture of each branch, and every listed fixture exists', () => {
    expect(patch.fixtures.new.length).toBeGreaterThan(0);
    expect(patch.fixtures.old.length).toBeGreaterThan(0);
    const missing = [...patch.fixtures.new, ...patch.fixtures.old].filter((name) => !recorded.has(name));
    expect({ dir: historiesDir, missing }).toEqual({ dir: historiesDir, missing: [] });
  });

  test('the new-branch fixtures are exactly those whose history carries its marker', () => {
    const withMarker = [...recorded].filter(([, r]) => markers(r).has(patch.id)).map(([name]) => name);
    expect([...patch.fixtures.new].sort()).toEqual(withMarker.sort());
  });

  test.each([...patch.fixtures.old])('old branch: %s lacks the marker and reaches the guarded code', (name) => {
    const r = recorded.get(name);
    if (!r) throw new Error(`no fixture ${name}`);
    expect(markers(r).has(patch.id)).toBe(false);
    expect(reachesGuardedCode[patch.id](r)).toBe(true);
  });
});
