// Given a release across three clusters in two waves on the time-skipping server, each cluster its
// own in-memory world reached by its kubeconfig context: when every cluster is healthy the release
// ships everywhere, wave after wave, with one approval; when the last wave's canary fails, every
// cluster it touched rolls back, newest first; an abort during a bake rolls back the baked wave and
// never starts the next; and no cluster's release writes more history than a release of one cluster.
import type { Harness } from '../../devkit/testing/harness.js';
import { SUCCESS_RATE, specFor, startHarness } from '../../devkit/testing/harness.js';
import type { ReleaseInput } from '../../src/core/release-input.js';
import type { ReleaseSpec } from '../../src/core/release-spec.js';
import type { ReleaseStatus } from '../../src/core/status.js';
import { renderStatus } from '../../src/client/render.js';
import { attest } from '../../src/client/verify.js';

const CLUSTERS = { 'eu-1': 'ctx-eu-1', 'eu-2': 'ctx-eu-2', 'us-1': 'ctx-us-1' };
/** Where the single-cluster release tests stand; a part must stay within it too. */
const HISTORY_BUDGET = 2_000;

let h: Harness;
beforeEach(async () => {
  h = await startHarness('tidegate-test', { clusters: CLUSTERS });
});
afterEach(async () => h?.stop());

/** checkout 2.0.0 to eu-1 (baked 30m), then eu-2 and us-1 together; two approvers of three, once. */
function waveSpec(): ReleaseSpec {
  return specFor('checkout', '2.0.0', (doc) => {
    const production = doc.production as { canary: { steps: unknown[] } };
    production.canary.steps = [{ setWeight: 10 }, { pause: { duration: '2m' } }, { analysis: { analyses: ['success-rate'] } }, { setWeight: 50 }];
    (doc.analyses as Record<string, { query: string }>)['success-rate'] = { ...(doc.analyses as Record<string, { query: string }>)['success-rate'], query: SUCCESS_RATE.replaceAll('color="{{color}}"', 'color="{{color}}",cluster="{{cluster}}"') };
    doc.clusters = Object.fromEntries(Object.entries(CLUSTERS).map(([name, context]) => [name, { context }]));
    doc.waves = [
      { name: 'canary', clusters: ['eu-1'], bake: '30m' },
      { name: 'rest', clusters: ['eu-2', 'us-1'], maxParallel: 2 },
    ];
  });
}

async function startWaves(spec: ReleaseSpec): Promise<string> {
  const id = `${spec.name}@${spec.version}`;
  const input: ReleaseInput = { contract: 5, spec, initiator: 'carol', supersede: false };
  await h.env.client.workflow.start('waveRelease', { workflowId: id, taskQueue: h.taskQueue, args: [input] });
  return id;
}

const world = (name: keyof typeof CLUSTERS) => {
  const found = h.worlds.get(name);
  if (!found) throw new Error(`no world ${name}`);
  return found;
};
const events = (s: ReleaseStatus, code: string): string[] => s.timeline.filter((t) => t.code === code).map((t) => t.event);
const historyLength = async (id: string): Promise<number> => (await h.env.client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0;

test('three clusters in two waves: one approval, wave 1 bakes, wave 2 ships, every cluster committed', async () => {
  // started as CI starts any release: the client sees the waves and takes each service's lock in each cluster
  const { releaseId: id } = await h.releases.start(waveSpec(), { initiator: 'carol' });
  expect(id).toBe('checkout@2.0.0');
  // the first cluster's part reaches its gate: the release asks its approvers once
  await h.until(id, (s) => s.stage === 'approval', 10_000);
  const atGate = await h.releases.status(id);
  expect(atGate.waves?.[0]?.clusters[0]).toMatchObject({ cluster: 'eu-1', phase: 'releasing', stage: 'approval' });
  // the status names the service at the gate, as a client's approve reads it to wait for the gate to open (gateSettled)
  expect(atGate.service).toBe('checkout');
  await expect(h.releases.start(specFor('checkout', '2.0.1', (doc) => Object.assign(doc, { clusters: { 'eu-1': { context: 'ctx-eu-1' } }, waves: [{ clusters: ['eu-1'] }] })), { initiator: 'dave' })).rejects.toThrow(
    'checkout@ctx-eu-1 is being released by checkout@2.0.0',
  );
  for (const who of ['alice', 'bob']) await h.releases.approve(id, who);
  const baking = await h.until(id, (s) => s.stage === 'bake', 10_000);
  expect(events(baking, 'wave-baking')).toEqual([expect.stringMatching(/^wave 1 canary baking until /)]);
  // nothing of wave 2 has started while wave 1 bakes
  expect(world('eu-2').calls).toEqual([]);
  const result = await h.finish(id);
  expect(result).toMatchObject({ outcome: 'released' });
  for (const name of ['eu-1', 'eu-2', 'us-1'] as const) {
    expect(world(name).service('checkout')).toMatchObject({ active: 'green', weights: { blue: 0, green: 100 } });
    expect(world(name).calls).toContain('scaleDeployment checkout-blue 0');
  }
  // staging once, in the first cluster; the worker's current context never touched
  expect(world('eu-1').calls.filter((c) => c.startsWith('deployImage checkout '))).toHaveLength(1);
  expect(world('eu-2').calls.filter((c) => c.startsWith('deployImage checkout '))).toHaveLength(0);
  expect(h.world.calls).toEqual([]);
  expect(events(result.status, 'cluster-started').map((e) => e.split(' ')[1])).toEqual(['eu-1', 'eu-2', 'us-1']);
  expect(result.status.services[0]?.approvals.map((a) => a.by)).toEqual(['alice', 'bob']);
  for (const name of Object.keys(CLUSTERS)) {
    const part = await h.releases.result(`${id}/${name}`);
    expect(part.outcome).toBe('released');
    expect(await historyLength(`${id}/${name}`)).toBeLessThan(HISTORY_BUDGET);
  }
  expect(await historyLength(id)).toBeLessThan(HISTORY_BUDGET);
  // an auditor verifies the release on its parent, which holds the start and the gate
  const attestation = await attest(await h.env.client.workflow.getHandle(id).fetchHistory(), '', id);
  expect(attestation).toMatchObject({ releaseId: id, outcome: 'released', initiator: { principal: 'carol' } });
  expect(attestation.decisions.map((d) => [d.decision, d.by])).toEqual([
    ['approve', 'alice'],
    ['approve', 'bob'],
  ]);
});

test('a bad canary in the last wave rolls back every cluster the release touched, newest first', async () => {
  world('us-1').setMetric('checkout', 'green', 0.8);
  const id = await startWaves(waveSpec());
  await h.until(id, (s) => s.stage === 'approval', 10_000);
  for (const who of ['alice', 'bob']) await h.releases.approve(id, who);
  const result = await h.finish(id);
  expect(result).toMatchObject({ outcome: 'rolled-back', cause: 'analysis' });
  expect(result.reason).toMatch(/^us-1: analysis success-rate failed at canary step 3 of checkout/);
  expect(events(result.status, 'cluster-undone')).toEqual(['cluster eu-2 undone: us-1 failed', 'cluster eu-1 undone: us-1 failed']);
  for (const name of ['eu-1', 'eu-2', 'us-1'] as const) {
    expect(world(name).service('checkout')).toMatchObject({ active: 'blue', weights: { blue: 100, green: 0 } });
    expect(world(name).calls.some((c) => c.startsWith('scaleDeployment'))).toBe(false);
  }
  // traffic first in each cluster; eu-1 also puts staging back
  expect(world('eu-1').calls.filter((c) => c.startsWith('restore'))).toEqual(['restoreTraffic checkout blue', 'restoreWorkloads checkout', 'restoreStaging checkout']);
  expect((await h.releases.result(`${id}/us-1`)).outcome).toBe('rolled-back');
  // and an operator reads which clusters were undone, newest first, and why
  const text = renderStatus(result.status);
  expect(text).toContain('rollback, newest first: us-1 rolled itself back, then eu-2 undone, eu-1 undone');
  expect(text).toMatch(/✗ us-1 +rolled back: analysis success-rate failed at canary step 3 of checkout/);
  expect(text).toMatch(/↩ eu-1 +undone: us-1 failed/);
  if (process.env.TIDEGATE_PRINT_WAVES) process.stdout.write(`${text}\n`);
});

test('an abort during a bake rolls back the baked wave and never starts the next', async () => {
  const id = await startWaves(waveSpec());
  await h.until(id, (s) => s.stage === 'approval', 10_000);
  for (const who of ['alice', 'bob']) await h.releases.approve(id, who);
  await h.until(id, (s) => s.stage === 'bake', 10_000);
  await h.releases.abort(id, 'erin', 'incident 4711');
  const result = await h.finish(id);
  expect(result).toMatchObject({ outcome: 'aborted', cause: 'aborted', reason: 'aborted by erin: incident 4711' });
  expect(world('eu-1').service('checkout')).toMatchObject({ active: 'blue', weights: { blue: 100, green: 0 } });
  expect(world('eu-2').calls).toEqual([]);
  expect(world('us-1').calls).toEqual([]);
  expect(events(result.status, 'cluster-undone')).toEqual(['cluster eu-1 undone: aborted by erin: incident 4711']);
});

test('approval per wave: each wave asks its approvers; a rejection at the second undoes the first wave too', async () => {
  const spec = waveSpec();
  for (const s of spec.services) if (s.production.approval) s.production.approval.per = 'wave';
  const id = await startWaves(spec);
  await h.until(id, (s) => s.stage === 'approval', 10_000);
  for (const who of ['alice', 'bob']) await h.releases.approve(id, who);
  // wave 2's clusters reach their gate after the bake: the release asks again
  const second = await h.until(id, (s) => s.stage === 'approval' && (s.waves?.[1]?.state ?? '') === 'awaiting-approval', 60_000);
  expect(second.waves?.[0]?.state).toBe('baked');
  await h.releases.reject(id, 'alice', 'latency in eu-1 is up');
  const result = await h.finish(id);
  expect(result).toMatchObject({ outcome: 'rejected', cause: 'rejected', reason: 'alice rejected checkout: latency in eu-1 is up' });
  for (const name of ['eu-1', 'eu-2', 'us-1'] as const) expect(world(name).service('checkout')).toMatchObject({ active: 'blue', weights: { blue: 100, green: 0 } });
  // newest first: the second wave's two clusters (in the order they started, latest first), then eu-1
  expect(events(result.status, 'cluster-undone').map((e) => e.split(' ')[1])).toEqual(['us-1', 'eu-2', 'eu-1']);
});

test("a roll back that reaches a cluster's release in its first task stops it before it touches the cluster", async () => {
  // as the parent's rollback signals the part it started last, racing that part's first workflow task
  const spec = waveSpec();
  const { clusters: _c, waves: _w, ...partSpec } = spec;
  const input: ReleaseInput = { contract: 5, spec: partSpec, initiator: 'carol', supersede: false, part: { parent: 'checkout@2.0.0', cluster: { name: 'eu-2', context: 'ctx-eu-2' }, wave: 1 } };
  const id = 'checkout@2.0.0/eu-2';
  await h.env.client.workflow.signalWithStart('release', { workflowId: id, taskQueue: h.taskQueue, args: [input], signal: 'clusterRollBack', signalArgs: [{ reason: 'us-1 failed' }] });
  const result = await h.releases.result(id);
  expect(result).toMatchObject({ outcome: 'aborted', reason: 'aborted by checkout@2.0.0: us-1 failed' });
  expect(world('eu-2').calls).toEqual([]);
});
