// Given the release workflow on the time-skipping server with the in-memory cluster and real
// durations, and the real calendar rule (src/core/windows.ts) behind the checkCalendar activity…
// a release outside its window or inside a freeze waits at the next stage boundary, says why and
// until when, and goes on by itself (or when a global freeze is lifted); approvals are still collected.
import type { Harness } from '../../devkit/testing/harness.js';
import { approvalOnlySpec, specFor, startHarness } from '../../devkit/testing/harness.js';
import { WEEKDAYS } from '../../src/core/windows.js';
import { renderStatus } from '../../src/client/render.js';
import { calendarChangedSignal } from '../../src/workflows/definitions.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.stop());

const HOUR = 3_600_000;

test('a weekend freeze in the spec: the release waits before staging until the freeze ends, then goes through every stage', async () => {
  const now = await h.env.currentTimeMs();
  const until = new Date(now + 62 * HOUR).toISOString();
  const spec = specFor('weekend', '2.0.0', (doc) => {
    delete doc.production.canary;
    delete doc.production.monitor;
    doc.windows = { freezes: [{ from: new Date(now - HOUR).toISOString(), until, reason: 'weekend freeze' }] };
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });

  // when it reaches staging inside the freeze, it waits there and says until when
  const waiting = await h.until(releaseId, (s) => s.waiting !== undefined);
  expect(waiting.waiting).toMatchObject({ service: 'weekend', stage: 'staging', source: 'spec', opensAt: until });
  expect(waiting.waiting?.reason).toContain('weekend freeze');
  expect(waiting.services[0]?.stages.staging).toBe('pending');
  expect(renderStatus(waiting)).toContain(`WAITING (staging of weekend) for the window that opens at ${until}: frozen until ${until}: weekend freeze`);
  expect(h.world.calls.filter((c) => c.startsWith('deployImage'))).toEqual([]);

  // then, 62 hours of workflow time later, staging runs and the approval gate opens
  const gate = await h.until(releaseId, (s) => s.stage === 'approval', HOUR);
  expect(gate.waiting).toBeUndefined();
  const opened = gate.timeline.find((t) => t.code === 'window-open');
  expect(opened?.stage).toBe('staging');
  expect(Date.parse(opened?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(until));
  // one "waits" entry however many times it checked again (at most hourly)
  expect(gate.timeline.filter((t) => t.code === 'window-waiting')).toHaveLength(1);
  const checks = h.world.calendarChecks.filter((c) => Date.parse(c.at) < Date.parse(until));
  expect(checks.length).toBeGreaterThanOrEqual(62);
  expect(checks.length).toBeLessThanOrEqual(70);

  await h.releases.approve(releaseId, 'alice');
  await h.releases.approve(releaseId, 'bob');
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  expect(h.world.service('weekend').active).toBe('green');
  // every gated stage was checked: staging, then the switch (approval is not gated)
  expect(result.status.timeline.filter((t) => t.code === 'window-waiting' || t.code === 'window-open').map((t) => `${t.code} ${t.stage}`)).toEqual(['window-waiting staging', 'window-open staging']);
});

test("outside the worker's allowed window: the release waits for the next day the window opens, named in status", async () => {
  const now = await h.env.currentTimeMs();
  const tomorrow = new Date(now + 24 * HOUR);
  const midnight = Date.UTC(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth(), tomorrow.getUTCDate());
  h.world.workerCalendar = { allow: [{ days: [WEEKDAYS[tomorrow.getUTCDay()] ?? 'sun'], from: '00:00', to: '24:00', timeZone: 'UTC' }], freezes: [] };
  const { releaseId } = await h.releases.start(approvalOnlySpec('windowed', '1.0.0'), { initiator: 'dave' });

  // approvals are collected outside the window: the approval stage is not gated
  await h.until(releaseId, (s) => s.stage === 'approval');
  await h.releases.approve(releaseId, 'alice');
  await h.releases.approve(releaseId, 'bob');
  const waiting = await h.until(releaseId, (s) => s.waiting !== undefined);
  expect(waiting.waiting).toMatchObject({ stage: 'switch', source: 'worker', opensAt: new Date(midnight).toISOString() });
  expect(waiting.waiting?.reason).toBe(`outside the allowed window (${WEEKDAYS[tomorrow.getUTCDay()]} 00:00–24:00 UTC) (the worker's calendar)`);
  expect(h.world.service('windowed').active).toBe('blue');

  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  const switched = result.status.timeline.find((t) => t.code === 'stage-started' && t.stage === 'switch');
  expect(Date.parse(switched?.at ?? '')).toBeGreaterThanOrEqual(midnight);
});

test('a global freeze holds the switch with no end; lifting it lets the release go on at once', async () => {
  h.world.globalFreeze = { by: 'erin', reason: 'incident 4711', since: new Date(await h.env.currentTimeMs()).toISOString() };
  const { releaseId } = await h.releases.start(approvalOnlySpec('frozen', '1.0.0'), { initiator: 'dave' });
  await h.until(releaseId, (s) => s.stage === 'approval');
  await h.releases.approve(releaseId, 'alice');
  await h.releases.approve(releaseId, 'bob');
  const waiting = await h.until(releaseId, (s) => s.waiting !== undefined);
  expect(waiting.waiting).toMatchObject({ stage: 'switch', source: 'global-freeze' });
  expect(waiting.waiting?.opensAt).toBeUndefined();
  expect(waiting.waiting?.reason).toMatch(/^frozen by erin since .*: incident 4711 \(tidegate unfreeze lifts it\)$/);
  expect(renderStatus(waiting)).toContain('WAITING (switch of frozen): frozen by erin');

  // still frozen three days later: it checked again (hourly) and still waits
  await h.env.sleep(72 * HOUR);
  const still = await h.env.client.workflow.getHandle(releaseId).query('status');
  expect((still as typeof waiting).waiting?.source).toBe('global-freeze');
  expect(h.world.service('frozen').active).toBe('blue');

  // when the freeze is lifted and the release told, it goes on without waiting for the next hourly check
  h.world.globalFreeze = undefined;
  const liftedAt = await h.env.currentTimeMs();
  await h.env.client.workflow.getHandle(releaseId).signal(calendarChangedSignal);
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  const opened = result.status.timeline.find((t) => t.code === 'window-open');
  expect(Date.parse(opened?.at ?? '') - liftedAt).toBeLessThan(60_000);
});

test('an abort while waiting for the window rolls the release back', async () => {
  h.world.globalFreeze = { by: 'erin', reason: 'incident 4711', since: new Date(await h.env.currentTimeMs()).toISOString() };
  const { releaseId } = await h.releases.start(approvalOnlySpec('stuck', '1.0.0'), { initiator: 'dave' });
  await h.until(releaseId, (s) => s.stage === 'approval');
  await h.releases.approve(releaseId, 'alice');
  await h.releases.approve(releaseId, 'bob');
  await h.until(releaseId, (s) => s.waiting !== undefined);
  await h.releases.abort(releaseId, 'erin', 'not this week');
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('aborted');
  expect(result.status.waiting).toBeUndefined();
  expect(h.world.calls.filter((c) => c.startsWith('switchActive'))).toEqual([]);
  expect(h.world.service('stuck').active).toBe('blue');
});
