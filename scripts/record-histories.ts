// Re-records the workflow histories that CI replays (test/fixtures/histories/) by running release
// scenarios on the time-skipping test server with the in-memory cluster. Run after an intentional,
// replay-safe change to the workflow's history shape:   npx tsx scripts/record-histories.ts [name …]
// (names record only those scenarios, e.g. a new one, leaving the older recordings as they are).
// Never re-record to silence a replay failure: that failure means running releases would break.
import '../test/support/quiet-runtime.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshKeygenSigner } from '../src/signing/sign.js';
import { abortSignal, calendarChangedSignal } from '../src/workflows/definitions.js';
import { parsePayloadKeys } from '../src/temporal/codec.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { validateSpec, type ReleaseSpec } from '../src/spec/index.js';
import type { TrainInput, TrainResult } from '../src/workflows/train.js';
import { approvalOnlySpec, pausedAt, withMigrations, specFor, startHarness, SUCCESS_RATE, type Harness, type SpecDoc } from '../devkit/testing/harness.js';

const out = new URL('../test/fixtures/histories/', import.meta.url);

/** setWeight 10, then at once an analysis; no staging, approval or monitor. */
function analysisRightAfterWeight(doc: SpecDoc): void {
  doc.staging = undefined;
  doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['success-rate'] } }] };
  doc.production.approval = undefined;
  doc.production.monitor = undefined;
}

/** setWeight 10, a 2-minute pause, then (after the switch) a 10-minute scale-down delay; no approval or monitor. */
function withoutApproval(doc: SpecDoc): void {
  doc.staging = undefined;
  doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }] };
  doc.production.approval = undefined;
  doc.production.monitor = undefined;
}

/** A compare analysis of latency (one metric, `query:` shorthand). */
const LATENCY = { kind: 'compare', query: 'latency{service="{{service}}",color="{{color}}"}', interval: '15s', count: 8 };

/** payments, then checkout (which depends on it), each with a replicas canary and an analysis; reported to GitHub. */
function shop(version: string): ReleaseSpec {
  const svc = (service: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    service,
    image: `registry.local/${service}:${version}`,
    production: {
      namespace: 'prod',
      blueGreen: { activeService: service, deploymentPrefix: service, scaleDownDelay: '5m' },
      canary: { traffic: { router: 'replicas' }, steps: [{ setWeight: 20 }, { analysis: { analyses: ['success-rate'] } }] },
    },
    ...extra,
  });
  const parsed = validateSpec({
    release: 'shop',
    version,
    source: { repo: 'acme/shop', sha: '9b1d0c4' },
    services: [svc('checkout', { dependsOn: ['payments'] }), svc('payments')],
    analyses: { 'success-rate': { query: 'rate{service="{{service}}",color="{{color}}"}', successCondition: '>= 0.99', interval: '30s', count: 3 } },
  });
  if (!parsed.ok) throw new Error(`shop spec invalid: ${JSON.stringify(parsed.problems)}`);
  return parsed.spec;
}

/** A release of checkout whose build gate awaits a check and dispatches smoke.yml; reported to GitHub. */
function withDispatch(version: string): ReleaseSpec {
  return specFor('checkout', version, (doc) => {
    withoutApproval(doc);
    doc.source = { repo: 'acme/checkout', sha: '3f2c9e1' };
    doc.build = { requiredChecks: ['build'], dispatch: { workflow: 'smoke.yml', ref: 'main', inputs: { environment: 'staging' } } };
  });
}

/** Keys made by ssh-keygen for one recording, and the worker's allowed signers file listing them. */
function signingKeys(h: Harness, names: Record<string, string[]>): (name: string) => ReturnType<typeof sshKeygenSigner> {
  const dir = mkdtempSync(join(tmpdir(), 'tidegate-record-'));
  const lines: string[] = [];
  for (const [name, type] of Object.entries(names)) {
    execFileSync('ssh-keygen', ['-q', ...type, '-N', '', '-C', name, '-f', join(dir, name)]);
    lines.push(`${name} ${readFileSync(join(dir, `${name}.pub`), 'utf8').trim()}`);
  }
  writeFileSync(join(dir, 'allowed_signers'), `${lines.join('\n')}\n`);
  h.world.signing = { allowedSignersFile: join(dir, 'allowed_signers'), requireSigned: false };
  return (name) => sshKeygenSigner(join(dir, name));
}

/** Approval only, signatures required by the spec. */
function signedSpec(version: string): ReleaseSpec {
  return specFor('checkout', version, (doc) => {
    doc.production.canary = undefined;
    doc.production.approval = { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, timeout: '24h', onTimeout: 'rollback', requireSignature: true };
  });
}

/**
 * Each scenario returns the id of the release to record (as `<scenario>.json`), or several:
 * fixture name → release id.
 */
/**
 * Two signed approvals; an unsigned one refused by the validator (reported by the client), and a
 * signature by a key that is not the approver's refused after verification. Recorded twice: before
 * the otel-tracing patch (signed-approved) and through the workflow interceptors
 * (traced-signed-approved), where update handlers and the main line resume in one activation.
 */
async function signedApproved(h: Harness, version: string): Promise<string> {
  const key = signingKeys(h, { alice: ['-t', 'ed25519'], bob: ['-t', 'rsa', '-b', '3072'], dave: ['-t', 'ed25519'], mallory: ['-t', 'ed25519'] });
  const { releaseId } = await h.releases.start(signedSpec(version), { initiator: 'dave', signer: key('dave') });
  await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.gate !== undefined);
  await h.releases.approve(releaseId, 'bob').catch(() => undefined);
  await h.releases.approve(releaseId, 'bob', undefined, key('mallory')).catch(() => undefined);
  await h.releases.approve(releaseId, 'alice', 'looks good', key('alice'));
  await h.releases.approve(releaseId, 'bob', undefined, key('bob'));
  await h.finish(releaseId);
  return releaseId;
}

/**
 * A release train fired once (what a schedule starts): the repository's tags in the fake, the train
 * run to its end, its history recorded under trains/ (the train's, not its child release's).
 */
async function train(h: Harness, name: string, input: Omit<TrainInput, 'schedule' | 'createdBy'>): Promise<Record<string, string>> {
  const id = `tidegate-train/${name}-workflow`;
  const result = await h.env.client.workflow.execute('releaseTrain', { workflowId: id, taskQueue: h.taskQueue, args: [{ ...input, schedule: name, createdBy: 'carol' }] });
  console.log(`${name}: ${JSON.stringify(result as TrainResult)}`);
  return { [`trains/${name}`]: id };
}

/** The clusters of the wave scenarios: the spec's name → the kubeconfig context the worker reaches it by. */
const WAVE_CLUSTERS = { 'eu-1': 'ctx-eu-1', 'eu-2': 'ctx-eu-2', 'us-1': 'ctx-us-1' };

/** checkout to eu-1 (baked 30m), then eu-2 and us-1 together; one approval for the release; analyses per cluster. */
function waveSpec(version: string): ReleaseSpec {
  return specFor('checkout', version, (doc) => {
    const production = doc.production as { canary: { steps: unknown[] } };
    production.canary.steps = [{ setWeight: 10 }, { pause: { duration: '2m' } }, { analysis: { analyses: ['success-rate'] } }, { setWeight: 50 }];
    const analyses = doc.analyses as Record<string, { query: string }>;
    analyses['success-rate'] = { ...analyses['success-rate'], query: SUCCESS_RATE.replaceAll('color="{{color}}"', 'color="{{color}}",cluster="{{cluster}}"') };
    doc.clusters = Object.fromEntries(Object.entries(WAVE_CLUSTERS).map(([name, context]) => [name, { context }]));
    doc.waves = [
      { name: 'canary', clusters: ['eu-1'], bake: '30m' },
      { name: 'rest', clusters: ['eu-2', 'us-1'], maxParallel: 2 },
    ];
  });
}

/** A release across clusters approved once and run to its end; its history and each cluster's recorded under waves/. */
async function waves(h: Harness, name: string, version: string): Promise<Record<string, string>> {
  const { releaseId } = await h.releases.start(waveSpec(version), { initiator: 'dave' });
  await h.until(releaseId, (s) => s.stage === 'approval', 10_000);
  for (const who of ['alice', 'bob']) await h.releases.approve(releaseId, who);
  await h.finish(releaseId);
  return { [`waves/${name}`]: releaseId, ...Object.fromEntries(Object.keys(WAVE_CLUSTERS).map((c) => [`waves/${name}-${c}`, `${releaseId}/${c}`])) };
}

/** checkout without staging, approval or monitor: the trains' child releases end on their own. */
const trainSpec = specFor('checkout', '0.0.0', (doc) => {
  withoutApproval(doc);
  doc.source = { repo: 'acme/checkout', sha: '0000000' };
});

/** The whole release: paused at its 5th canary step, promoted, approved by alice and bob, released. */
async function promotedAndApproved(h: Harness, version: string): Promise<string> {
  const { releaseId } = await h.releases.start(specFor('checkout', version), { initiator: 'dave' });
  await h.until(releaseId, pausedAt('awaiting-promote', 5), 10_000);
  await h.releases.promote(releaseId, 'dave');
  await h.until(releaseId, (s) => s.stage === 'approval');
  await h.releases.approve(releaseId, 'alice', 'looks good');
  await h.releases.approve(releaseId, 'bob');
  await h.finish(releaseId);
  return releaseId;
}

/** A 24-hour monitor window (5-minute batches, no approval): the new color starts failing 20% of requests in its second batch; rolled back. */
async function faultInWatchedWindow(h: Harness, version: string, beforeFault: () => void = () => undefined): Promise<string> {
  const spec = specFor('checkout', version, (doc) => {
    withoutApproval(doc);
    doc.production.monitor = { duration: '24h', analyses: ['success-rate'] };
  });
  const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
  await h.until(releaseId, (s) => (s.analyses.find((a) => a.stage === 'monitor')?.measurements.length ?? 0) >= 10, 30_000);
  beforeFault();
  h.world.setMetric('checkout', 'green', 0.8);
  await h.finish(releaseId);
  return releaseId;
}

/** The canary color fails 20% of requests: its first measurement fails and the release rolls back. */
async function failedMeasurement(h: Harness, version: string): Promise<string> {
  h.world.setMetric('checkout', 'green', 0.8);
  const { releaseId } = await h.releases.start(specFor('checkout', version), { initiator: 'dave' });
  await h.finish(releaseId);
  return releaseId;
}

const scenarios: Record<string, (h: Harness) => Promise<string | Record<string, string>>> = {
  'released': (h) => promotedAndApproved(h, '1.4.2'),
  'rolled-back-by-analysis': (h) => failedMeasurement(h, '1.4.3'),
  async 'rollout-timed-out'(h) {
    // the canary's Deployment never becomes ready: the adapter's RolloutTimeout ends it timed out (exit 13)
    h.world.stuckRollouts.add('prod/checkout-green');
    const { releaseId } = await h.releases.start(specFor('checkout', '1.9.0'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'rejected'(h) {
    const { releaseId } = await h.releases.start(specFor('checkout', '1.4.4', (doc) => {
      doc.production.canary = undefined;
    }), { initiator: 'dave' });
    await h.until(releaseId, (s) => s.stage === 'approval');
    await h.releases.approve(releaseId, 'alice');
    await h.releases.reject(releaseId, 'bob', 'error budget is spent');
    await h.finish(releaseId);
    return releaseId;
  },
  'signed-approved': (h) => signedApproved(h, '2.1.0'),
  'traced-signed-approved': (h) => signedApproved(h, '2.3.0'),
  async 'signed-rejected'(h) {
    const key = signingKeys(h, { alice: ['-t', 'ecdsa', '-b', '256'], carol: ['-t', 'ed25519'], dave: ['-t', 'ecdsa', '-b', '384'] });
    const { releaseId } = await h.releases.start(signedSpec('2.1.1'), { initiator: 'dave', signer: key('dave') });
    await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.gate !== undefined);
    await h.releases.approve(releaseId, 'alice', undefined, key('alice'));
    await h.releases.reject(releaseId, 'carol', 'the migration is not reversible', key('carol'));
    await h.finish(releaseId);
    return releaseId;
  },
  async 'unsigned-start-refused'(h) {
    // a worker that requires signed decisions: an unsigned start stops before the locks (exit 3)
    signingKeys(h, { alice: ['-t', 'ed25519'] });
    h.world.signing = { ...h.world.signing, requireSigned: true };
    // start answers refused (exit 3); the release has ended with the reason
    await h.releases.start(specFor('checkout', '2.1.2'), { initiator: 'dave' }).catch(() => undefined);
    await h.finish('checkout@2.1.2');
    return 'checkout@2.1.2';
  },
  async 'queued-released'(h) {
    // started by startMany: the client took the lock before the release ran, the release confirms it
    await h.releases.startMany([specFor('checkout', '4.2.0', withoutApproval)], { initiator: 'dave' });
    await h.finish('checkout@4.2.0');
    return 'checkout@4.2.0';
  },
  async 'queued-unsigned-refused'(h) {
    // queued unsigned under a worker that requires signed decisions: refused at its start, and the
    // lock the client took for it given back (an unlock signal without a lock stage)
    signingKeys(h, { alice: ['-t', 'ed25519'] });
    h.world.signing = { ...h.world.signing, requireSigned: true };
    await h.releases.startMany([specFor('checkout', '4.2.1')], { initiator: 'dave' });
    await h.finish('checkout@4.2.1');
    return 'checkout@4.2.1';
  },
  async 'signed-promoted-aborted'(h) {
    // signatures required by the spec: an unsigned promote refused by the validator, a signed one
    // taken; at the next pause an unsigned abort (update) and an abort signal refused, a signed abort taken
    const key = signingKeys(h, { alice: ['-t', 'ed25519'], bob: ['-t', 'ecdsa', '-b', '256'], dave: ['-t', 'ed25519'] });
    const spec = specFor('checkout', '2.1.3', (doc) => {
      delete doc.production.monitor;
      doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: {} }] };
      doc.production.approval = { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, timeout: '24h', onTimeout: 'rollback', requireSignature: true };
    });
    const { releaseId } = await h.releases.start(spec, { initiator: 'dave', signer: key('dave') });
    await h.until(releaseId, pausedAt('awaiting-promote', 2));
    await h.releases.promote(releaseId, 'alice').catch(() => undefined);
    await h.releases.promote(releaseId, 'alice', false, key('alice'));
    await h.until(releaseId, pausedAt('awaiting-promote', 4));
    await h.releases.abort(releaseId, 'bob', 'error budget burnt').catch(() => undefined);
    await h.env.client.workflow.getHandle(releaseId).signal(abortSignal, { by: 'mallory', reason: 'no key needed?' });
    await h.releases.abort(releaseId, 'bob', 'error budget burnt', key('bob'));
    await h.until(releaseId, (s) => s.outcome !== undefined);
    await h.finish(releaseId);
    return releaseId;
  },
  async 'signed-superseded'(h) {
    // both releases require signatures: the newer one's signed start goes with its supersede, and the
    // older one verifies it before it rolls back
    const key = signingKeys(h, { alice: ['-t', 'ed25519'], dave: ['-t', 'ed25519'], erin: ['-t', 'ed25519'] });
    const signedCanary = (version: string): ReleaseSpec =>
      specFor('checkout', version, (doc) => {
        withoutApproval(doc);
        doc.production.approval = { approvers: ['alice', 'bob'], minApprovals: 1, timeout: '24h', onTimeout: 'rollback', requireSignature: true };
      });
    const first = await h.releases.start(signedCanary('2.1.4'), { initiator: 'dave', signer: key('dave') });
    await h.until(first.releaseId, pausedAt('step-pause', 2));
    const second = await h.releases.start(signedCanary('2.1.5'), { initiator: 'erin', signer: key('erin'), supersede: true });
    await h.until(first.releaseId, (s) => s.outcome !== undefined);
    await h.until(second.releaseId, (s) => s.stage === 'approval' && s.services[0]?.gate !== undefined);
    await h.releases.approve(second.releaseId, 'alice', undefined, key('alice'));
    await h.finish(second.releaseId);
    return { 'signed-superseded': first.releaseId, 'signed-superseding': second.releaseId };
  },
  async 'encrypted-released'(h) {
    // every payload encrypted with the fixtures' key: start input, activity inputs and results, updates, the result
    const { releaseId } = await h.releases.start(
      specFor('checkout', '2.1.7', (doc) => {
        delete doc.staging;
        delete doc.production.monitor;
      }),
      { initiator: 'dave' },
    );
    await h.until(releaseId, pausedAt('awaiting-promote', 5), 10_000);
    await h.releases.promote(releaseId, 'dave');
    await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.approvalsNeeded === 2);
    await h.releases.approve(releaseId, 'alice', 'looks good');
    await h.releases.approve(releaseId, 'bob');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'awaiting-aborted'(h) {
    // the gate advertises who may approve (TidegateAwaiting), one approval narrows it, an abort clears it
    const { releaseId } = await h.releases.start(
      specFor('checkout', '2.1.6', (doc) => {
        delete doc.staging;
        delete doc.production.canary;
        delete doc.production.monitor;
      }),
      { initiator: 'dave' },
    );
    await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.approvalsNeeded === 2);
    await h.releases.approve(releaseId, 'alice', 'looks good');
    await h.releases.abort(releaseId, 'erin', 'customer incident');
    await h.until(releaseId, (s) => s.outcome !== undefined);
    await h.finish(releaseId);
    return releaseId;
  },
  async 'window-waited-released'(h) {
    // a 5-hour freeze in the spec holds staging (checked again hourly), then staging, approval, switch
    const now = await h.env.currentTimeMs();
    const spec = specFor('checkout', '3.0.0', (doc) => {
      delete doc.production.canary;
      delete doc.production.monitor;
      doc.windows = { freezes: [{ from: new Date(now - 3_600_000).toISOString(), until: new Date(now + 5 * 3_600_000).toISOString(), reason: 'weekend freeze' }] };
    });
    const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
    await h.until(releaseId, (s) => s.stage === 'approval', 3_600_000);
    await h.releases.approve(releaseId, 'alice');
    await h.releases.approve(releaseId, 'bob');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'frozen-aborted'(h) {
    // a global freeze holds the switch after the approvals; told the calendar changed while still frozen, it waits on; then aborted
    h.world.globalFreeze = { by: 'erin', reason: 'incident 4711', since: new Date(await h.env.currentTimeMs()).toISOString() };
    const { releaseId } = await h.releases.start(approvalOnlySpec('checkout', '3.0.1'), { initiator: 'dave' });
    await h.until(releaseId, (s) => s.stage === 'approval');
    await h.releases.approve(releaseId, 'alice');
    await h.releases.approve(releaseId, 'bob');
    await h.until(releaseId, (s) => s.waiting !== undefined);
    await h.env.sleep(60_000);
    await h.env.client.workflow.getHandle(releaseId).signal(calendarChangedSignal);
    // (aborting two more hours later makes the time-skipping server reject the workflow task that
    // accepts the update — "invalid history builder state for action" — and the recording hangs;
    // test/e2e/freeze.test.ts aborts waiting releases on the dev server)
    await h.env.sleep(5_000);
    await h.releases.abort(releaseId, 'erin', 'not this week');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'notified-stalled-released'(h) {
    // the approval gate waits two hours (one "no progress" notice after the first), then approved and released
    const { releaseId } = await h.releases.start(approvalOnlySpec('checkout', '4.0.0'), { initiator: 'dave' });
    await h.until(releaseId, (s) => s.stage === 'approval');
    await h.env.sleep(2 * 3_600_000);
    await h.releases.approve(releaseId, 'alice');
    await h.releases.approve(releaseId, 'bob');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'notified-rolled-back'(h) {
    // the canary's analysis fails: rolled back, and one notification with the verdict
    h.world.setMetric('checkout', 'green', 0.5);
    const { releaseId } = await h.releases.start(specFor('checkout', '4.0.1'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'notified-sink-down'(h) {
    // every send fails: the release is approved and released all the same, and its end gives up waiting after two minutes
    h.world.failures.set('notify', 100);
    const { releaseId } = await h.releases.start(approvalOnlySpec('checkout', '4.0.2'), { initiator: 'dave' });
    await h.until(releaseId, (s) => s.stage === 'approval');
    await h.releases.approve(releaseId, 'alice');
    await h.releases.approve(releaseId, 'bob');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'aborted-during-pause'(h) {
    const { releaseId } = await h.releases.start(specFor('checkout', '1.4.5'), { initiator: 'dave' });
    await h.until(releaseId, pausedAt('step-pause', 2));
    await h.releases.abort(releaseId, 'erin', 'incident');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'reported-to-github'(h) {
    // build gate, GitHub deployments and commit statuses, released after approval
    const { releaseId } = await h.releases.start(
      specFor('checkout', '1.4.8', (doc) => {
        doc.source = { repo: 'acme/checkout', sha: '3f2c9e1' };
        doc.build = { requiredChecks: ['build', 'test'] };
        doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['success-rate'] } }] };
      }),
      { initiator: 'dave' },
    );
    await h.until(releaseId, (s) => s.stage === 'approval');
    await h.releases.approve(releaseId, 'alice');
    await h.releases.approve(releaseId, 'bob');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'failed-fast'(h) {
    // a failing threshold analysis cancels the compare analysis measuring beside it
    h.world.setMetric('checkout', 'green', 0.7);
    const { releaseId } = await h.releases.start(
      specFor('checkout', '1.4.9', (doc) => {
        doc.analyses.latency = { kind: 'compare', query: 'latency{service="{{service}}",color="{{color}}"}', interval: '1m', count: 30 };
        doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['success-rate', 'latency'] } }] };
      }),
      { initiator: 'dave' },
    );
    await h.finish(releaseId);
    return releaseId;
  },
  async 'compare-judged'(h) {
    // a compare analysis at a canary step (slower canary → High) and the rollback it causes
    h.world.setMetric('checkout', 'green', 0.4);
    h.world.setMetric('checkout', 'blue', 0.06);
    const { releaseId } = await h.releases.start(
      specFor('checkout', '1.4.7', (doc) => {
        doc.analyses.latency = { kind: 'compare', query: 'latency{service="{{service}}",color="{{color}}"}', interval: '15s', count: 8 };
        doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 20 }, { analysis: { analyses: ['latency'] } }] };
      }),
      { initiator: 'dave' },
    );
    await h.finish(releaseId);
    return releaseId;
  },
  async 'nan-inconclusive-promoted'(h) {
    // an analysis right after the weight change waits for its window (initial delay); Prometheus
    // answers NaN (spelled out, as it crosses the payload converter): Inconclusive, a pause, promoted
    h.world.setMetric('checkout', 'green', 'NaN');
    const { releaseId } = await h.releases.start(specFor('checkout', '1.5.1', analysisRightAfterWeight), { initiator: 'dave' });
    await h.until(releaseId, (s) => s.pausedFor !== undefined);
    await h.releases.promote(releaseId, 'dave');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'null-inconclusive'(h) {
    // a NaN an older worker sent as a bare number reaches a new release as null: Inconclusive, rolled back by policy
    h.world.setMetric('checkout', 'green', 'null');
    const { releaseId } = await h.releases.start(
      specFor('checkout', '1.5.2', (doc) => {
        analysisRightAfterWeight(doc);
        doc.analyses['success-rate'] = { ...doc.analyses['success-rate'], onInconclusive: 'rollback' };
      }),
      { initiator: 'dave' },
    );
    await h.finish(releaseId);
    return releaseId;
  },
  async 'drift-kept-serving-color'(h) {
    // traffic reset to blue during the scale-down delay: the release pauses, is promoted, and leaves blue running
    const { releaseId } = await h.releases.start(specFor('checkout', '1.5.3', withoutApproval), { initiator: 'dave' });
    await h.until(releaseId, (s) => s.stage === 'scale-down');
    Object.assign(h.world.service('checkout'), { active: 'blue', weights: { blue: 100, green: 0 } });
    await h.until(releaseId, (s) => s.pausedFor !== undefined, 30_000);
    await h.releases.promote(releaseId, 'dave');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'drift-rollback-left-alone'(h) {
    // the route moved to green by hand during a canary pause; abort: the traffic undo is skipped and green spared
    const { releaseId } = await h.releases.start(specFor('checkout', '1.5.4', withoutApproval), { initiator: 'dave' });
    await h.until(releaseId, pausedAt('step-pause', 2));
    h.world.service('checkout').weights = { blue: 0, green: 100 };
    await h.until(releaseId, pausedAt('traffic-drift', undefined, 'checkout'), 30_000);
    await h.releases.abort(releaseId, 'erin', 'traffic is handled by hand');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'multi-service-released'(h) {
    // two services in dependency order (payments, then checkout), replicas canaries, a GitHub deployment per service
    const { releaseId } = await h.releases.start(shop('3.1.0'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'multi-service-rolled-back'(h) {
    // the second service's analysis fails: both are rolled back, traffic first
    h.world.setMetric('checkout', 'green', 0.5);
    const { releaseId } = await h.releases.start(shop('3.1.1'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'superseded'(h) {
    // a release paused in its canary is superseded: it rolls back and tells the new one the lock is free;
    // the new one breaks in (signal, wait for lockFreed) and releases
    const first = await h.releases.start(specFor('checkout', '1.6.0', withoutApproval), { initiator: 'dave' });
    await h.until(first.releaseId, pausedAt('step-pause', 2));
    const second = await h.releases.start(specFor('checkout', '1.6.1', withoutApproval), { initiator: 'ci', supersede: true });
    // read through status, not result(): the time-skipping client's result() leaves time skipping locked
    await h.until(first.releaseId, (s) => s.outcome !== undefined);
    await h.finish(second.releaseId);
    return { superseded: first.releaseId, superseding: second.releaseId };
  },
  async 'approval-timed-out-proceeded'(h) {
    // nobody approves within 24h; onTimeout: proceed records it and releases
    const { releaseId } = await h.releases.start(
      specFor('checkout', '1.6.2', (doc) => {
        const approval = doc.production.approval;
        withoutApproval(doc);
        doc.production.approval = { ...approval, onTimeout: 'proceed' };
      }),
      { initiator: 'dave' },
    );
    await h.until(releaseId, (s) => s.stage === 'approval');
    await h.releases.approve(releaseId, 'alice');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'promoted-full'(h) {
    // promote --full during the first pause skips the remaining canary steps
    const { releaseId } = await h.releases.start(specFor('checkout', '1.6.3', (doc) => void (doc.production.monitor = undefined)), { initiator: 'dave' });
    await h.until(releaseId, pausedAt('step-pause', 2));
    await h.releases.promote(releaseId, 'dave', true);
    await h.until(releaseId, (s) => s.stage === 'approval');
    await h.releases.approve(releaseId, 'alice');
    await h.releases.approve(releaseId, 'bob');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'inconclusive-paused-promoted'(h) {
    // the metrics backend is down during staging verification: Inconclusive (consecutive errors), a pause, promoted, released
    h.world.setMetric('checkout', 'staging', 'error');
    const { releaseId } = await h.releases.start(
      specFor('checkout', '1.6.4', (doc) => {
        withoutApproval(doc);
        doc.staging = { namespace: 'staging', deployment: 'checkout', verify: ['success-rate'] };
      }),
      { initiator: 'dave' },
    );
    await h.until(releaseId, (s) => s.pausedFor !== undefined);
    await h.releases.promote(releaseId, 'dave');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'compare-staging-monitor-released'(h) {
    // compare analyses in staging (against staging before its deploy), at a canary step and in the monitor
    // window (against the old color before traffic moved); an identical canary passes all three
    h.world.setMetric('checkout', 'staging', 0.06);
    h.world.setMetric('checkout', 'green', 0.06);
    h.world.setMetric('checkout', 'blue', 0.06);
    const { releaseId } = await h.releases.start(
      specFor('checkout', '1.6.5', (doc) => {
        doc.analyses.latency = LATENCY;
        doc.staging = { namespace: 'staging', deployment: 'checkout', verify: ['latency'] };
        doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 20 }, { analysis: { analyses: ['latency'] } }] };
        doc.production.approval = undefined;
        doc.production.monitor = { duration: '30m', analyses: ['latency'] };
      }),
      { initiator: 'dave' },
    );
    await h.finish(releaseId);
    return releaseId;
  },
  async 'compare-monitor-rolled-back'(h) {
    // a compare analysis in the monitor window: the new color slower than the old one before the switch → rolled back
    h.world.setMetric('checkout', 'green', 0.4);
    h.world.setMetric('checkout', 'blue', 0.06);
    const { releaseId } = await h.releases.start(
      specFor('checkout', '1.6.6', (doc) => {
        doc.analyses.latency = LATENCY;
        doc.staging = undefined;
        doc.production.canary = undefined;
        doc.production.approval = undefined;
        doc.production.monitor = { duration: '30m', analyses: ['latency'] };
      }),
      { initiator: 'dave' },
    );
    await h.finish(releaseId);
    return releaseId;
  },
  async 'build-dispatched'(h) {
    // the build gate awaits the required check, then dispatches smoke.yml and waits for its run; released
    const { releaseId } = await h.releases.start(withDispatch('1.6.7'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'build-dispatch-failed'(h) {
    // the dispatched run fails: the release stops before staging, nothing to roll back
    h.world.dispatched = { conclusion: 'failure', failing: [{ name: 'workflow smoke.yml run #7', conclusion: 'failure' }] };
    const { releaseId } = await h.releases.start(withDispatch('1.6.8'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'failed-ending-rolled-back'(h) {
    // a rollback by analysis closes the workflow as failed (ReleaseRolledBack), the result in its details
    h.world.setMetric('checkout', 'green', 0.8);
    const { releaseId } = await h.releases.start(specFor('checkout', '2.2.0'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'failed-ending-aborted'(h) {
    const { releaseId } = await h.releases.start(specFor('checkout', '2.2.1'), { initiator: 'dave' });
    await h.until(releaseId, pausedAt('step-pause', 2));
    await h.releases.abort(releaseId, 'erin', 'incident');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'encrypted-rejected'(h) {
    // the failure's details (the result) are encrypted like every other payload; its message is not
    const { releaseId } = await h.releases.start(
      specFor('checkout', '2.2.2', (doc) => {
        delete doc.staging;
        delete doc.production.canary;
        delete doc.production.monitor;
      }),
      { initiator: 'dave' },
    );
    await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.approvalsNeeded === 2);
    await h.releases.reject(releaseId, 'bob', 'error budget is spent');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'hooks-released'(h) {
    // the migration pattern: expand before the canary, contract after the monitor window; released
    const spec = specFor('checkout', '5.1.0', (doc) => {
      withMigrations(doc);
      doc.staging = undefined;
      doc.production.approval = undefined;
      doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }] };
      doc.production.monitor = { duration: '10m' };
    });
    const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'hooks-canary-failed-undone'(h) {
    // the canary fails its analysis: traffic and workloads back, then the expand's undo Job
    h.world.setMetric('checkout', 'green', 0.5);
    const spec = specFor('checkout', '5.1.1', (doc) => {
      withMigrations(doc);
      analysisRightAfterWeight(doc);
    });
    const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'hook-failed'(h) {
    // the expand Job fails: the release stops before any traffic moves, its log tail in status, the undo runs
    h.world.hookOutcomes.set('expand-schema/run', {
      phase: 'Failed',
      detail: 'Job prod/checkout-expand-schema-1a2b3c4d failed (BackoffLimitExceeded): pod checkout-expand-schema-1a2b3c4d-x7k2p exited 3 (Error)',
      logTail: ['ALTER TABLE orders ADD COLUMN note text', 'ERROR: relation "orders" does not exist'],
    });
    const spec = specFor('checkout', '5.1.2', (doc) => {
      withMigrations(doc);
      analysisRightAfterWeight(doc);
    });
    const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'train-released'(h) {
    // the newest release tag (v1.10.0, not the pre-release or the older ones) shipped as checkout@1.10.0
    h.world.tags.set('acme/checkout', [
      { name: 'v1.9.3', sha: 'a1a1a1a' },
      { name: 'v1.10.0', sha: 'b2b2b2b' },
      { name: 'v1.11.0-rc.1', sha: 'c3c3c3c' },
      { name: 'nightly', sha: 'd4d4d4d' },
    ]);
    return train(h, 'train-released', { spec: trainSpec, version: { from: 'tags' } });
  },
  async 'train-rolled-back'(h) {
    // the next version of the list is rolled back by its analysis: the train's result says so
    h.world.setMetric('checkout', 'green', 0.5);
    const spec = specFor('checkout', '0.0.0', analysisRightAfterWeight);
    return train(h, 'train-rolled-back', { spec, version: { from: 'list', versions: ['2.0.0', '2.1.0'] } });
  },
  async 'train-nothing-new'(h) {
    // the newest tag has a release already: nothing started
    h.world.tags.set('acme/checkout', [{ name: '1.0.0', sha: 'e5e5e5e' }]);
    await h.releases.start(specFor('checkout', '1.0.0', withoutApproval), { initiator: 'dave' });
    return train(h, 'train-nothing-new', { spec: trainSpec, version: { from: 'tags' } });
  },
  async 'monitor-watched-released'(h) {
    // the monitor window's threshold analysis watched batch by batch (10 minutes: ten 1-minute batches of two measurements); released
    const spec = specFor('checkout', '6.0.0', (doc) => {
      withoutApproval(doc);
      doc.production.monitor = { duration: '10m', analyses: ['success-rate'] };
    });
    const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  // a 24-hour window (5-minute batches): the new version starts failing in the second batch, whose
  // watch returns at its second Failed measurement; traffic back to blue at once (recorded before the
  // watch carried the traffic undo: its answers are the plain list)
  'monitor-watch-rolled-back': (h) => faultInWatchedWindow(h, '6.0.1'),
  // the same with the saga's traffic undo in each watch: the watch that sees the Failed verdict puts
  // traffic back itself before it answers (a WatchAnswer), then the rollback runs
  'monitor-watch-traffic-back': (h) => faultInWatchedWindow(h, '6.0.2'),
  // the watch's undo cut short by a failed Service write (the route back, the Service not): the
  // rollback's drift guard takes the half-way state as this release's own and finishes the undo
  'monitor-watch-cut-short': (h) => faultInWatchedWindow(h, '6.0.3', () => h.world.failures.set('restoreTraffic:services', 1)),
  // the cheap calls as local activities (patch local-calls): snapshots, drift reads, weights,
  // measurements and the scale-down; staging verified, promoted, approved, watched, scaled down
  'local-calls-released': (h) => promotedAndApproved(h, '7.0.0'),
  // a failed measurement (a local activity) rolls back; the rollback's traffic read and undos stay activities
  'local-calls-rolled-back': (h) => failedMeasurement(h, '7.0.1'),
  async 'drift-own-step-proceeded'(h) {
    // traffic already at the weight the next step sets (as a local activity in a workflow task that
    // timed out leaves it): the drift guard takes it as the step's own and goes on; released
    const { releaseId } = await h.releases.start(
      specFor('checkout', '7.2.0', (doc) => {
        withoutApproval(doc);
        doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ pause: { duration: '1m' } }, { setWeight: 10 }] };
      }),
      { initiator: 'dave' },
    );
    await h.until(releaseId, (s) => s.pause?.code === 'step-pause');
    h.world.service('checkout').weights = { blue: 90, green: 10 };
    await h.finish(releaseId);
    return releaseId;
  },
  async 'drift-own-step-run-proceeded'(h) {
    // traffic already at the later of two weights set back to back (both in one lost workflow task):
    // the drift guard before the first takes it as the release's own; released
    const { releaseId } = await h.releases.start(
      specFor('checkout', '7.3.0', (doc) => {
        withoutApproval(doc);
        doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ pause: { duration: '1m' } }, { setWeight: 10 }, { setWeight: 30 }] };
      }),
      { initiator: 'dave' },
    );
    await h.until(releaseId, (s) => s.pause?.code === 'step-pause');
    h.world.service('checkout').weights = { blue: 70, green: 30 };
    await h.finish(releaseId);
    return releaseId;
  },
  async 'local-calls-compare-released'(h) {
    // compare analyses' range queries as local activities: staging, a canary step and the monitor window
    h.world.setMetric('checkout', 'staging', 0.06);
    h.world.setMetric('checkout', 'green', 0.06);
    h.world.setMetric('checkout', 'blue', 0.06);
    const { releaseId } = await h.releases.start(
      specFor('checkout', '7.0.2', (doc) => {
        doc.analyses.latency = LATENCY;
        doc.staging = { namespace: 'staging', deployment: 'checkout', verify: ['latency'] };
        doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 20 }, { analysis: { analyses: ['latency'] } }] };
        doc.production.approval = undefined;
        doc.production.monitor = { duration: '30m', analyses: ['latency'] };
      }),
      { initiator: 'dave' },
    );
    await h.finish(releaseId);
    return releaseId;
  },
  // a release across three clusters in two waves: released everywhere, each cluster committed after the last wave
  'waves-released': (h) => waves(h, 'waves-released', '8.0.0'),
  // the last wave's canary fails in us-1: it rolls itself back, then eu-2 and eu-1 are rolled back, newest first
  'waves-rolled-back': (h) => {
    h.worlds.get('us-1')?.setMetric('checkout', 'green', 0.8);
    return waves(h, 'waves-rolled-back', '8.0.1');
  },
  async 'compensation-retried'(h) {
    h.world.setMetric('checkout', 'green', 0.5);
    h.world.failures.set('restoreTraffic', 1);
    const { releaseId } = await h.releases.start(specFor('checkout', '1.4.6'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
};

mkdirSync(out, { recursive: true });
const only = process.argv.slice(2);
const unknown = only.filter((n) => !(n in scenarios));
if (unknown.length > 0) throw new Error(`unknown scenarios ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
// encrypted-* scenarios run with the fixtures' throw-away payload key (test/fixtures/histories/payload-keys)
const fixtureKeys = parsePayloadKeys(readFileSync(new URL('payload-keys', out), 'utf8'));
for (const [name, scenario] of Object.entries(scenarios).filter(([n]) => only.length === 0 || only.includes(n))) {
  const h = await startHarness('tidegate-test', name.startsWith('encrypted-') ? { payloadKeys: fixtureKeys } : name.startsWith('waves-') ? { clusters: WAVE_CLUSTERS } : {});
  try {
    const recorded = await scenario(h);
    for (const [file, releaseId] of Object.entries(typeof recorded === 'string' ? { [name]: recorded } : recorded)) {
      const history = await h.env.client.workflow.getHandle(releaseId).fetchHistory();
      mkdirSync(new URL('.', new URL(`${file}.json`, out)), { recursive: true });
      writeFileSync(new URL(`${file}.json`, out), `${historyToJSON(history)}\n`);
      console.log(`${file}: ${releaseId}, ${history.events?.length ?? 0} events`);
    }
  } finally {
    await h.stop();
  }
}
