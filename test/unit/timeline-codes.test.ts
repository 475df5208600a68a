// Given the statuses recorded in every history of test/fixtures/histories/ (written before timeline
// events and pauses carried codes), upgradeStatus gives every event and pause a known code, so tools
// can match on codes for old releases as for new ones.
import { legacyPause, legacyTimelineCode, TIMELINE_CODES, upgradeStatus, type ReleaseStatus } from '../../src/core/status.js';
import { historyFiles, loadRecorded } from '../cli/support/recorded.js';

test.each(historyFiles().map((f) => [f]))('%s: every recorded event upgrades to a known code', (file) => {
  const { result } = loadRecorded(file);
  const raw = result.status as ReleaseStatus;
  const upgraded = upgradeStatus(raw);
  const unknown = upgraded.timeline.filter((t) => t.code === 'unknown').map((t) => t.event);
  expect(unknown).toEqual([]);
  expect(upgraded.timeline.map((t) => t.event)).toEqual(raw.timeline.map((t) => t.event));
  expect(upgraded.timeline.every((t) => TIMELINE_CODES.includes(t.code))).toBe(true);
});

test.each<[string, ReturnType<typeof legacyTimelineCode>]>([
  ['release checkout@1.4.2 started by carol', 'release-started'],
  ['release rolled-back: analysis success-rate Failed', 'release-ended'],
  ['canary weight 20% on green', 'canary-weight'],
  ['canary step 3 (setWeight 50) skipped by promote --full', 'canary-step-skipped'],
  ['rejected by bob: too slow', 'rejected'],
  ['rejected: approval of checkout rejected by bob', 'stopped'],
  ['rollback: skipped "return traffic": traffic changed', 'rollback-step-skipped'],
  ['rollback: return checkout traffic to blue', 'rollback-step'],
  ['rollback: left green as it is: it serves traffic now', 'rollback-note'],
  ['monitor: analysis success-rate failed; its watch returned checkout traffic to blue at 10:00:05, before the rollback', 'traffic-back'],
  ['approval started', 'stage-started'],
  ['something no version ever wrote', 'unknown'],
])('legacyTimelineCode(%j) is %s', (event, code) => {
  expect(legacyTimelineCode(event)).toBe(code);
});

test.each<[string, ReturnType<typeof legacyPause>]>([
  ['canary step 5: waiting for promote', { code: 'awaiting-promote', stage: 'canary', step: 5 }],
  ['canary step 2: pause 120s', { code: 'step-pause', stage: 'canary', step: 2 }],
  [
    'analysis success-rate inconclusive at canary step 3 of checkout: no data — promote to continue, abort to roll back',
    { code: 'analysis-inconclusive', analysis: 'success-rate', service: 'checkout', stage: 'canary', step: 3 },
  ],
  ['analysis latency inconclusive at monitor of checkout: NaN', { code: 'analysis-inconclusive', analysis: 'latency', service: 'checkout', stage: 'monitor' }],
  ['traffic of checkout changed outside this release (blue 100 → 80); not switch', { code: 'traffic-drift', service: 'checkout' }],
  ['who knows', { code: 'unknown' }],
])('legacyPause(%j)', (text, pause) => {
  expect(legacyPause(text)).toEqual(pause);
});

test('a status that already has codes, or cannot be read, is left as it is', () => {
  const coded = { timeline: [{ at: 't', code: 'drift', event: 'canary weight 5% on green' }] } as unknown as ReleaseStatus;
  expect(upgradeStatus(coded).timeline[0]?.code).toBe('drift');
  expect(upgradeStatus(null as unknown as ReleaseStatus)).toBeNull();
});

test('an old pause gets the service and stage its text left out from the status', () => {
  const old = { service: 'checkout', stage: 'switch', pausedFor: 'traffic of checkout changed outside this release (x); not switch', timeline: [] } as unknown as ReleaseStatus;
  expect(upgradeStatus(old).pause).toEqual({ code: 'traffic-drift', service: 'checkout', stage: 'switch' });
  const step = { service: 'checkout', stage: 'canary', pausedFor: 'canary step 2: pause 120s', timeline: [] } as unknown as ReleaseStatus;
  expect(upgradeStatus(step).pause).toEqual({ code: 'step-pause', service: 'checkout', stage: 'canary', step: 2 });
});
