// Given the release workflow on the time-skipping server with the in-memory cluster, every value
// crossing the payload converter as in production, then: a measurement with no requests in its
// window never rolls a healthy release back; an analysis right after a weight change waits until
// its window holds the new traffic; and the release never acts on traffic that someone else moved.
import type { Harness, SpecDoc } from '../../devkit/testing/harness.js';
import { pausedAt, specFor, startHarness } from '../../devkit/testing/harness.js';
import { exitCodeFor } from '../../src/core/status.js';
import { renderStatus } from '../../src/client/render.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.stop());

/** setWeight 10 then at once an analysis (no pause between them: a configuration users write). */
const analysisRightAfterWeight = (doc: SpecDoc): void => {
  doc.staging = undefined;
  doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: String(doc.service) }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['success-rate'] } }] };
  doc.production.approval = undefined;
  doc.production.monitor = undefined;
};

describe('NaN: no requests in the window is Inconclusive, never Failed', () => {
  test('a NaN from Prometheus (0/0) pauses the release for a human instead of rolling it back; promote continues', async () => {
    h.world.setMetric('nan', 'green', 'NaN');
    const { releaseId } = await h.releases.start(specFor('nan', '1.0.1', analysisRightAfterWeight), { initiator: 'carol' });
    const paused = await h.until(releaseId, (s) => s.pausedFor !== undefined);
    expect(paused.outcome).toBeUndefined();
    expect(paused.pausedFor).toMatch(/^analysis success-rate inconclusive at canary step 2 of nan: 1 inconclusive measurements \(limit 0\)/);
    const run = paused.analyses.find((a) => a.id === 'nan/canary/1/success-rate');
    expect(run?.measurements[0]).toMatchObject({ phase: 'Inconclusive', value: 'NaN' });
    expect(run?.measurements[0]?.message).toMatch(/the query returned NaN/);
    expect(renderStatus(paused)).toContain('NaN');
    expect(h.world.calls.filter((c) => c.startsWith('restore'))).toEqual([]);

    await h.releases.promote(releaseId, 'carol');
    const result = await h.finish(releaseId);
    expect(result.outcome).toBe('released');
  });

  test('a NaN that reaches the workflow as null (sent as a bare number by an older worker) is Inconclusive too', async () => {
    h.world.setMetric('null', 'green', 'null');
    const { releaseId } = await h.releases.start(
      specFor('null', '1.0.1', (doc) => {
        analysisRightAfterWeight(doc);
        doc.analyses['success-rate'] = { ...doc.analyses['success-rate'], onInconclusive: 'rollback' };
      }),
      { initiator: 'carol' },
    );
    const result = await h.finish(releaseId);
    // under onInconclusive: rollback it rolls back — as Inconclusive, with the reason saying so
    expect(result.reason).toMatch(/^analysis success-rate inconclusive at canary step 2 of null/);
    const run = result.status.analyses.find((a) => a.id === 'null/canary/1/success-rate');
    expect(run?.phase).toBe('Inconclusive');
    expect(run?.measurements[0]).toMatchObject({ phase: 'Inconclusive', value: 'NaN' });
  });
});

describe('the minimum-traffic rule (initialDelay)', () => {
  // Measurement times come from the metrics backend (the fake's clock); workflow time is in the
  // timeline and the run's endedAt. A run of 4 measurements 30 s apart ends 90 s after its first.
  const endedAfter = (s: { analyses: { id: string; endedAt?: string }[] }, id: string, since: number): number => Date.parse(s.analyses.find((a) => a.id === id)?.endedAt ?? '') - since;
  const eventAt = (s: { timeline: { at: string; event: string }[] }, prefix: string): number => Date.parse(s.timeline.find((t) => t.event.startsWith(prefix))?.at ?? '');

  test('an analysis right after a weight change takes its first measurement once its [1m] window holds only canary traffic', async () => {
    const { releaseId } = await h.releases.start(specFor('window', '1.0.1', analysisRightAfterWeight), { initiator: 'carol' });
    const result = await h.finish(releaseId);
    expect(result.outcome).toBe('released');
    const weightAt = eventAt(result.status, 'canary weight 10% on green');
    expect(result.status.timeline.map((t) => t.event)).toContain('analysis success-rate: first measurement in 60s, once its 60s window holds only traffic after the last change');
    expect(eventAt(result.status, 'analysis success-rate: first measurement in') - weightAt).toBeLessThan(1_000);
    // 60 s of wait, then 4 measurements 30 s apart
    expect(endedAfter(result.status, 'window/canary/1/success-rate', weightAt)).toBeGreaterThanOrEqual(150_000);
    expect(endedAfter(result.status, 'window/canary/1/success-rate', weightAt)).toBeLessThan(155_000);
  });

  test('initialDelay: 0s measures at once', async () => {
    const { releaseId } = await h.releases.start(
      specFor('nodelay', '1.0.1', (doc) => {
        analysisRightAfterWeight(doc);
        doc.analyses['success-rate'] = { ...doc.analyses['success-rate'], initialDelay: '0s' };
      }),
      { initiator: 'carol' },
    );
    const result = await h.finish(releaseId);
    const weightAt = eventAt(result.status, 'canary weight 10% on green');
    expect(endedAfter(result.status, 'nodelay/canary/1/success-rate', weightAt)).toBeLessThan(95_000);
    expect(result.status.timeline.filter((t) => t.event.includes('first measurement in'))).toEqual([]);
  });

  test('a pause that already covered the window adds no wait', async () => {
    // specFor's canary: setWeight 10, pause 2m, analysis — the 2-minute pause covers the [1m] window
    const { releaseId } = await h.releases.start(specFor('paused', '1.0.1', (doc) => (doc.production.approval = undefined)), { initiator: 'carol' });
    const paused = await h.until(releaseId, pausedAt('awaiting-promote', 5), 10_000);
    const pauseEnd = eventAt(paused, 'paused: canary step 2') + 120_000;
    expect(endedAfter(paused, 'paused/canary/2/success-rate', pauseEnd)).toBeLessThan(95_000);
    expect(paused.timeline.filter((t) => t.stage === 'canary' && t.event.includes('first measurement in'))).toEqual([]);
  });
});

describe('drift: traffic moved outside the release is never acted on', () => {
  /** What another tool does: puts the service back on blue, all traffic on it. */
  const resetToBlue = (service: string): void => {
    const svc = h.world.service(service);
    svc.active = 'blue';
    svc.weights = { blue: 100, green: 0 };
  };
  const noApproval = (doc: SpecDoc): void => {
    doc.production.approval = undefined;
    doc.production.monitor = undefined;
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: String(doc.service) }, steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }] };
  };

  test('traffic reset to the old color during the scale-down delay: the release pauses and never scales the serving color down', async () => {
    const { releaseId } = await h.releases.start(specFor('reset', '1.0.1', noApproval), { initiator: 'carol' });
    await h.until(releaseId, (s) => s.stage === 'scale-down');
    resetToBlue('reset');
    const paused = await h.until(releaseId, (s) => s.pausedFor !== undefined, 30_000);
    expect(paused.pausedFor).toBe(
      'traffic of reset changed outside this release (the active Service selects blue (expected green); the router sends blue 100% / green 0% (expected blue 0% / green 100%)); ' +
        "not scaling reset-blue down — promote to end the release without scaling reset-blue down, abort to roll back what is still this release's",
    );
    expect(h.world.calls).not.toContain('scaleDeployment reset-blue 0');

    await h.releases.promote(releaseId, 'carol');
    const result = await h.finish(releaseId);
    expect(result.outcome).toBe('released');
    expect(h.world.service('reset').deployments.blue.replicas).toBe(3);
    expect(h.world.calls).not.toContain('scaleDeployment reset-blue 0');
    expect(result.status.timeline.map((t) => t.event)).toContain('left reset-blue running: it serves reset traffic');
  });

  test('the route moved to the new color by hand during the canary, then an abort: the rollback leaves that traffic and the color serving it alone', async () => {
    const { releaseId } = await h.releases.start(specFor('manual', '1.0.1', (doc) => {
      noApproval(doc);
      doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'manual' }, steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }, { setWeight: 50 }] };
    }), { initiator: 'carol' });
    await h.until(releaseId, pausedAt('step-pause', 2));
    h.world.service('manual').weights = { blue: 0, green: 100 }; // someone sent everything to green
    const paused = await h.until(releaseId, pausedAt('traffic-drift', undefined, 'manual'), 30_000);
    expect(paused.pausedFor).toContain('the router sends blue 0% / green 100% (expected blue 90% / green 10%)); not setting 50% on green');
    expect(h.world.calls).not.toContain('setCanaryWeight manual green 50');

    await h.releases.abort(releaseId, 'erin', 'someone is handling traffic by hand');
    const result = await h.finish(releaseId);
    expect(result.outcome).toBe('aborted');
    expect(exitCodeFor(result)).toBe(12);
    expect(result.status.compensations.map((c) => [c.label, c.status])).toEqual([
      ['return manual traffic to blue', 'skipped'],
      ['restore manual-blue/-green to their snapshot', 'done'],
      ['restore staging staging/manual to registry.local/manual:1.0.0', 'done'],
    ]);
    expect(result.status.compensations[1]?.note).toBe('left green as it is: it serves traffic now');
    expect(h.world.service('manual').weights).toEqual({ blue: 0, green: 100 });
    expect(h.world.service('manual').deployments.green).toMatchObject({ image: 'registry.local/manual:1.0.1', replicas: 3 });
    expect(result.reason).toMatch(/the rollback left alone what changed outside this release: return manual traffic to blue: manual traffic changed outside this release/);
    expect(renderStatus(result.status)).toMatch(/skipped/);
  });

  test('traffic already at the weight the next step sets (what a canary weight leaves when its workflow task timed out and runs again): not drift — the release goes on, released without a pause', async () => {
    // given a release paused at its first step, whose next step sets 50% on green
    const { releaseId } = await h.releases.start(specFor('again', '1.0.1', (doc) => {
      noApproval(doc);
      doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'again' }, steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }, { setWeight: 50 }] };
    }), { initiator: 'carol' });
    await h.until(releaseId, pausedAt('step-pause', 2));
    // when the route is found at 50 / 50 already (as the lost attempt of that step left it)
    h.world.service('again').weights = { blue: 50, green: 50 };
    const result = await h.finish(releaseId);
    // then the step goes on as its own: no drift recorded, no pause for a human, released
    expect(result.outcome).toBe('released');
    expect(result.status.timeline.filter((t) => t.code === 'drift' || (t.code === 'paused' && t.event.includes('changed outside')))).toEqual([]);
    expect(result.status.timeline.map((t) => t.event)).toContain('canary weight 50% on green');
    expect(h.world.service('again')).toMatchObject({ active: 'green', weights: { blue: 0, green: 100 } });
  });

  test('traffic at a later weight of a run of weights (two steps set in one workflow task that timed out): not drift either — released without a pause', async () => {
    // given a release paused before two weight steps back to back (30% then 50%)
    const { releaseId } = await h.releases.start(specFor('again-run', '1.0.1', (doc) => {
      noApproval(doc);
      doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'again-run' }, steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }, { setWeight: 30 }, { setWeight: 50 }] };
    }), { initiator: 'carol' });
    await h.until(releaseId, pausedAt('step-pause', 2));
    // when the route is found at 50 / 50 (the lost task had set both weights)
    h.world.service('again-run').weights = { blue: 50, green: 50 };
    const result = await h.finish(releaseId);
    // then both steps go on as the release's own: no drift, no pause for a human, released
    expect(result.outcome).toBe('released');
    expect(result.status.timeline.filter((t) => t.code === 'drift' || (t.code === 'paused' && t.event.includes('changed outside')))).toEqual([]);
    expect(result.status.timeline.map((t) => t.event).filter((e) => e.startsWith('canary weight'))).toEqual(['canary weight 10% on green', 'canary weight 30% on green', 'canary weight 50% on green']);
    expect(h.world.service('again-run')).toMatchObject({ active: 'green', weights: { blue: 0, green: 100 } });
  });

  test('traffic taken as the release\'s own is its own in the rollback too: the weight then fails for good, and the rollback puts that traffic back', async () => {
    // given a release paused before two weights, whose route is found at the second (the lost task's)
    const { releaseId } = await h.releases.start(specFor('own-undo', '1.0.1', (doc) => {
      noApproval(doc);
      doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'own-undo' }, steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }, { setWeight: 30 }, { setWeight: 50 }] };
    }), { initiator: 'carol' });
    await h.until(releaseId, pausedAt('step-pause', 2));
    h.world.service('own-undo').weights = { blue: 50, green: 50 };
    // when the next weight fails for good
    h.world.failures.set('setCanaryWeight!', 1);
    const result = await h.finish(releaseId);
    // then the release rolls back, and its traffic undo runs (not left alone as someone else's)
    expect(result.outcome).not.toBe('released');
    expect(result.status.timeline.filter((t) => t.event.includes('left alone') || t.event.includes('changed outside'))).toEqual([]);
    expect(h.world.service('own-undo')).toMatchObject({ active: 'blue', weights: { blue: 100, green: 0 } });
  });

  test('a route changed before the switch: promote means "switch anyway", and the release ends released', async () => {
    const { releaseId } = await h.releases.start(specFor('before-switch', '1.0.1', noApproval), { initiator: 'carol' });
    await h.until(releaseId, pausedAt('step-pause', 2));
    h.world.service('before-switch').weights = { blue: 50, green: 50 };
    const paused = await h.until(releaseId, pausedAt('traffic-drift', undefined, 'before-switch'), 30_000);
    expect(paused.pausedFor).toContain('not switching to green — promote to switch to green anyway');
    expect(paused.stage).toBe('switch');
    await h.releases.promote(releaseId, 'carol');
    const result = await h.finish(releaseId);
    expect(result.outcome).toBe('released');
    expect(h.world.service('before-switch')).toMatchObject({ active: 'green', weights: { blue: 0, green: 100 } });
    expect(h.world.service('before-switch').deployments.blue.replicas).toBe(0);
  });
});
