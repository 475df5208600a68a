// The contract at the payload boundary: every activity's input and result crosses Temporal's default
// payload converter (JSON) between the worker and the workflow. Each activity has samples here —
// the table is typed by the activity interface, so a new activity does not compile without them —
// with the awkward values each can hold (non-finite metrics, optional fields, empty lists), and
// each must arrive unchanged. Real adapters' results are checked the same way in the integration
// tests (devkit/testing/payloads.ts `throughPayloads`), and the worker refuses unsafe results.
import { ApplicationFailure } from '@temporalio/common';
import { observationsOf } from '../../src/activities/prometheus/index.js';
import { payloadSafe } from '../../src/activities/index.js';
import type { ReleaseActivities } from '../../src/activities/types.js';
import type { ProductionSnapshot, ProductionTarget } from '../../src/core/snapshot.js';
import { expectPayloadSafe } from '../../devkit/testing/payloads.js';
import { hookRun, type HookVars } from '../../src/core/hooks.js';
import type { HookAction } from '../../src/core/release-spec.js';
import { waveStatuses } from './support/wave-statuses.js';

type Samples = { [K in keyof ReleaseActivities]: { inputs: Parameters<ReleaseActivities[K]>[]; results: Awaited<ReturnType<ReleaseActivities[K]>>[] } };


const hookVars: HookVars = { release: 'checkout@3.0.0', service: 'checkout', version: '3.0.0', image: 'registry.local/checkout:3.0.0', namespace: 'prod' };
const target: ProductionTarget = {
  service: 'checkout',
  namespace: 'prod',
  blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', colorLabel: 'color', scaleDownDelay: 600_000 },
  traffic: { router: 'gateway-api', httpRoute: 'checkout' },
};
const snapshot: ProductionSnapshot = {
  service: 'checkout',
  namespace: 'prod',
  activeColor: 'blue',
  deployments: { blue: { name: 'checkout-blue', exists: true, image: 'r/checkout:1', replicas: 3 }, green: { name: 'checkout-green', exists: true, replicas: 0 } },
  weights: { blue: 100, green: 0 },
  previewColor: 'blue',
  nginxCanary: { color: 'green', weight: 0, enabled: false },
};
const at = '2026-11-25T10:00:00.000Z';
const t = 1_795_000_000;
/** What the Prometheus adapter makes of real API answers, NaN and ±Inf included. */
const prometheusAnswers = [
  observationsOf({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [t, 'NaN'] }] } }, at),
  observationsOf({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [t, '+Inf'] }] } }, at),
  observationsOf({ status: 'success', data: { resultType: 'scalar', result: [t, '-Inf'] } }, at),
  observationsOf({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[t, '0.99'], [t + 1, 'NaN'], [t + 2, '+Inf'], [t + 3, '1e-300']] }] } }, at),
  observationsOf({ status: 'success', data: { resultType: 'vector', result: [] } }, at),
  observationsOf({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [] }, { metric: {}, values: [] }] } }, at),
  observationsOf({ status: 'success' }, at),
  [{ at, observation: { kind: 'error', message: 'Prometheus unreachable at http://127.0.0.1:9: ECONNREFUSED' } }] as const,
];

const samples: Samples = {
  snapshotProduction: { inputs: [[target], [{ ...target, traffic: { router: 'replicas' } }]], results: [snapshot, { ...snapshot, weights: undefined, previewColor: undefined, nginxCanary: undefined } as unknown as ProductionSnapshot] },
  snapshotStaging: { inputs: [[{ namespace: 'staging', deployment: 'checkout' }]], results: [{ namespace: 'staging', deployment: { name: 'checkout', exists: false, replicas: 0 } }] },
  deployImage: { inputs: [[{ namespace: 'prod', deployment: 'checkout-green', image: 'r/checkout:2', replicas: 3, timeoutMs: 600_000 }], [{ namespace: 'staging', deployment: 'checkout', image: 'r/checkout:2', timeoutMs: 1 }]], results: [{ readyReplicas: 3 }, { readyReplicas: 0 }] },
  setCanaryWeight: { inputs: [[{ target, color: 'green', weight: 10 }]], results: [undefined] },
  pointPreview: { inputs: [[{ target, color: 'green' }]], results: [undefined] },
  switchActive: { inputs: [[{ target, color: 'green' }]], results: [undefined] },
  scaleDeployment: { inputs: [[{ namespace: 'prod', deployment: 'checkout-blue', replicas: 0 }]], results: [undefined] },
  restoreTraffic: { inputs: [[{ target, snapshot }]], results: [undefined] },
  restoreWorkloads: { inputs: [[{ target, snapshot }], [{ target, snapshot, spare: ['green'] }]], results: [undefined] },
  restoreStaging: { inputs: [[{ snapshot: { namespace: 'staging', deployment: { name: 'checkout', exists: true, image: 'r/checkout:1', replicas: 1 } } }]], results: [undefined] },
  observeTraffic: {
    inputs: [[target]],
    results: [
      { selected: 'green', weights: { blue: 0, green: 100 }, replicas: { blue: 3, green: 3 } },
      { selected: null, replicas: { blue: 3, green: 1 } },
      { selected: 'blue', weights: { blue: 0, green: 0 }, replicas: { blue: 0, green: 0 } },
    ],
  },
  measure: {
    inputs: [[{ query: 'sum(rate(x[1m]))' }], [{ query: 'up', range: { start: at, end: at, stepMs: 15_000 } }]],
    results: prometheusAnswers.map((o) => [...o]),
  },
  watch: {
    inputs: [
      [{
        query: 'sum(rate(x[1m]))',
        firstAt: at,
        intervalMs: 30_000,
        until: at,
        judge: { conditions: { successCondition: { op: '>=', value: 0.99, text: '>= 0.99' } }, limits: { count: 60, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 }, tally: { failed: 0, inconclusive: 1, consecutiveErrors: 2, counted: 3 } },
      }],
      [{
        query: 'sum(rate(x[1m]))',
        firstAt: at,
        intervalMs: 30_000,
        until: at,
        judge: { conditions: { successCondition: { op: '>=', value: 0.99, text: '>= 0.99' } }, limits: { count: 60, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 }, tally: { failed: 0, inconclusive: 0, consecutiveErrors: 0, counted: 0 } },
        onFailed: { target, snapshot, expected: { selected: 'green', weights: { blue: 0, green: 100 } } },
      }],
    ],
    // a watch answers one observation per scheduled time: instant answers, NaN and ±Inf included;
    // asked with the traffic undo, with what it did about traffic at a Failed verdict
    results: [
      ...prometheusAnswers.filter((o) => o.length === 1).map((o) => [...o]),
      { observations: [{ at, observation: { kind: 'value', value: 0.5 } }], trafficBack: { at, outcome: 'restored' } },
      { observations: [{ at, observation: { kind: 'value', value: 0.5 } }], trafficBack: { at, outcome: 'left', detail: 'the router sends blue 30% / green 70% (expected blue 0% / green 100%)' } },
      { observations: [{ at, observation: { kind: 'value', value: 1 } }] },
    ],
  },
  awaitChecks: {
    inputs: [[{ repo: 'acme/checkout', sha: '3f2c9e1', requiredChecks: [], timeoutMs: 1 }]],
    results: [{ conclusion: 'success', failing: [] }, { conclusion: 'timed-out', failing: [{ name: 'build', conclusion: 'missing' }] }],
  },
  dispatchWorkflow: {
    inputs: [[{ repo: 'acme/checkout', workflow: 'smoke.yml', ref: 'main', timeoutMs: 1 }], [{ repo: 'acme/checkout', workflow: '12', ref: 'v1', inputs: { env: 'prod' }, timeoutMs: 1 }]],
    results: [{ conclusion: 'failure', failing: [{ name: 'smoke.yml', conclusion: 'failure' }], runUrl: 'https://github.com/acme/checkout/actions/runs/1' }, { conclusion: 'success', failing: [] }],
  },
  createDeployment: { inputs: [[{ repo: 'acme/checkout', sha: '3f2c9e1', environment: 'production', releaseId: 'checkout@1.4.2', description: 'd' }]], results: [{ deploymentId: 2 ** 40 }] },
  setDeploymentStatus: { inputs: [[{ repo: 'acme/checkout', deploymentId: 7, state: 'inactive', description: '', releaseId: 'checkout@1.4.2' }]], results: [undefined] },
  listTags: { inputs: [[{ repo: 'acme/checkout' }], [{ repo: 'acme/checkout', limit: 50 }]], results: [[{ name: 'v1.4.2', sha: '3f2c9e1a' }], []] },
  setCommitStatus: { inputs: [[{ repo: 'acme/checkout', sha: '3f2c9e1', context: 'tidegate/checkout', state: 'error', description: 'x', releaseId: 'checkout@1.4.2' }]], results: [undefined] },
  describeServiceLock: { inputs: [[{ service: 'checkout' }]], results: [{ holderRunning: false }, { holder: 'checkout@1.4.2', holderRunning: true }] },
  breakStaleLock: { inputs: [[{ service: 'checkout', holder: 'checkout@1.4.1' }]], results: [undefined] },
  isReleaseRunning: { inputs: [[{ releaseId: 'checkout@1.4.2' }]], results: [true, false] },
  releasesExisting: { inputs: [[{ releaseIds: ['checkout@1.4.2', 'checkout@1.4.3'] }]], results: [['checkout@1.4.2'], []] },
  readSignerTrust: {
    inputs: [[{ for: 'start' }], [{ for: 'gate', service: 'checkout' }]],
    results: [
      { source: 'none', sha256: '', signers: [], requireSigned: false },
      {
        source: '/etc/tidegate/allowed_signers',
        sha256: 'a'.repeat(64),
        signers: [
          { line: 2, principals: ['alice@example.com', '!mallory@*'], keyType: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIO3=' },
          { line: 3, principals: ['bob'], namespaces: ['tidegate'], validAfter: '2026-12-01T00:00:00.000Z', validBefore: '2027-01-01T00:00:00.000Z', keyType: 'ssh-rsa', key: 'AAAAB3Nza' },
        ],
        requireSigned: true,
      },
    ],
  },
  verifyStatement: {
    inputs: [[{ signed: { statement: '{"v":1}', signature: '-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----' }, keys: [], namespace: 'tidegate' }]],
    results: [{ keyType: 'ssh-ed25519', fingerprint: 'SHA256:4FZBTirmdgGL/hGyVQC3HRMKrHIF1NiF4ME/8cH0M08' }],
  },
  checkCalendar: {
    inputs: [
      [{ at }],
      [{ at, windows: { allow: [{ days: ['mon', 'fri'], from: '22:00', to: '06:00', timeZone: 'Europe/Berlin' }], freezes: [{ from: '2026-12-24T00:00:00+01:00', until: '2026-12-27T00:00:00+01:00', reason: 'holidays' }] } }],
    ],
    results: [
      { open: true },
      { open: false, reason: 'frozen until 2026-12-27T00:00:00+01:00: holidays', source: 'spec', opensAt: '2026-12-28T08:00:00.000Z' },
      { open: false, reason: 'frozen by alice since 2026-12-02T10:00:00.000Z: incident 4711 (tidegate unfreeze lifts it)', source: 'global-freeze' },
    ],
  },
  notify: {
    inputs: [
      [
        {
          key: 'checkout@3.0.0/7f3c/1-approval-needed',
          kind: 'approval-needed',
          releaseId: 'checkout@3.0.0',
          runId: '7f3c',
          at,
          name: 'checkout',
          version: '3.0.0',
          initiator: 'dave',
          services: [{ service: 'checkout', version: '3.0.0', image: 'registry.local/checkout:3.0.0' }],
          service: 'checkout',
          approval: { approvers: ['alice', 'bob'], minApprovals: 2, approvedBy: [], until: at, requireSigned: false },
        },
      ],
      [
        {
          key: 'checkout@3.0.0/7f3c/2-rolled-back',
          kind: 'rolled-back',
          releaseId: 'checkout@3.0.0',
          runId: '7f3c',
          at,
          name: 'checkout',
          version: '3.0.0',
          initiator: 'dave',
          services: [{ service: 'checkout', version: '3.0.0', image: 'registry.local/checkout:3.0.0' }],
          outcome: 'rolled-back',
          cause: 'analysis',
          reason: 'analysis success-rate failed',
          verdicts: [{ analysis: 'success-rate', service: 'checkout', phase: 'Failed', reason: '0.5 is not >= 0.99' }],
        },
      ],
    ],
    results: [{ delivered: ['slack', 'webhook'] }, { delivered: [], none: true }],
  },
  runHook: {
    inputs: [
      [hookRun({ releaseId: 'checkout@3.0.0', runId: '7f3c', point: 'beforeSwitch', phase: 'undo', vars: hookVars, hook: { name: 'expand', action: migration('expand'), undo: migration('expand-undo') } })],
      [
        hookRun({
          releaseId: 'checkout@3.0.0',
          runId: '7f3c',
          point: 'afterSwitch',
          phase: 'run',
          vars: hookVars,
          hook: { name: 'warm', action: { kind: 'http', url: 'https://cache.internal/warm?v={{version}}', method: 'POST', headers: { 'content-type': 'application/json' }, headersFromEnv: { authorization: 'CACHE_TOKEN' }, body: '{"v":"{{version}}"}', timeout: 30_000 } },
        }),
      ],
    ],
    results: [
      { phase: 'Succeeded', detail: 'Job prod/checkout-expand-1a2b3c4d succeeded' },
      { phase: 'Failed', detail: 'Job prod/checkout-expand-1a2b3c4d failed (BackoffLimitExceeded): pod checkout-expand-1a2b3c4d-x7k2p exited 3 (Error)', logTail: ['ALTER TABLE orders ADD COLUMN note text', 'ERROR: relation "orders" does not exist'] },
      { phase: 'TimedOut', detail: 'Job prod/checkout-expand-1a2b3c4d did not finish within 600s and was deleted: pod … is Running' },
    ],
  },
};

function migration(arg: string): HookAction {
  return { kind: 'job', template: { template: { spec: { containers: [{ name: 'migrate', image: 'registry.local/checkout-migrations:{{version}}', args: [arg] }] } } }, timeout: 600_000 };
}

describe.each(Object.entries(samples))('%s', (name, { inputs, results }) => {
  test('its inputs and results cross the default payload converter unchanged', () => {
    expect(inputs.length).toBeGreaterThan(0);
    expect(results.length).toBeGreaterThan(0);
    for (const input of inputs) expectPayloadSafe(input, `${name} input`);
    for (const result of results) if (result !== undefined) expectPayloadSafe(result, `${name} result`);
  });
});

// A status crosses the same converter as the workflow's query answer and its result (a failed
// release's result in the failure's details): a release across clusters' statuses too.
describe.each(Object.entries(waveStatuses))('the %s status of a release across clusters', (name, status) => {
  test('crosses the default payload converter unchanged, as a query answer and in a result', () => {
    expectPayloadSafe(status, `${name} status`);
    expectPayloadSafe({ releaseId: status.releaseId, outcome: status.outcome ?? 'released', status }, `${name} result`);
  });
});

test('the Prometheus answers above include every non-finite spelling', () => {
  const values = prometheusAnswers.flat().flatMap((o) => (o.observation.kind === 'value' ? [o.observation.value] : []));
  expect(values).toEqual(expect.arrayContaining(['NaN', '+Inf', '-Inf']));
});

test('the worker refuses a result JSON would change, naming where it is', async () => {
  const guarded = payloadSafe({ measure: async () => [{ at, observation: { kind: 'value', value: NaN } }], fine: async () => ({ ok: 1 }) });
  await expect(guarded.fine()).resolves.toEqual({ ok: 1 });
  const failure = await guarded.measure().catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect((failure as ApplicationFailure).nonRetryable).toBe(true);
  expect((failure as ApplicationFailure).message).toMatch(/activity measure returned values JSON cannot carry unchanged \([0-9a-z[\].]*observation\.value: NaN\)/);
});
