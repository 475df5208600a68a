// Given the release workflow on the time-skipping server with the in-memory cluster, whose notify
// activity records every attempt… a release sends one notification per event (approval needed,
// released, rolled back with its verdicts, aborted, one "no progress" notice), each with its own key
// that every retry repeats, and a sink that fails never fails or holds back the release.
import type { Harness } from '../../devkit/testing/harness.js';
import { approvalOnlySpec, pausedAt, specFor, startHarness } from '../../devkit/testing/harness.js';
import { messageText } from '../../src/core/notifications.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.stop());

const HOUR = 3_600_000;
const kinds = (): string[] => h.world.notifications.map((n) => n.kind);

test('an approved release: one approval-needed with who may approve and the commands, then one released', async () => {
  const { releaseId } = await h.releases.start(approvalOnlySpec('notify-ok', '2.0.0'), { initiator: 'dave' });
  await h.until(releaseId, (s) => s.stage === 'approval');
  await h.releases.approve(releaseId, 'alice');
  await h.releases.approve(releaseId, 'bob');
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');

  expect(kinds()).toEqual(['approval-needed', 'released']);
  const [needed, released] = h.world.notifications;
  expect(needed).toMatchObject({ releaseId, service: 'notify-ok', initiator: 'dave', approval: { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, approvedBy: [], requireSigned: false } });
  expect(messageText(needed!)).toContain(`approve: \`tidegate approve ${releaseId}\``);
  expect(released).toMatchObject({ outcome: 'released', services: [{ service: 'notify-ok', version: '2.0.0', image: 'registry.local/notify-ok:2.0.0' }] });
  // every event its own key, made of the release, its run and the event's place
  expect(new Set(h.world.notifications.map((n) => n.key)).size).toBe(2);
  expect(needed?.key).toBe(`${releaseId}/${result.status.runId ?? ''}/1-approval-needed`);
  // and on record in the timeline
  expect(result.status.timeline.filter((t) => t.code === 'notified').map((t) => t.event)).toEqual(['notified approval-needed (webhook)', 'notified released (webhook)']);
});

test('a release rolled back by its analysis: one rolled-back notification with the reason and the failed verdict', async () => {
  h.world.setMetric('notify-bad', 'green', 0.5);
  const { releaseId } = await h.releases.start(specFor('notify-bad', '2.0.1'), { initiator: 'dave' });
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('rolled-back');
  expect(kinds()).toEqual(['rolled-back']);
  const [rolled] = h.world.notifications;
  expect(rolled).toMatchObject({ outcome: 'rolled-back', cause: 'analysis', reason: result.reason });
  expect(rolled?.verdicts).toEqual([expect.objectContaining({ analysis: 'success-rate', service: 'notify-bad', phase: 'Failed' })]);
  expect(messageText(rolled!)).toMatch(/^:rewind: notify-bad@2\.0\.1 rolled back: .*\n• success-rate on notify-bad: Failed/);
});

test('a pause for promote that lasts: one "no progress" notice after an hour, not one per hour; then aborted', async () => {
  const { releaseId } = await h.releases.start(specFor('notify-stall', '2.0.2'), { initiator: 'dave' });
  await h.until(releaseId, pausedAt('step-pause', 2));
  await h.releases.promote(releaseId, 'dave');
  await h.until(releaseId, pausedAt('awaiting-promote', 5));
  await h.env.sleep(5 * HOUR);
  expect(kinds()).toEqual(['stalled']);
  const [stalled] = h.world.notifications;
  expect(stalled?.service).toBe('notify-stall');
  expect(stalled?.stalled?.forMs).toBeGreaterThanOrEqual(HOUR);
  expect(stalled?.stalled?.forMs).toBeLessThan(HOUR + 60_000);
  expect(stalled?.stalled?.waitingFor).toContain(`tidegate promote ${releaseId}`);

  await h.releases.abort(releaseId, 'erin', 'not today');
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('aborted');
  expect(kinds()).toEqual(['stalled', 'aborted']);
  expect(h.world.notifications[1]).toMatchObject({ reason: 'aborted by erin: not today' });
});

test('a sink that fails: the same key is sent again, and the release is not held back', async () => {
  h.world.failures.set('notify', 2);
  const { releaseId } = await h.releases.start(approvalOnlySpec('notify-retry', '2.0.3'), { initiator: 'dave' });
  await h.until(releaseId, (s) => s.stage === 'approval');
  // the gate is open (and answers) while its notification is still being retried
  await h.releases.approve(releaseId, 'alice');
  await h.releases.approve(releaseId, 'bob');
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  const keys = h.world.notifications.map((n) => `${n.kind} ${n.key.split('/').at(-1) ?? ''}`);
  expect(keys).toEqual(['approval-needed 1-approval-needed', 'approval-needed 1-approval-needed', 'approval-needed 1-approval-needed', 'released 2-released']);
});

test('a sink that never takes it: the release ends released, with the failure on record', async () => {
  h.world.failures.set('notify', 100);
  const { releaseId } = await h.releases.start(approvalOnlySpec('notify-down', '2.0.4'), { initiator: 'dave' });
  await h.until(releaseId, (s) => s.stage === 'approval');
  await h.releases.approve(releaseId, 'alice');
  await h.releases.approve(releaseId, 'bob');
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  // the sends were still being retried when it ended: it waited two minutes for them, then said so
  const failed = result.status.timeline.filter((t) => t.code === 'notification-failed');
  expect(failed.map((t) => t.event)).toEqual(['the release ended with approval-needed, released still being sent (a sink down?); they may arrive later or not at all']);
  const concluded = result.status.timeline.find((t) => t.code === 'release-ended');
  const waited = Date.parse(failed[0]?.at ?? '') - Date.parse(concluded?.at ?? '');
  expect(waited).toBeGreaterThanOrEqual(120_000);
  expect(waited).toBeLessThan(130_000);
});
