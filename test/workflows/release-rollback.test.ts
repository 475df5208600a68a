// Given the release workflow on the time-skipping server with mocked cluster activities, when
// something goes wrong, then everything the release did is undone — traffic first — and recorded.
import type { Harness } from '../../devkit/testing/harness.js';
import { pausedAt, specFor, startHarness } from '../../devkit/testing/harness.js';
import { exitCodeFor } from '../../src/core/status.js';
import { RefusedError } from '../../src/client/errors.js';
import { validateSpec } from '../../src/spec/index.js';
import { takeServiceLock } from '../../src/temporal/locks.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.stop());

const rollbackCalls = (service: string): string[] => {
  const calls = h.world.calls.filter((c) => c.includes(service));
  const first = calls.findIndex((c) => c.startsWith('restore'));
  return first === -1 ? [] : calls.slice(first);
};

test('a failing analysis at a canary step rolls back with traffic restored first, and exits 10', async () => {
  h.world.setMetric('bad', 'green', 0.8); // 20% errors on the canary color
  const { releaseId } = await h.releases.start(specFor('bad'), { initiator: 'carol' });
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  expect(result.reason).toBe('analysis success-rate failed at canary step 3 of bad: 2 failed measurements (limit 1)');
  expect(exitCodeFor(result)).toBe(10);
  expect(rollbackCalls('bad')).toEqual(['restoreTraffic bad blue', 'restoreWorkloads bad', 'restoreStaging bad']);
  expect(h.world.service('bad')).toMatchObject({ active: 'blue', weights: { blue: 100, green: 0 } });
  const run = result.status.analyses.find((a) => a.id === 'bad/canary/2/success-rate');
  expect(run?.measurements.map((m) => [m.phase, m.value])).toEqual([
    ['Failed', 0.8],
    ['Failed', 0.8],
  ]);
  expect(run?.query).toContain('color="green"');
  expect(result.status.services[0]?.stages).toMatchObject({ staging: 'done', canary: 'failed', approval: 'pending', switch: 'pending' });
});

test('an abort during a pause rolls back and exits 12', async () => {
  const { releaseId } = await h.releases.start(specFor('aborted'), { initiator: 'carol' });
  await h.until(releaseId, pausedAt('step-pause', 2));
  await h.releases.abort(releaseId, 'erin', 'customer incident in progress');
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'aborted', cause: 'aborted', reason: 'aborted by erin: customer incident in progress' });
  expect(exitCodeFor(result)).toBe(12);
  expect(rollbackCalls('aborted')).toEqual(['restoreTraffic aborted blue', 'restoreWorkloads aborted', 'restoreStaging aborted']);
  await expect(h.releases.abort(releaseId, 'erin', 'again')).rejects.toThrow(new RefusedError('aborted@1.0.1 has already ended (aborted)'));
});

test('an inconclusive analysis (metrics backend down) pauses for a human, never passes; promote continues', async () => {
  h.world.setMetric('flaky', 'staging', 'error');
  const { releaseId } = await h.releases.start(specFor('flaky'), { initiator: 'carol' });
  const paused = await h.until(releaseId, (s) => s.pausedFor !== undefined);
  expect(paused.pausedFor).toBe(
    'analysis success-rate inconclusive at staging of flaky: 5 consecutive errors from the metrics backend (limit 4) — promote to continue, abort to roll back',
  );
  expect(paused.analyses[0]?.measurements.every((m) => m.phase === 'Error')).toBe(true);
  await h.releases.promote(releaseId, 'carol');
  const continued = await h.until(releaseId, pausedAt('step-pause', 2));
  expect(continued.services[0]?.stages).toMatchObject({ staging: 'done', canary: 'running' });
  expect(continued.analyses[0]?.phase).toBe('Inconclusive');
  await h.releases.abort(releaseId, 'carol', 'done testing');
  expect((await h.finish(releaseId)).outcome).toBe('aborted');
});

test('an inconclusive analysis under onInconclusive: rollback rolls back (exit 10)', async () => {
  h.world.setMetric('nodata', 'staging', 'empty');
  const spec = specFor('nodata', '1.0.1', (doc) => {
    doc.analyses['success-rate'] = { ...doc.analyses['success-rate'], onInconclusive: 'rollback' };
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'carol' });
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  expect(result.reason).toBe('analysis success-rate inconclusive at staging of nodata: 1 inconclusive measurements (limit 0)');
  expect(rollbackCalls('nodata')).toEqual(['restoreStaging nodata']);
});

test('a rollout that outlasts its timeout rolls back what the release did and ends timed out (exit 13)', async () => {
  h.world.stuckRollouts.add('prod/checkout-green');
  const { releaseId } = await h.releases.start(specFor('checkout', '1.9.0'), { initiator: 'ci' });
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'timeout' });
  expect(result.reason).toMatch(/did not roll out registry\.local\/checkout:1\.9\.0 within 600s/);
  expect(exitCodeFor(result)).toBe(13);
  // staging had been released: its image is undone too, and production never took traffic
  expect(h.world.service('checkout').staging.image).toBe('registry.local/checkout:1.0.0');
  expect(h.world.service('checkout').active).toBe('blue');
});

test('a second start of the same id returns the same release; another version is refused; --supersede rolls the first back', async () => {
  const first = await h.releases.start(specFor('single', '2.0.0'), { initiator: 'carol' });
  await h.until(first.releaseId, pausedAt('step-pause', 2));
  await expect(h.releases.start(specFor('single', '2.0.0'), { initiator: 'ci' })).resolves.toEqual({ releaseId: 'single@2.0.0', created: false });
  await expect(h.releases.start(specFor('single', '2.0.1'), { initiator: 'ci' })).rejects.toThrow(
    new RefusedError('single is being released by single@2.0.0; wait for it, abort it, or start with --supersede'),
  );

  const second = await h.releases.start(specFor('single', '2.0.1'), { initiator: 'ci', supersede: true });
  expect(second).toEqual({ releaseId: 'single@2.0.1', created: true });
  // read through status, not result(): the time-skipping client's result() leaves time skipping locked
  const superseded = await h.until('single@2.0.0', (s) => s.outcome !== undefined);
  expect(superseded).toMatchObject({ outcome: 'aborted', cause: 'superseded', reason: 'superseded by single@2.0.1' });
  expect(exitCodeFor({ outcome: superseded.outcome ?? 'failed', ...(superseded.cause ? { cause: superseded.cause } : {}) })).toBe(12);
  const running = await h.until('single@2.0.1', (s) => s.stage === 'canary');
  expect(running.timeline.map((t) => t.event)).toContain('superseding single@2.0.0: asking it to roll back');
  // the first release's rollback happened before the second deployed anything
  const firstRestore = h.world.calls.indexOf('restoreTraffic single blue');
  const secondDeploy = h.world.calls.indexOf('deployImage single registry.local/single:2.0.1');
  expect(firstRestore).toBeGreaterThan(-1);
  expect(secondDeploy).toBeGreaterThan(firstRestore);
});

test('two versions of one service started at once: one holds the lock when its start returns, the other is refused naming it', async () => {
  // whether both clients read the lock free (the race is then decided by the lock workflow) or the
  // second already sees the first holding it, the outcome a user sees is the same
  const starts = await Promise.allSettled([h.releases.start(specFor('raced', '1.0.0'), { initiator: 'ci' }), h.releases.start(specFor('raced', '1.0.1'), { initiator: 'ci' })]);
  const created = starts.filter((s): s is PromiseFulfilledResult<Awaited<ReturnType<typeof h.releases.start>>> => s.status === 'fulfilled');
  const refused = starts.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  expect(created).toHaveLength(1);
  expect(refused).toHaveLength(1);
  const winner = created[0]?.value.releaseId ?? '';
  expect(refused[0]?.reason).toEqual(new RefusedError(`raced is being released by ${winner}; wait for it, abort it, or start with --supersede`));
  // the winner holds the service's lock
  const holder = await h.env.client.workflow.getHandle('tidegate-lock/raced').describe();
  expect(holder.memo?.holder).toBe(winner);
  await h.releases.abort(winner, 'ci', 'test over');
  await expect(h.until(winner, (s) => s.outcome !== undefined)).resolves.toMatchObject({ outcome: 'aborted' });
});

test('startMany: each release holds its lock when the call returns, without waiting for a worker; a held service is refused naming its holder', async () => {
  const held = await h.releases.start(specFor('held', '1.0.0'), { initiator: 'ci' });
  const results = await h.releases.startMany([specFor('fleet-a'), specFor('fleet-b'), specFor('held', '1.0.1'), specFor('fleet-c')], { initiator: 'ci' }, 3);
  expect(results).toEqual([
    { releaseId: 'fleet-a@1.0.1', created: true, queued: true },
    { releaseId: 'fleet-b@1.0.1', created: true, queued: true },
    { refused: new RefusedError(`held is being released by ${held.releaseId}; wait for it, abort it, or start with --supersede`) },
    { releaseId: 'fleet-c@1.0.1', created: true, queued: true },
  ]);
  for (const service of ['fleet-a', 'fleet-b', 'fleet-c']) {
    const lock = await h.env.client.workflow.getHandle(`tidegate-lock/${service}`).describe();
    expect([lock.status.name, lock.memo?.holder]).toEqual(['RUNNING', `${service}@1.0.1`]);
  }
  // the refused release was never started, and took nothing
  await expect(h.env.client.workflow.getHandle('held@1.0.1').describe()).rejects.toThrow(/not found/i);
  // a queued release confirms the lock it was handed and runs as any other
  const running = await h.until('fleet-b@1.0.1', pausedAt('step-pause', 2));
  expect(running.timeline.map((t) => t.event)).toContain('locked fleet-b');
  // starting it again returns it (a retried CI job)
  await expect(h.releases.startMany([specFor('fleet-b')], { initiator: 'ci' })).resolves.toEqual([{ releaseId: 'fleet-b@1.0.1', created: false }]);
  for (const id of ['fleet-a@1.0.1', 'fleet-b@1.0.1', 'fleet-c@1.0.1', held.releaseId]) await h.releases.abort(id, 'ci', 'test over');
  const ended = await h.until('fleet-b@1.0.1', (s) => s.outcome !== undefined);
  expect(ended.outcome).toBe('aborted');
});

test('a lock a client took for a release it has not started yet is held, not broken as stale', async () => {
  // a client between its two starts (lock taken, release not yet started) looks like a dead holder
  await expect(takeServiceLock(h.env.client, h.taskQueue, 'between', 'between@1.0.0')).resolves.toBe('between@1.0.0');
  await expect(h.releases.start(specFor('between', '1.0.1'), { initiator: 'ci' })).rejects.toThrow(
    new RefusedError('between is being released by between@1.0.0; wait for it, abort it, or start with --supersede'),
  );
  await expect(h.releases.startMany([specFor('between', '1.0.1')], { initiator: 'ci' })).resolves.toEqual([
    { refused: new RefusedError('between is being released by between@1.0.0; wait for it, abort it, or start with --supersede') },
  ]);
  const lock = await h.env.client.workflow.getHandle('tidegate-lock/between').describe();
  expect([lock.status.name, lock.memo?.holder]).toEqual(['RUNNING', 'between@1.0.0']);
});

test('two versions of one service queued at once: the lock workflow decides, the other is refused naming the winner', async () => {
  const [first, second] = await Promise.all([
    h.releases.startMany([specFor('queued-race', '1.0.0')], { initiator: 'ci' }),
    h.releases.startMany([specFor('queued-race', '1.0.1')], { initiator: 'ci' }),
  ]);
  const results = [...first!, ...second!];
  const created = results.filter((r) => 'releaseId' in r);
  expect(created).toHaveLength(1);
  const winner = 'releaseId' in created[0]! ? created[0].releaseId : '';
  expect(results.filter((r) => 'refused' in r)).toEqual([{ refused: new RefusedError(`queued-race is being released by ${winner}; wait for it, abort it, or start with --supersede`) }]);
  const lock = await h.env.client.workflow.getHandle('tidegate-lock/queued-race').describe();
  expect(lock.memo?.holder).toBe(winner);
  // aborted once it has confirmed its lock: an abort that cancels the lock's confirmation in flight
  // can make the time-skipping server refuse the workflow task for good ("ACTIVITY_UNKNOWN" for the
  // cancelled activity, a test server quirk that a real server does not have)
  await h.until(winner, (s) => s.timeline.some((t) => t.code === 'locked'));
  await h.releases.abort(winner, 'ci', 'test over');
  await expect(h.until(winner, (s) => s.outcome !== undefined)).resolves.toMatchObject({ outcome: 'aborted' });
});

test('a multi-service release whose second service fails rolls back the first too', async () => {
  const svc = (service: string, extra: Record<string, unknown> = {}) => ({
    service,
    image: `registry.local/${service}:3.0.0`,
    production: {
      namespace: 'prod',
      blueGreen: { activeService: service, deploymentPrefix: service, scaleDownDelay: '5m' },
      canary: { traffic: { router: 'replicas' }, steps: [{ setWeight: 20 }, { analysis: { analyses: ['success-rate'] } }] },
    },
    ...extra,
  });
  const parsed = validateSpec({
    release: 'shop',
    version: '3.0.0',
    services: [svc('checkout', { dependsOn: ['payments'] }), svc('payments')],
    analyses: { 'success-rate': { query: 'rate{service="{{service}}",color="{{color}}"}', successCondition: '>= 0.99', interval: '30s', count: 3 } },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  h.world.setMetric('checkout', 'green', 0.5);
  const { releaseId } = await h.releases.start(parsed.spec, { initiator: 'carol' });
  expect(releaseId).toBe('shop@3.0.0');
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  // payments went first (checkout depends on it) and was fully switched before checkout failed
  expect(h.world.calls.indexOf('switchActive payments green')).toBeLessThan(h.world.calls.indexOf('setCanaryWeight checkout green 20'));
  expect(h.world.calls.filter((c) => c.startsWith('restore'))).toEqual([
    'restoreTraffic checkout blue',
    'restoreTraffic payments blue',
    'restoreWorkloads checkout',
    'restoreWorkloads payments',
  ]);
  expect(h.world.service('payments')).toMatchObject({ active: 'blue', weights: { blue: 100, green: 0 } });
  expect(h.world.service('payments').deployments.green.image).toBe('registry.local/payments:1.0.0');
});

test('a compensation that fails once is retried and both attempts are recorded', async () => {
  h.world.setMetric('retry', 'green', 0.5);
  h.world.failures.set('restoreTraffic', 1);
  const { releaseId } = await h.releases.start(specFor('retry'), { initiator: 'carol' });
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('rolled-back');
  const traffic = result.status.compensations.find((c) => c.label === 'return retry traffic to blue');
  expect(traffic).toEqual({
    label: 'return retry traffic to blue',
    service: 'retry',
    status: 'done',
    attempts: 2,
    errors: ['injected failure of restoreTraffic'],
  });
  expect(result.status.timeline.map((t) => t.event)).toContain('rollback: return retry traffic to blue (attempt 2)');
  expect(h.world.service('retry').active).toBe('blue');
});

test('a failing required check stops the release before staging, naming the check', async () => {
  h.world.checks = { conclusion: 'failure', failing: [{ name: 'test', conclusion: 'failure' }] };
  const spec = specFor('gated', '1.0.1', (doc) => {
    doc.source = { repo: 'acme/gated', sha: 'abcdef1' };
    doc.build = { requiredChecks: ['build', 'test'] };
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'carol' });
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'failed', cause: 'error', reason: 'build gate: failed test (failure)' });
  expect(exitCodeFor(result)).toBe(1);
  expect(h.world.calls.filter((c) => !c.startsWith('snapshot') && !c.startsWith('setCommitStatus'))).toEqual([]);
  expect(result.status.services[0]?.stages).toMatchObject({ build: 'failed', staging: 'pending' });
  expect(h.world.commitStatuses).toEqual(['tidegate/gated pending', 'tidegate/gated failure']);
});

test('a dispatched workflow whose run fails stops the release after the checks, before staging', async () => {
  h.world.dispatched = { conclusion: 'failure', failing: [{ name: 'workflow smoke.yml run #7', conclusion: 'failure' }] };
  const spec = specFor('smoke', '1.0.1', (doc) => {
    doc.source = { repo: 'acme/smoke', sha: 'abcdef1' };
    doc.build = { requiredChecks: ['build'], dispatch: { workflow: 'smoke.yml', ref: 'main' } };
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'carol' });
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'failed', reason: 'build gate: failed workflow smoke.yml run #7 (failure)' });
  expect(h.world.calls.filter((c) => c.startsWith('dispatch') || c.startsWith('deployImage'))).toEqual(['dispatchWorkflow smoke.yml main']);
  expect(result.status.timeline.map((t) => t.event)).toEqual(expect.arrayContaining(['build gate: waiting for build on acme/smoke@abcdef1', 'build gate: waiting for a run of workflow smoke.yml on acme/smoke@main']));
});

describe('GitHub reporting (a Deployment per environment, a commit status)', () => {
  const withSource = (service: string, version: string, patch: (doc: Parameters<Parameters<typeof specFor>[2] & object>[0]) => void = () => undefined) =>
    specFor(service, version, (doc) => {
      doc.source = { repo: `acme/${service}`, sha: 'abcdef1' };
      doc.production.approval = undefined;
      doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: service }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['success-rate'] } }] };
      patch(doc);
    });
  const statesOf = (environment: string): string[] | undefined => [...h.world.deployments.values()].find((d) => d.environment === environment)?.statuses;

  test('a released release: both deployments end success, the commit success', async () => {
    const { releaseId } = await h.releases.start(withSource('shipped', '3.0.0'), { initiator: 'carol' });
    expect((await h.finish(releaseId)).outcome).toBe('released');
    expect(statesOf('staging')).toEqual(['in_progress', 'success']);
    expect(statesOf('production')).toEqual(['in_progress', 'success']);
    expect(h.world.commitStatuses).toEqual(['tidegate/shipped pending', 'tidegate/shipped success']);
    expect([...h.world.deployments.values()].every((d) => d.releaseId === releaseId)).toBe(true);
  });

  test('a rolled-back release: production in_progress → failure → inactive, after the rollback', async () => {
    h.world.setMetric('reverted', 'green', 0.7);
    const { releaseId } = await h.releases.start(withSource('reverted', '3.0.1'), { initiator: 'carol' });
    expect((await h.finish(releaseId)).outcome).toBe('rolled-back');
    expect(statesOf('production')).toEqual(['in_progress', 'failure', 'inactive']);
    expect(statesOf('staging')).toEqual(['in_progress', 'success', 'failure', 'inactive']);
    const calls = h.world.calls;
    expect(calls.indexOf('setDeploymentStatus production failure')).toBeGreaterThan(calls.indexOf('restoreTraffic reverted blue'));
    expect(h.world.commitStatuses.at(-1)).toBe('tidegate/reverted failure');
  });

  test('GitHub being down never fails a release: it is recorded and the release goes on', async () => {
    h.world.failures.set('createDeployment', 1_000);
    const { releaseId } = await h.releases.start(withSource('offline', '3.0.2'), { initiator: 'carol' });
    const result = await h.finish(releaseId);
    expect(result.outcome).toBe('released');
    expect(result.status.timeline.map((t) => t.event)).toContain('GitHub: could not open the production deployment: injected failure of createDeployment');
  });
});

test('a failed analysis rolls back at once, cutting short the analyses still measuring beside it', async () => {
  h.world.setMetric('fast', 'green', 0.7);
  const spec = specFor('fast', '1.0.1', (doc) => {
    doc.analyses.latency = { kind: 'compare', query: 'latency{service="{{service}}",color="{{color}}"}', interval: '1m', count: 30 }; // a 30-minute window
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'fast' }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['success-rate', 'latency'] } }] };
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'carol' });
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  const at = (event: string): number => Date.parse(result.status.timeline.find((t) => t.event.startsWith(event))?.at ?? '');
  const verdict = at('analysis success-rate: Failed');
  // two 30 s measurements to fail; traffic back at once, not after the compare's 30-minute window
  expect(at('rollback: return fast traffic to blue') - verdict).toBeLessThan(5_000);
  const latency = result.status.analyses.find((a) => a.analysis === 'latency');
  expect(latency).toMatchObject({ phase: 'Inconclusive', reason: 'cut short: another analysis of this step decided the rollback' });
  expect(Date.parse(latency?.endedAt ?? '') - Date.parse(latency?.startedAt ?? '')).toBeLessThan(10 * 60_000);
});

/**
 * A release of `service` in its 24-hour monitor window (5-minute batches of ten 30 s measurements;
 * gateway-api, one canary step, no staging or approval), once `measured` measurements are in.
 */
async function inMonitorWindow(service: string, version: string, measured: number): Promise<string> {
  const spec = specFor(service, version, (doc) => {
    doc.staging = undefined;
    doc.production.approval = undefined;
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: service }, steps: [{ setWeight: 50 }] };
    doc.production.monitor = { duration: '24h', analyses: ['success-rate'] };
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'carol' });
  await h.until(releaseId, (s) => (s.analyses.find((a) => a.stage === 'monitor')?.measurements.length ?? 0) >= measured, 30_000);
  return releaseId;
}

test('a fault after the switch is acted on at the failing measurement, not at the end of its monitor batch', async () => {
  // the first batch measured
  const releaseId = await inMonitorWindow('late', '1.0.1', 10);
  h.world.setMetric('late', 'green', 0.8); // the new version starts failing 20% of requests in the second batch
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  expect(result.reason).toBe('analysis success-rate failed at monitor of late: 2 failed measurements (limit 1)');
  const run = result.status.analyses.find((a) => a.stage === 'monitor');
  // the batch ended at its second failed measurement: 8 more were due in it
  expect(run?.measurements.map((m) => m.phase)).toEqual([...Array<string>(10).fill('Successful'), 'Failed', 'Failed']);
  const failedAt = Date.parse(run?.measurements.at(-1)?.at ?? '');
  const restoredAt = Date.parse(result.status.timeline.find((t) => t.event.startsWith('rollback: return late traffic to blue'))?.at ?? '');
  expect(restoredAt - failedAt).toBeGreaterThanOrEqual(0);
  expect(restoredAt - failedAt).toBeLessThan(5_000);
  expect(h.world.service('late')).toMatchObject({ active: 'blue' });
});

test.each([
  ['where the release left it: the watch puts it back itself, before the rollback', false],
  ['moved by someone else meanwhile: the watch leaves it, and so does the rollback', true],
])('a Failed verdict in the monitor window, traffic %s', async (_, movedOutside) => {
  // given a release in its monitor window (gateway-api: the HTTPRoute sends green 100%)
  const releaseId = await inMonitorWindow('watched', '1.0.2', 2);
  // when someone else splits traffic 30 / 70 (or nobody does), and the new version starts failing
  if (movedOutside) h.world.service('watched').weights = { blue: 30, green: 70 };
  const callsBefore = h.world.calls.length;
  h.world.setMetric('watched', 'green', 0.8);
  const result = await h.finish(releaseId);
  // then the release is rolled back by the monitor analysis, and the watch's doing is on record before the rollback's
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  const codes = result.status.timeline.map((t) => t.code);
  const back = result.status.timeline.find((t) => t.code === 'traffic-back');
  expect(codes.indexOf('traffic-back')).toBeGreaterThan(-1);
  expect(codes.indexOf('traffic-back')).toBeLessThan(codes.indexOf('stopped'));
  const restores = h.world.calls.slice(callsBefore).filter((c) => c.startsWith('restoreTraffic watched'));
  if (movedOutside) {
    expect(back?.event).toMatch(/^monitor: analysis success-rate failed; watched traffic changed outside this release \(the router sends blue 30% \/ green 70% .*\); its watch left it as it is$/);
    expect(restores).toEqual([]);
    expect(h.world.service('watched').weights).toEqual({ blue: 30, green: 70 });
    expect(result.reason).toContain('the rollback left alone what changed outside this release');
  } else {
    expect(back?.event).toMatch(/^monitor: analysis success-rate failed; its watch returned watched traffic to blue at \d\d:\d\d:\d\d, before the rollback$/);
    // the watch's undo, then the rollback's own (which finds it done: setting the same route again)
    expect(restores).toEqual(['restoreTraffic watched blue', 'restoreTraffic watched blue']);
    expect(h.world.service('watched')).toMatchObject({ active: 'blue', weights: { blue: 100, green: 0 } });
    expect(result.status.compensations.find((c) => c.label === 'return watched traffic to blue')).toMatchObject({ status: 'done' });
  }
});

test('a Failed verdict in the monitor window whose watch is cut short half-way (the route back, the Service not): the rollback finishes the undo instead of leaving it as someone else\'s', async () => {
  // given a release in its monitor window (gateway-api), and a Kubernetes API that fails the
  // watch's Service write once, after the route is back
  const releaseId = await inMonitorWindow('halfway', '1.0.3', 2);
  h.world.failures.set('restoreTraffic:services', 1);
  // when the new version starts failing
  h.world.setMetric('halfway', 'green', 0.8);
  const result = await h.finish(releaseId);
  // then the watch says it could not, and the rollback puts all of it back: nothing left alone
  expect(result.status.timeline.find((t) => t.code === 'traffic-back')?.event).toBe('monitor: analysis success-rate failed; its watch could not return halfway traffic to blue (injected failure of restoreTraffic:services); the rollback does');
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  expect(result.reason).not.toContain('left alone');
  expect(result.status.compensations.find((c) => c.label === 'return halfway traffic to blue')).toMatchObject({ status: 'done' });
  expect(h.world.service('halfway')).toMatchObject({ active: 'blue', weights: { blue: 100, green: 0 } });
});

test('a monitor window shorter than its analysis interval is measured once, at its end', async () => {
  const spec = specFor('short', '1.0.1', (doc) => {
    doc.staging = undefined;
    doc.production.approval = undefined;
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'short' }, steps: [{ setWeight: 50 }] };
    doc.production.monitor = { duration: '20s', analyses: ['success-rate'] }; // the analysis measures every 30 s
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'carol' });
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  const run = result.status.analyses.find((a) => a.stage === 'monitor');
  expect(run?.phase).toBe('Successful');
  expect(run?.measurements).toHaveLength(1);
});

describe('compare analyses (canary against the stable color, Mann-Whitney judge)', () => {
  const withLatency = (doc: Parameters<Parameters<typeof specFor>[2] & object>[0]): void => {
    doc.analyses.latency = { kind: 'compare', query: 'latency{service="{{service}}",color="{{color}}"}', interval: '15s', count: 8, onInconclusive: 'rollback' };
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'x' }, steps: [{ setWeight: 20 }, { analysis: { analyses: ['latency'] } }] };
    doc.production.approval = undefined;
    doc.production.monitor = { duration: '30m', analyses: ['latency'] };
  };

  test('a canary slower than the stable color is High: the release rolls back and exits 10', async () => {
    h.world.setMetric('slow', 'green', 0.4);
    h.world.setMetric('slow', 'blue', 0.06);
    const { releaseId } = await h.releases.start(specFor('slow', '2.0.0', withLatency), { initiator: 'carol' });
    const result = await h.finish(releaseId);
    expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
    expect(exitCodeFor(result)).toBe(10);
    const run = result.status.analyses.find((a) => a.analysis === 'latency');
    expect(run).toMatchObject({ phase: 'Failed', kind: 'compare', color: 'green' });
    expect(run?.compare?.windows).toMatchObject({ canary: { color: 'green' }, baseline: { color: 'blue' } });
    expect(run?.compare?.windows.canary).toEqual({ ...run?.compare?.windows.baseline, color: 'green' }); // the same window during the canary
    expect(run?.compare?.metrics[0]).toMatchObject({ name: 'latency', classification: 'High', verdict: 'Fail', medians: { canary: 0.4, baseline: 0.06 } });
    expect(run?.reason).toMatch(/^score 0 < marginal score 75 \(failed: latency\) — latency: canary median 0.4 vs baseline 0.06 \(\+567%, 95% CI of the shift \[0.34, 0.34\], p<0.0001\): High$/);
    expect(rollbackCalls('slow')[0]).toBe('restoreTraffic slow blue');
  });

  test('an identical canary passes in the canary and, against the stable color before traffic moved, in the monitor window', async () => {
    h.world.setMetric('same', 'green', 0.06);
    h.world.setMetric('same', 'blue', 0.06);
    const { releaseId } = await h.releases.start(specFor('same', '2.0.1', withLatency), { initiator: 'carol' });
    const result = await h.finish(releaseId);
    expect(result.outcome).toBe('released');
    const [canary, monitor] = result.status.analyses.filter((a) => a.analysis === 'latency');
    expect([canary?.phase, monitor?.phase]).toEqual(['Successful', 'Successful']);
    expect(monitor?.compare?.metrics[0]).toMatchObject({ classification: 'Pass', pValue: 1 });
    // the monitor's baseline is blue over 30 minutes ending before the first weight change
    const movedAt = result.status.timeline.find((t) => t.event === 'canary weight 20% on green')?.at ?? '';
    expect(Date.parse(monitor?.compare?.windows.baseline.end ?? '')).toBeLessThanOrEqual(Date.parse(movedAt));
    expect(Date.parse(monitor?.compare?.windows.canary.end ?? '') - Date.parse(monitor?.compare?.windows.canary.start ?? '')).toBe(30 * 60_000);
  });

  test('a metrics backend that keeps failing makes a compare run Inconclusive, never a pass', async () => {
    h.world.setMetric('down', 'green', 'error');
    const { releaseId } = await h.releases.start(specFor('down', '2.0.2', withLatency), { initiator: 'carol' });
    const result = await h.finish(releaseId);
    expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
    const run = result.status.analyses.find((a) => a.analysis === 'latency');
    expect(run?.phase).toBe('Inconclusive');
    expect(run?.measurements.filter((m) => m.phase === 'Error')).toHaveLength(5); // consecutiveErrorLimit 4, then give up
    expect(run?.reason).toMatch(/latency: metrics backend failing after 5 attempts: connect ECONNREFUSED/);
  });
});
