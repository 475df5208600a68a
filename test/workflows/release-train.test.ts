// Given the releaseTrain workflow (what a schedule fires) on the time-skipping server, the release
// workflow as its child, and the repository's tags in the in-memory GitHub… a firing ships the
// newest release tag (or the next of a list) as an ordinary release with its own id and initiator,
// says how that release ended (a rollback included), and starts nothing when there is nothing new.
import type { Harness, SpecDoc } from '../../devkit/testing/harness.js';
import { specFor, startHarness } from '../../devkit/testing/harness.js';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ReleaseInput } from '../../src/workflows/definitions.js';
import type { ReleaseSpec } from '../../src/spec/index.js';
import type { TrainInput, TrainResult } from '../../src/workflows/train.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.stop());

/** checkout from acme/checkout, a 10% canary with a 2-minute pause then the switch; nothing to approve. */
function spec(patch: (doc: SpecDoc) => void = () => undefined): ReleaseSpec {
  return specFor('checkout', '0.0.0', (doc) => {
    delete doc.staging;
    delete doc.production.approval;
    delete doc.production.monitor;
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }] };
    doc.source = { repo: 'acme/checkout', sha: '0000000' };
    patch(doc);
  });
}

async function fire(name: string, input: Omit<TrainInput, 'schedule' | 'createdBy'>): Promise<TrainResult> {
  return h.env.client.workflow.execute('releaseTrain', { workflowId: `tidegate-train/${name}`, taskQueue: h.taskQueue, args: [{ ...input, schedule: name, createdBy: 'carol' }] });
}

test('the newest release tag by semver (not a pre-release, not a non-version tag) is released as <name>@<version>, image and commit from the tag', async () => {
  h.world.tags.set('acme/checkout', [
    { name: 'v1.9.3', sha: 'a1a1a1a' },
    { name: 'v1.10.0', sha: 'b2b2b2b' },
    { name: 'v1.11.0-rc.1', sha: 'c3c3c3c' },
    { name: 'nightly', sha: 'd4d4d4d' },
  ]);
  const result = await fire('nightly', { spec: spec(), version: { from: 'tags' } });
  expect(result).toEqual({ started: true, releaseId: 'checkout@1.10.0', version: '1.10.0', outcome: 'released' });

  // an ordinary release: its own workflow, status and result, started by the schedule on carol's behalf
  const released = await h.releases.result('checkout@1.10.0');
  expect(released.status.initiator).toBe('schedule:nightly (by carol)');
  expect(released.status.services[0]).toMatchObject({ image: 'registry.local/checkout:1.10.0', version: '1.10.0' });
  expect(h.world.calls).toContain('deployImage checkout-green registry.local/checkout:1.10.0');
  const history = await h.env.client.workflow.getHandle('checkout@1.10.0').fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const input = defaultPayloadConverter.fromPayload<ReleaseInput>(started!);
  expect(input.spec.source).toEqual({ repo: 'acme/checkout', sha: 'b2b2b2b' });
  expect(input.supersede).toBe(false);

  // with pre-releases allowed, the release candidate is the newest
  const rc = await fire('nightly-rc', { spec: spec(), version: { from: 'tags', preReleases: true } });
  expect(rc).toMatchObject({ started: true, releaseId: 'checkout@1.11.0-rc.1', outcome: 'released' });
});

test('a second firing with no newer tag starts nothing and says why; no release tag at all is said too', async () => {
  h.world.tags.set('acme/checkout', [{ name: '1.0.0', sha: 'e5e5e5e' }]);
  expect(await fire('first', { spec: spec(), version: { from: 'tags' } })).toMatchObject({ started: true, releaseId: 'checkout@1.0.0' });
  expect(await fire('second', { spec: spec(), version: { from: 'tags' } })).toEqual({ started: false, reason: 'checkout@1.0.0 has a release already: nothing new to ship' });

  h.world.tags.set('acme/checkout', [{ name: 'latest', sha: 'f6f6f6f' }]);
  expect(await fire('third', { spec: spec(), version: { from: 'tags' } })).toEqual({ started: false, reason: 'acme/checkout has no release tag (vX.Y.Z or X.Y.Z) among its 1 tags' });
});

test('a list ships its versions in order, a rolled-back one counts as done, and the train reports the rollback', async () => {
  h.world.setMetric('checkout', 'green', 0.5);
  const failing = spec((doc) => {
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['success-rate'] } }] };
  });
  const first = await fire('list-1', { spec: failing, version: { from: 'list', versions: ['2.0.0', '2.1.0'] } });
  expect(first).toMatchObject({ started: true, releaseId: 'checkout@2.0.0', outcome: 'rolled-back' });
  expect(first.started && first.reason).toContain('analysis success-rate failed');

  h.world.setMetric('checkout', 'green', 1);
  expect(await fire('list-2', { spec: failing, version: { from: 'list', versions: ['2.0.0', '2.1.0'] } })).toMatchObject({ started: true, releaseId: 'checkout@2.1.0', outcome: 'released' });
  expect(await fire('list-3', { spec: failing, version: { from: 'list', versions: ['2.0.0', '2.1.0'] } })).toEqual({
    started: false,
    reason: 'every version of the list has a release already (2.0.0, 2.1.0)',
  });
});
