// Given the release workflow on the time-skipping server with mocked cluster activities and real
// durations (2m pauses, 24h approval timeout, 30m monitor, 10m scale-down delay)…
import type { Harness } from '../../devkit/testing/harness.js';
import { pausedAt, specFor, startHarness } from '../../devkit/testing/harness.js';
import { exitCodeFor, legacyTimelineCode } from '../../src/core/status.js';
import { RefusedError } from '../../src/client/errors.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.stop());

test('happy path: every stage runs, green goes live on the new image, blue is scaled down after the delay', async () => {
  const spec = specFor('happy');
  const { releaseId, created } = await h.releases.start(spec, { initiator: 'dave' });
  expect(releaseId).toBe('happy@1.0.1');
  expect(created).toBe(true);

  // when the canary reaches its open-ended pause, an operator promotes
  const paused = await h.until(releaseId, pausedAt('awaiting-promote', 5), 10_000);
  expect(paused.services[0]?.canaryWeight).toBe(50);
  expect(h.world.service('happy').weights).toEqual({ blue: 50, green: 50 });
  await h.releases.promote(releaseId, 'dave');

  // when the approval gate opens, two approvers approve
  await h.until(releaseId, (s) => s.stage === 'approval');
  await expect(h.releases.approve(releaseId, 'alice', 'looks good')).resolves.toEqual({ service: 'happy', approvals: 1, needed: 1 });
  await expect(h.releases.approve(releaseId, 'bob')).resolves.toEqual({ service: 'happy', approvals: 2, needed: 0 });

  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  expect(exitCodeFor(result)).toBe(0);
  const svc = h.world.service('happy');
  expect(svc.active).toBe('green');
  expect(svc.deployments.green).toMatchObject({ image: 'registry.local/happy:1.0.1', replicas: 3 });
  expect(svc.deployments.blue.replicas).toBe(0);
  expect(svc.staging.image).toBe('registry.local/happy:1.0.1');

  const s = result.status;
  expect(s.services[0]?.stages).toEqual({ build: 'skipped', staging: 'done', canary: 'done', approval: 'done', switch: 'done', monitor: 'done' });
  expect(s.services[0]?.approvals.map((a) => a.by)).toEqual(['alice', 'bob']);
  // staging verify, the canary step analysis and the 30-minute monitor window, each with its measurements
  expect(s.analyses.map((a) => [a.id, a.phase, a.measurements.length])).toEqual([
    ['happy/staging/success-rate', 'Successful', 4],
    ['happy/canary/2/success-rate', 'Successful', 4],
    ['happy/monitor/success-rate', 'Successful', 60],
  ]);
  expect(s.timeline.map((t) => t.event)).toContain('build skipped (not in the spec)');
  // every event carries its code, the one its text had before codes existed (upgradeStatus)
  expect(s.timeline.map((t) => t.code)).toEqual(s.timeline.map((t) => legacyTimelineCode(t.event)));
  expect(s.timeline.filter((t) => t.code === 'stage-done').map((t) => t.stage)).toEqual(['staging', 'canary', 'approval', 'switch', 'monitor']);
  expect(paused.pause).toEqual({ code: 'awaiting-promote', service: 'happy', stage: 'canary', step: 5 });
  expect(s.pause).toBeUndefined();
  expect(h.world.calls.filter((c) => !c.startsWith('snapshot'))).toEqual([
    'deployImage happy registry.local/happy:1.0.1',
    'deployImage happy-green registry.local/happy:1.0.1',
    'pointPreview happy green',
    'setCanaryWeight happy green 10',
    'setCanaryWeight happy green 50',
    'switchActive happy green',
    'scaleDeployment happy-blue 0',
  ]);

  // the history stays small for a 30-minute monitor window
  const history = await h.env.client.workflow.getHandle(releaseId).fetchHistory();
  console.log(`happy path with a 30m monitor window: ${history.events?.length} history events`);
});

/** Runs a release up to its open approval gate (promoting the open-ended canary pause). */
async function toApprovalGate(service: string, patch?: Parameters<typeof specFor>[2], initiator = 'carol'): Promise<string> {
  const { releaseId } = await h.releases.start(specFor(service, '1.0.1', patch), { initiator });
  await h.until(releaseId, (s) => pausedAt('awaiting-promote', 5)(s) || s.stage === 'approval', 10_000);
  const s = await h.until(releaseId, () => true);
  if (s.stage !== 'approval') {
    await h.releases.promote(releaseId, initiator);
    await h.until(releaseId, (st) => st.stage === 'approval');
  }
  return releaseId;
}

test('refused approvals answer at once with the reason, and each refusal is on record with the reason the workflow gives', async () => {
  const { releaseId } = await h.releases.start(specFor('refusals'), { initiator: 'carol' });
  // gate closed: the release is still in its canary
  await h.until(releaseId, pausedAt('awaiting-promote', 5), 10_000);
  await expect(h.releases.approve(releaseId, 'alice')).rejects.toThrow(new RefusedError('no approval gate is open: the release is in stage "canary"'));
  await h.releases.promote(releaseId, 'carol');
  await h.until(releaseId, (s) => s.stage === 'approval');

  await expect(h.releases.approve(releaseId, 'mallory')).rejects.toThrow(
    new RefusedError('mallory is not an approver of refusals (approvers: alice, bob, carol)'),
  );
  await expect(h.releases.approve(releaseId, 'carol')).rejects.toThrow(new RefusedError('carol started this release and self-approval is not allowed'));
  await h.releases.approve(releaseId, 'alice');
  await expect(h.releases.approve(releaseId, 'alice')).rejects.toThrow(/^alice already approved at \d{4}-\d\d-\d\dT/);
  await expect(h.releases.reject(releaseId, 'mallory', 'no')).rejects.toThrow(RefusedError);

  const s = await h.until(releaseId, (st) => (st.refusals ?? []).length >= 5);
  expect(s.services[0]?.approvals.map((a) => a.by)).toEqual(['alice']);
  expect(s.services[0]?.approvalsNeeded).toBe(1);
  // a refused update leaves no history of its own: the client reports it, the workflow records its own reason
  expect(s.refusals?.map((r) => [r.decision, r.by, r.reason.replace(/at \S+$/, 'at …')])).toEqual([
    ['approve', 'alice', 'no approval gate is open: the release is in stage "canary"'],
    ['approve', 'mallory', 'mallory is not an approver of refusals (approvers: alice, bob, carol)'],
    ['approve', 'carol', 'carol started this release and self-approval is not allowed'],
    ['approve', 'alice', 'alice already approved at …'],
    ['reject', 'mallory', 'mallory is not an approver of refusals (approvers: alice, bob, carol)'],
  ]);
  expect(s.timeline.filter((t) => t.code === 'decision-refused').map((t) => t.event)).toContain('approve by carol refused: carol started this release and self-approval is not allowed');
  await h.releases.approve(releaseId, 'bob');
  expect((await h.finish(releaseId)).outcome).toBe('released');
});

test('promote --full skips the remaining canary steps; --full outside the canary is refused', async () => {
  const { releaseId } = await h.releases.start(specFor('fullpromote'), { initiator: 'carol' });
  await h.until(releaseId, pausedAt('step-pause', 2));
  await expect(h.releases.promote(releaseId, 'carol', true)).resolves.toEqual({ promoted: 'skipping the remaining canary steps' });
  const s = await h.until(releaseId, (st) => st.stage === 'approval');
  expect(s.timeline.map((t) => t.event)).toEqual(
    expect.arrayContaining([
      'canary step 3 (analysis success-rate) skipped by promote --full',
      'canary step 4 (setWeight 50) skipped by promote --full',
      'canary step 5 (pause until promoted) skipped by promote --full',
    ]),
  );
  expect(h.world.calls).not.toContain('setCanaryWeight fullpromote green 50');
  await expect(h.releases.promote(releaseId, 'carol', true)).rejects.toThrow(
    new RefusedError('promote --full applies during the canary stage; the release is in stage "approval"'),
  );
  await expect(h.releases.promote(releaseId, 'carol')).rejects.toThrow(new RefusedError('nothing to promote: the release is not paused (stage "approval")'));
  await h.releases.approve(releaseId, 'alice');
  await h.releases.approve(releaseId, 'bob');
  expect((await h.finish(releaseId)).outcome).toBe('released');
});

test('a rejection rolls back, traffic first, and exits 11', async () => {
  const releaseId = await toApprovalGate('rejected');
  await h.releases.approve(releaseId, 'alice');
  await expect(h.releases.reject(releaseId, 'bob', 'error budget is spent')).resolves.toEqual({ service: 'rejected' });
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'rejected', cause: 'rejected', reason: 'bob rejected rejected: error budget is spent' });
  expect(exitCodeFor(result)).toBe(11);
  const rollback = h.world.calls.filter((c) => c.startsWith('restore') && c.includes('rejected'));
  expect(rollback).toEqual(['restoreTraffic rejected blue', 'restoreWorkloads rejected', 'restoreStaging rejected']);
  const svc = h.world.service('rejected');
  expect(svc).toMatchObject({ active: 'blue', weights: { blue: 100, green: 0 }, preview: 'blue' });
  expect(svc.deployments.green).toMatchObject({ image: 'registry.local/rejected:1.0.0', replicas: 0 });
  expect(svc.staging.image).toBe('registry.local/rejected:1.0.0');
  expect(result.status.compensations.map((c) => [c.label, c.status])).toEqual([
    ['return rejected traffic to blue', 'done'],
    ['restore rejected-blue/-green to their snapshot', 'done'],
    ['restore staging staging/rejected to registry.local/rejected:1.0.0', 'done'],
  ]);
});

test('an approval timeout under onTimeout: rollback rolls back after 24h and exits 13', async () => {
  const releaseId = await toApprovalGate('timeout-rollback');
  await h.releases.approve(releaseId, 'alice');
  const result = await h.finish(releaseId); // time skips the 24 hours
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'timeout', reason: 'approval of timeout-rollback timed out after 1440m with 1 of 2 approvals' });
  expect(exitCodeFor(result)).toBe(13);
  expect(h.world.service('timeout-rollback').active).toBe('blue');
  const gateOpened = Date.parse(result.status.timeline.find((t) => t.event === 'approval started')?.at ?? '');
  const decided = Date.parse(result.status.timeline.find((t) => t.event.startsWith('rolled-back: approval'))?.at ?? '');
  expect(decided - gateOpened).toBeGreaterThanOrEqual(24 * 3600_000);
});

test('an approval timeout under onTimeout: proceed records it and releases', async () => {
  const releaseId = await toApprovalGate('timeout-proceed', (doc) => {
    doc.production.approval = { ...doc.production.approval, onTimeout: 'proceed' };
  });
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  expect(result.status.timeline.map((t) => t.event)).toContain(
    'approval of timeout-proceed timed out after 1440m with 0 of 2 approvals; proceeding (onTimeout: proceed)',
  );
  expect(h.world.service('timeout-proceed').active).toBe('green');
});
