// Given the release workflow on the time-skipping server with the in-memory cluster, and a spec with
// the migration pattern (an expand Job before the switch with an undo, a contract Job after the
// monitor window)… the hooks run at their points in order; a failed canary, a rejection or a hook of
// its own that fails rolls the release back with the expand's undo after the workloads are back;
// a failing hook's log tail is in status; an undo that fails leaves the rollback incomplete, said so.
import type { Harness } from '../../devkit/testing/harness.js';
import { migrationJob, pausedAt, specFor, startHarness, withMigrations } from '../../devkit/testing/harness.js';
import { renderStatus } from '../../src/client/render.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.stop());

/** What the fake cluster was asked, without the reads and GitHub: hooks, deploys, traffic and restores. */
const effects = (): string[] => h.world.calls.filter((c) => /^(runHook|deployImage|setCanaryWeight|switchActive|restore)/.test(c));

test('a released release runs expand before any production traffic and contract after the monitor window; the undo never runs', async () => {
  const spec = specFor('checkout', '2.0.0', (doc) => {
    withMigrations(doc);
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }] };
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
  await h.until(releaseId, pausedAt('awaiting-promote', 2));
  await h.releases.promote(releaseId, 'dave');
  await h.until(releaseId, (s) => s.stage === 'approval');
  const mid = await h.releases.status(releaseId);
  expect(mid.services[0]?.hooks?.map((x) => `${x.name} ${x.state}`)).toEqual(['expand-schema done', 'contract-schema pending']);
  await h.releases.approve(releaseId, 'alice');
  await h.releases.approve(releaseId, 'bob');
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');

  const order = effects();
  const expand = order.indexOf('runHook checkout expand-schema run');
  const firstWeight = order.findIndex((c) => c.startsWith('setCanaryWeight'));
  const contract = order.indexOf('runHook checkout contract-schema run');
  expect(expand).toBeGreaterThan(order.indexOf('deployImage checkout registry.local/checkout:2.0.0'));
  expect(expand).toBeLessThan(firstWeight);
  expect(contract).toBeGreaterThan(order.findIndex((c) => c.startsWith('switchActive')));
  expect(order).not.toContain('runHook checkout expand-schema undo');
  // the contract ran after the whole monitor window
  const monitorDone = result.status.timeline.find((t) => t.event === 'monitor done');
  const contractStarted = result.status.timeline.find((t) => t.code === 'hook-started' && t.event.startsWith('hook contract-schema'));
  expect(Date.parse(contractStarted?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(monitorDone?.at ?? 'x'));

  // each Job is named for this run, with the version filled in
  const [run] = h.world.hookRuns;
  expect(run?.job?.name).toMatch(/^checkout-expand-schema-[0-9a-f]{8}$/);
  expect(run?.job?.namespace).toBe('prod');
  expect(run?.action.kind === 'job' && JSON.stringify(run.action.template)).toContain('registry.local/checkout-migrations:2.0.0');
  expect(result.status.services[0]?.hooks?.map((x) => `${x.point} ${x.name} ${x.state}`)).toEqual(['beforeSwitch expand-schema done', 'afterMonitor contract-schema done']);
  expect(renderStatus(result.status)).toMatch(/✓ hook expand-schema \(beforeSwitch\) done: Job prod\/checkout-expand-schema-[0-9a-f]{8} succeeded \[undo on rollback\]/);
}, 300_000);

test('a canary that fails its analysis: traffic back, workloads back, then the expand undone — the contract never runs', async () => {
  h.world.setMetric('checkout', 'green', 0.5);
  const { releaseId } = await h.releases.start(specFor('checkout', '2.0.1', withMigrations), { initiator: 'dave' });
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  const order = effects();
  const undo = order.indexOf('runHook checkout expand-schema undo');
  expect(undo).toBeGreaterThan(order.findIndex((c) => c.startsWith('restoreWorkloads checkout')));
  expect(undo).toBeGreaterThan(order.findIndex((c) => c.startsWith('restoreTraffic checkout')));
  expect(undo).toBeLessThan(order.findIndex((c) => c.startsWith('restoreStaging')));
  expect(order).not.toContain('runHook checkout contract-schema run');
  // the undo Job has a name of its own, and the undo's args
  const undoRun = h.world.hookRuns.find((r) => r.phase === 'undo');
  expect(undoRun?.job?.name).toMatch(/^checkout-expand-schema-undo-[0-9a-f]{8}$/);
  expect(JSON.stringify(undoRun?.action)).toContain('"down"');
  expect(result.status.compensations.map((c) => `${c.label.replace(/ \(Job .*\)$/, '')} ${c.status}`)).toEqual([
    'return checkout traffic to blue done',
    'restore checkout-blue/-green to their snapshot done',
    'undo hook expand-schema of checkout done',
    'restore staging staging/checkout to registry.local/checkout:1.0.0 done',
  ]);
  expect(result.status.timeline.some((t) => t.code === 'rollback-step' && t.undo === 'runHook')).toBe(true);
});

test('a hook whose Job fails stops the release with its detail and log tail in status; what ran is undone, its own undo included', async () => {
  h.world.hookOutcomes.set('expand-schema/run', {
    phase: 'Failed',
    detail: 'Job prod/checkout-expand-schema-1a2b3c4d failed (BackoffLimitExceeded): pod checkout-expand-schema-1a2b3c4d-x7k2p exited 3 (Error)',
    logTail: ['ALTER TABLE orders ADD COLUMN note text', 'ERROR: relation "orders" does not exist'],
  });
  const { releaseId } = await h.releases.start(specFor('checkout', '2.0.2', withMigrations), { initiator: 'dave' });
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('rolled-back');
  expect(result.cause).toBe('error');
  expect(result.reason).toBe('hook expand-schema (before the switch of checkout) failed: Job prod/checkout-expand-schema-1a2b3c4d failed (BackoffLimitExceeded): pod checkout-expand-schema-1a2b3c4d-x7k2p exited 3 (Error)');
  // no production traffic moved; the undo ran (a half-applied expand is undone too)
  expect(effects().filter((c) => c.startsWith('setCanaryWeight') || c.startsWith('switchActive'))).toEqual([]);
  expect(effects()).toContain('runHook checkout expand-schema undo');
  const text = renderStatus(result.status);
  expect(text).toContain('✗ hook expand-schema (beforeSwitch) FAILED: Job prod/checkout-expand-schema-1a2b3c4d failed (BackoffLimitExceeded)');
  expect(text).toContain('        log tail:\n          ALTER TABLE orders ADD COLUMN note text\n          ERROR: relation "orders" does not exist');
});

test('a hook that times out ends the release timed out (exit 13); an undo that fails leaves the rollback incomplete, with its log tail', async () => {
  h.world.hookOutcomes.set('expand-schema/run', { phase: 'TimedOut', detail: 'Job prod/checkout-expand-schema-1a2b3c4d did not finish within 600s and was deleted: pod … is Running' });
  h.world.hookOutcomes.set('expand-schema/undo', { phase: 'Failed', detail: 'Job prod/checkout-expand-schema-undo-5e6f7a8b failed (BackoffLimitExceeded): pod … exited 1 (Error)', logTail: ['lock timeout on orders'] });
  const { releaseId } = await h.releases.start(specFor('checkout', '2.0.3', withMigrations), { initiator: 'dave' });
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('failed');
  expect(result.cause).toBe('timeout');
  expect(result.reason).toMatch(/^hook expand-schema \(before the switch of checkout\) timed out: .*; rollback incomplete: undo hook expand-schema of checkout \(Job prod\/checkout-expand-schema-undo-[0-9a-f]{8}\): hook expand-schema \(undo\) \(before the switch of checkout\) failed: .*; log tail: lock timeout on orders$/);
  // a failed undo Job is not run six times: it is on record once
  expect(h.world.hookRuns.filter((r) => r.phase === 'undo')).toHaveLength(1);
});

test('an HTTP hook after the switch gets the filled-in call; hooks before staging run before staging', async () => {
  const spec = specFor('checkout', '2.0.4', (doc) => {
    delete doc.production.canary;
    delete doc.production.approval;
    delete doc.production.monitor;
    doc.hooks = {
      beforeStaging: [{ name: 'announce', http: { url: 'https://chat.internal/hooks/{{service}}', body: { text: 'releasing {{release}}' } } }],
      afterSwitch: [{ name: 'warm-cache', http: { url: 'https://cache.internal/warm?v={{version}}', headersFromEnv: { authorization: 'CACHE_TOKEN' } } }],
      afterMonitor: [{ name: 'contract-schema', ...migrationJob(['up', '--phase', 'contract']) }],
    };
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  const order = effects();
  expect(order.indexOf('runHook checkout announce run')).toBeLessThan(order.indexOf('deployImage checkout registry.local/checkout:2.0.4'));
  expect(order.indexOf('runHook checkout warm-cache run')).toBeGreaterThan(order.findIndex((c) => c.startsWith('switchActive')));
  // without a monitor window, afterMonitor runs right after the switch's hooks
  expect(order.indexOf('runHook checkout contract-schema run')).toBe(order.indexOf('runHook checkout warm-cache run') + 1);
  const announce = h.world.hookRuns.find((r) => r.hook === 'announce');
  expect(announce?.action).toEqual({ kind: 'http', url: 'https://chat.internal/hooks/checkout', method: 'POST', headers: { 'content-type': 'application/json' }, headersFromEnv: {}, body: '{"text":"releasing checkout@2.0.4"}', timeout: 30_000 });
  expect(announce?.key).toMatch(/^checkout@2\.0\.4\/[^/]+\/checkout\/announce\/run$/);
  // the secret's variable name is in the history, never a value
  expect(h.world.hookRuns.find((r) => r.hook === 'warm-cache')?.action).toMatchObject({ headersFromEnv: { authorization: 'CACHE_TOKEN' } });
});
