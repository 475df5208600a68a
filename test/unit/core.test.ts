// Pure decisions of src/core, table-driven.
import { classify, EMPTY_TALLY, judgeBatch, judgeNext, judgeRun, tallyOf, type MeasurementPhase, type Observation } from '../../src/core/analysis.js';
import { checkApprove, checkReject, isApproved, type ApprovalGate } from '../../src/core/approval.js';
import { rollbackOrder, type Compensation } from '../../src/core/compensation.js';
import { holds, parseCondition } from '../../src/core/condition.js';
import { lockHeld, lockKey, lockOrder, parseReleaseId, releaseId, serviceLockId, UNSTARTED_HOLDER_GRACE_MS, type HolderState } from '../../src/core/ids.js';
import { monitorBatchMs, planService, planSteps, releaseOrder } from '../../src/core/plan.js';
import type { ProductionSnapshot } from '../../src/core/snapshot.js';
import { causeOfFailure, endingFailure, exitCodeFor, initialStatus, isEndingFailureType, type Cause, type Outcome } from '../../src/core/status.js';
import { planRelease } from '../../src/core/plan.js';
import { renderQuery } from '../../src/core/template.js';
import { validateSpec, type ServiceSpec } from '../../src/spec/index.js';

describe('conditions', () => {
  test.each<[string, number, boolean]>([
    ['>= 0.99', 0.99, true],
    ['>= 0.99', 0.9899, false],
    ['< 500', 499.9, true],
    ['> 0', 0, false],
    ['== 1', 1, true],
    ['!= 0', NaN, false],
    ['<= 1e-3', 0.001, true],
  ])('%s holds for %d: %s', (text, value, expected) => {
    const c = parseCondition(text);
    expect(c).toBeDefined();
    if (c) expect(holds(c, value)).toBe(expected);
  });
  test.each(['0.99', '>=', '=> 1', 'good', '>= 1 2'])('%j is not a condition', (t) => expect(parseCondition(t)).toBeUndefined());
});

describe('threshold judge: measurement phases (Argo rules)', () => {
  const ok = parseCondition('>= 0.99');
  const bad = parseCondition('< 0.9');
  const v = (value: number): Observation => ({ kind: 'value', value });
  test.each<[string, Parameters<typeof classify>[0], Observation, MeasurementPhase]>([
    ['success only, met', { successCondition: ok }, v(0.995), 'Successful'],
    ['success only, not met', { successCondition: ok }, v(0.95), 'Failed'],
    ['failure only, met', { failureCondition: bad }, v(0.5), 'Failed'],
    ['failure only, not met', { failureCondition: bad }, v(0.95), 'Successful'],
    ['both, between', { successCondition: ok, failureCondition: bad }, v(0.95), 'Inconclusive'],
    ['no data', { successCondition: ok }, { kind: 'empty', message: 'empty' }, 'Inconclusive'],
    ['NaN', { successCondition: ok }, v(NaN), 'Inconclusive'],
    ['NaN spelled out (as it crosses the payload converter)', { successCondition: ok }, { kind: 'value', value: 'NaN' }, 'Inconclusive'],
    ['NaN with a failure condition', { failureCondition: bad }, { kind: 'value', value: 'NaN' }, 'Inconclusive'],
    ['null (a NaN sent as a bare number by an older worker)', { successCondition: ok }, { kind: 'value', value: null as unknown as number }, 'Inconclusive'],
    ['+Inf is a number: very slow is a failure', { failureCondition: parseCondition('> 0.5') }, { kind: 'value', value: '+Inf' }, 'Failed'],
    ['-Inf meets "< 0.9"', { failureCondition: bad }, { kind: 'value', value: '-Inf' }, 'Failed'],
    ['backend down', { successCondition: ok }, { kind: 'error', message: 'ECONNREFUSED' }, 'Error'],
  ])('%s → %s', (_name, spec, obs, phase) => expect(classify(spec, obs).phase).toBe(phase));

  // How releases recorded before values were spelled out judged the null a NaN became: JavaScript
  // compares null like 0 with <, <=, >, >= and equal to no number with === — kept so they replay.
  const nullValue: Observation = { kind: 'value', value: null as unknown as number };
  test.each<[string, Parameters<typeof classify>[0], MeasurementPhase]>([
    ['">= 0.99" is not met by null', { successCondition: ok }, 'Failed'],
    ['"< 0.9" as failure is met by null (0 < 0.9)', { failureCondition: bad }, 'Failed'],
    ['"> 0.05" as failure is not met by null', { failureCondition: parseCondition('> 0.05') }, 'Successful'],
    ['"== 0" is not met by null', { successCondition: parseCondition('== 0') }, 'Failed'],
    ['"!= 0" is met by null', { successCondition: parseCondition('!= 0') }, 'Successful'],
  ])('legacy null: %s', (_name, spec, phase) => {
    expect(classify(spec, nullValue, { legacyNull: true }).phase).toBe(phase);
    expect(classify(spec, nullValue).phase).toBe('Inconclusive');
  });

  test('the message shows the value as measured', () => {
    expect(classify({ successCondition: ok }, v(0.8)).message).toBe('0.8 does not meet ">= 0.99"');
    expect(classify({ failureCondition: parseCondition('> 0.5') }, { kind: 'value', value: '+Inf' }).message).toBe('+Inf meets failure "> 0.5"');
    expect(classify({ successCondition: ok }, { kind: 'value', value: 'NaN' }).message).toMatch(/NaN/);
  });
});

describe('threshold judge: run verdicts', () => {
  const limits = { count: 4, failureLimit: 1, inconclusiveLimit: 1, consecutiveErrorLimit: 2 };
  const run = (phases: string): { phase: MeasurementPhase }[] =>
    [...phases].map((p) => ({ phase: ({ S: 'Successful', F: 'Failed', I: 'Inconclusive', E: 'Error' } as const)[p as 'S'] }));
  test.each<[string, string]>([
    ['SFS', 'Running'],
    ['SFF', 'Failed'],
    ['SFSS', 'Successful'],
    ['SII', 'Inconclusive'],
    ['EEE', 'Inconclusive'],
    ['EESESSS', 'Successful'], // errors interleaved with data do not count towards count, nor as healthy
    ['EEEE', 'Inconclusive'],
    ['SSEE', 'Running'],
  ])('%s → %s', (phases, verdict) => expect(judgeRun(limits, run(phases)).phase).toBe(verdict));
  test('a backend that is always down never passes', () => {
    expect(judgeRun({ ...limits, consecutiveErrorLimit: 100 }, run('E'.repeat(50))).phase).toBe('Running');
  });
  // a monitor batch is judged from the tally of the batches before it: the verdict is the same
  // wherever the run is cut
  test.each<[string, string, string | undefined]>([
    ['SF', 'F', 'Failed'],
    ['SF', 'S', undefined],
    ['EE', 'E', 'Inconclusive'],
    ['EE', 'SE', undefined], // data in between resets the consecutive errors
    ['SI', 'I', 'Inconclusive'],
  ])('tally of %s, then %s → decided %s', (before, after, decided) => {
    let tally = tallyOf(limits, run(before));
    let verdict: string | undefined;
    for (const m of run(after)) {
      const step = judgeNext(limits, tally, m.phase);
      tally = step.tally;
      verdict ??= step.decided?.phase;
    }
    expect(verdict).toBe(decided);
    const whole = judgeRun(limits, run(before + after)).phase;
    expect(decided ?? 'not decided').toBe(whole === 'Running' || whole === 'Successful' ? 'not decided' : whole);
  });
});

describe('judgeBatch: a batch judged on top of the tally before it (what the monitor watch decides with)', () => {
  const conditions = { successCondition: parseCondition('>= 0.99') };
  const limits = { count: 10, failureLimit: 1, inconclusiveLimit: 1, consecutiveErrorLimit: 2 };
  const obs = (text: string) => [...text].map((c) => ({ observation: c === 'E' ? ({ kind: 'error', message: 'down' } as const) : ({ kind: 'value', value: c === 'S' ? 0.999 : 0.5 } as const) }));
  test.each<[string, Partial<typeof EMPTY_TALLY>, string, string | undefined, number]>([
    ['a second failure decides Failed at the observation that crosses the limit', { failed: 1, counted: 3 }, 'SFS', 'Failed', 5],
    ['one failure under the limit: undecided, the tally carried on', { counted: 3 }, 'SFS', undefined, 6],
    ['errors past their limit: Inconclusive', { consecutiveErrors: 1 }, 'EE', 'Inconclusive', 0],
    ['an empty batch is the tally before it', { failed: 1, counted: 2 }, '', undefined, 2],
  ])('%s', (_, before, batch, decided, counted) => {
    const verdict = judgeBatch({ conditions, limits, tally: { ...EMPTY_TALLY, ...before } }, obs(batch));
    expect(verdict.decided?.phase).toBe(decided);
    expect(verdict.tally.counted).toBe(counted);
  });
});

describe('approval rules', () => {
  const gate = (over: Partial<ApprovalGate> = {}): ApprovalGate => ({
    service: 'checkout',
    rule: { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, allowSelfApproval: false, timeout: 1, onTimeout: 'rollback' },
    initiator: 'carol',
    open: true,
    approvals: [],
    ...over,
  });
  test.each<[string, ApprovalGate | undefined, string, string | undefined]>([
    ['listed approver', gate(), 'alice', undefined],
    ['not listed', gate(), 'mallory', 'mallory is not an approver of checkout (approvers: alice, bob, carol)'],
    ['self', gate(), 'carol', 'carol started this release and self-approval is not allowed'],
    ['self allowed', gate({ rule: { ...gate().rule, allowSelfApproval: true } }), 'carol', undefined],
    ['duplicate', gate({ approvals: [{ by: 'alice', at: 'T1' }] }), 'alice', 'alice already approved at T1'],
    ['gate closed', gate({ open: false }), 'alice', 'the approval gate for checkout is not open: the release is in stage "canary"'],
    ['no gate', undefined, 'alice', 'no approval gate is open: the release is in stage "canary"'],
    ['rejected', gate({ rejection: { by: 'bob', at: 'T', reason: 'no' } }), 'alice', 'the gate is closed: bob rejected it'],
    ['no name', gate(), ' ', "an approval needs the approver's name (--as or TIDEGATE_USER)"],
  ])('%s', (_name, g, by, reason) => {
    const verdict = checkApprove(g, by, 'canary');
    expect(verdict.ok ? undefined : verdict.reason).toBe(reason);
  });
  test('rejection needs a listed approver and a reason; the initiator may reject', () => {
    expect(checkReject(gate(), 'carol', 'broken', 'approval')).toEqual({ ok: true });
    expect(checkReject(gate(), 'alice', ' ', 'approval')).toEqual({ ok: false, reason: 'a rejection needs a reason (--reason)' });
    expect(checkReject(gate(), 'eve', 'x', 'approval').ok).toBe(false);
  });
  test('approved once minApprovals distinct approvals are in', () => {
    expect(isApproved(gate({ approvals: [{ by: 'alice', at: 'T' }] }))).toBe(false);
    expect(isApproved(gate({ approvals: [{ by: 'alice', at: 'T' }, { by: 'bob', at: 'T' }] }))).toBe(true);
  });
});

describe('plan', () => {
  test('weights in force at each canary step', () => {
    const steps = planSteps([
      { kind: 'setWeight', weight: 10 },
      { kind: 'pause', durationMs: 120_000 },
      { kind: 'analysis', analyses: ['a'] },
      { kind: 'setWeight', weight: 50 },
      { kind: 'pause' },
    ]);
    expect(steps.map((s) => [s.weight, s.label])).toEqual([
      [10, 'setWeight 10'],
      [10, 'pause 120s'],
      [10, 'analysis a'],
      [50, 'setWeight 50'],
      [50, 'pause until promoted'],
    ]);
  });

  const svc = (service: string, dependsOn: string[] = [], production: Record<string, unknown> = {}): ServiceSpec => {
    const r = validateSpec({ service, version: '1', image: 'i', production: { namespace: 'p', blueGreen: { activeService: service, deploymentPrefix: service }, ...production } });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const [s] = r.spec.services;
    if (!s) throw new Error('no service');
    return { ...s, dependsOn };
  };

  test('stages the spec leaves out are not planned (recorded as skipped)', () => {
    expect(planService(svc('a')).stages).toEqual(['switch']);
    expect(planService(svc('a', [], { monitor: { duration: '5m' }, approval: { approvers: ['x'] } })).stages).toEqual(['approval', 'switch', 'monitor']);
  });

  test.each<[string, [string, string[]][], string[]]>([
    ['spec order without dependencies', [['a', []], ['b', []], ['c', []]], ['a', 'b', 'c']],
    ['dependencies first', [['checkout', ['payments']], ['payments', []]], ['payments', 'checkout']],
    ['a chain', [['c', ['b']], ['b', ['a']], ['a', []]], ['a', 'b', 'c']],
    ['a diamond keeps spec order among ready services', [['d', ['b', 'c']], ['c', ['a']], ['b', ['a']], ['a', []]], ['a', 'c', 'b', 'd']],
  ])('release order: %s', (_name, services, order) => {
    expect(releaseOrder(services.map(([n, deps]) => svc(n, deps))).map((s) => s.service)).toEqual(order);
  });
});

test('rollback order: traffic undos newest-first, then the rest newest-first', () => {
  const snapshot = {} as ProductionSnapshot;
  const target = { service: 's', namespace: 'n', blueGreen: { activeService: 's', deploymentPrefix: 's', colorLabel: 'color', scaleDownDelay: 0 } };
  const c = (seq: number, label: string, type: 'restoreTraffic' | 'restoreWorkloads'): Compensation => ({ seq, service: 's', label, action: { type, target, snapshot } });
  const order = rollbackOrder([
    { seq: 0, service: 's', label: 'stagingImage', action: { type: 'restoreStaging', snapshot: { namespace: 'st', deployment: { name: 's', exists: true, replicas: 1 } } } },
    c(1, 'prodWorkloads', 'restoreWorkloads'),
    c(2, 'prodTraffic', 'restoreTraffic'),
    c(3, 'payWorkloads', 'restoreWorkloads'),
    c(4, 'payTraffic', 'restoreTraffic'),
  ]);
  expect(order.map((x) => x.label)).toEqual(['payTraffic', 'prodTraffic', 'payWorkloads', 'prodWorkloads', 'stagingImage']);
});

test.each<[Outcome, Cause | undefined, number]>([
  ['released', undefined, 0],
  ['rolled-back', 'analysis', 10],
  ['rejected', 'rejected', 11],
  ['aborted', 'aborted', 12],
  ['aborted', 'superseded', 12],
  ['rolled-back', 'timeout', 13],
  ['failed', 'timeout', 13],
  ['failed', 'locked', 3],
  ['failed', 'error', 1],
  ['rolled-back', 'error', 1],
])('exit code for %s/%s is %d', (outcome, cause, code) => expect(exitCodeFor({ outcome, ...(cause ? { cause } : {}) })).toBe(code));

test.each<[string | undefined, Cause, number]>([
  ['RolloutTimeout', 'timeout', 13],
  ['SupersedeTimeout', 'timeout', 13],
  ['RolloutFailed', 'error', 1],
  ['KubernetesNotFound', 'error', 1],
  [undefined, 'error', 1],
])('a release stopped by a %s failure: cause %s, exit %d', (type, cause, code) => {
  expect(causeOfFailure(type)).toBe(cause);
  expect(exitCodeFor({ outcome: 'rolled-back', cause: causeOfFailure(type) })).toBe(code);
});

test.each<[Outcome, Cause | undefined, string | undefined, string | undefined]>([
  ['released', undefined, undefined, undefined],
  ['rolled-back', 'analysis', 'ReleaseRolledBack', 'release rolled back (analysis); the result is in the failure details'],
  ['rolled-back', 'timeout', 'ReleaseRolledBack', 'release rolled back (timeout); the result is in the failure details'],
  ['rejected', 'rejected', 'ReleaseRejected', 'release rejected; the result is in the failure details'],
  ['aborted', 'aborted', 'ReleaseAborted', 'release aborted; the result is in the failure details'],
  ['aborted', 'superseded', 'ReleaseAborted', 'release aborted (superseded); the result is in the failure details'],
  ['failed', 'locked', 'ReleaseFailed', 'release failed (locked); the result is in the failure details'],
])('a release ending %s/%s closes its workflow as failure %s', (outcome, cause, type, message) => {
  const failure = endingFailure({ outcome, ...(cause ? { cause } : {}) });
  expect(failure?.type).toBe(type);
  expect(failure?.message).toBe(message);
  // readers recognise exactly these types as a release's ending (an activity's or a bug's failure is not one)
  expect(isEndingFailureType(failure?.type)).toBe(type !== undefined);
});

test('only the ending failures carry a release result', () => {
  for (const type of ['ApplicationFailure', 'RolloutTimeout', 'KubernetesNotFound', '', null, undefined]) expect(isEndingFailureType(type)).toBe(false);
});

test('release ids and query templates', () => {
  expect(releaseId('checkout', '1.4.2')).toBe('checkout@1.4.2');
  expect(parseReleaseId('checkout@1.4.2')).toEqual({ name: 'checkout', version: '1.4.2' });
  expect(parseReleaseId('checkout')).toBeUndefined();
  expect(renderQuery('up{service="{{service}}",color="{{ color }}",ns="{{namespace}}",x="{{other}}"}', { service: 'checkout', color: 'green', namespace: 'prod' })).toBe(
    'up{service="checkout",color="green",ns="prod",x="{{other}}"}',
  );
  expect(renderQuery('up{cluster="{{cluster}}",color="{{color}}"}', { cluster: 'eu-1', color: 'blue' })).toBe('up{cluster="eu-1",color="blue"}');
  // a release that names no cluster leaves {{cluster}} as it is, so the query fails visibly
  expect(renderQuery('up{cluster="{{cluster}}"}', { service: 'checkout' })).toBe('up{cluster="{{cluster}}"}');
});

test.each<[string, number, number, number]>([
  ['30m window, 30s interval', 1_800_000, 30_000, 60_000],
  ['2h window', 7_200_000, 30_000, 72_000],
  ['24h window', 86_400_000, 30_000, 300_000],
  ['1m window', 60_000, 15_000, 60_000],
  ['interval longer than the batch', 3_600_000, 600_000, 600_000],
])('monitor batch for a %s', (_name, windowMs, intervalMs, batch) => expect(monitorBatchMs(windowMs, intervalMs)).toBe(batch));

test('initial status: services in release order, stages the spec leaves out skipped', () => {
  const r = validateSpec({
    release: 'shop',
    version: '2',
    source: { repo: 'acme/shop', sha: 'abcdef1' },
    build: { requiredChecks: ['ci'] },
    services: [
      { service: 'checkout', image: 'c:2', dependsOn: ['payments'], production: { namespace: 'p', blueGreen: { activeService: 'c', deploymentPrefix: 'c' }, monitor: { duration: '1m' } } },
      { service: 'payments', image: 'p:2', staging: { namespace: 's', deployment: 'p' }, production: { namespace: 'p', blueGreen: { activeService: 'p', deploymentPrefix: 'p' } } },
    ],
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const s = initialStatus({ releaseId: 'shop@2', spec: r.spec, plan: planRelease(r.spec), initiator: 'carol', startedAt: 'T0' });
  expect(s.services.map((x) => [x.service, x.image, x.stages])).toEqual([
    ['payments', 'p:2', { build: 'pending', staging: 'pending', canary: 'skipped', approval: 'skipped', switch: 'pending', monitor: 'skipped' }],
    ['checkout', 'c:2', { build: 'pending', staging: 'skipped', canary: 'skipped', approval: 'skipped', switch: 'pending', monitor: 'pending' }],
  ]);
  expect(s).toMatchObject({ stage: 'lock', initiator: 'carol', analyses: [], compensations: [], timeline: [] });
});

describe('service locks: held or stale', () => {
  test.each<[HolderState, number, boolean]>([
    ['running', 3 * 3_600_000, true], // a release waiting for its approvers keeps its lock however old
    ['running', 0, true],
    ['closed', 2_000, false], // ended without giving the lock back: stale at once
    ['closed', 3 * 3_600_000, false],
    ['absent', 0, true], // a client between taking the lock and starting the release
    ['absent', UNSTARTED_HOLDER_GRACE_MS - 1, true],
    ['absent', UNSTARTED_HOLDER_GRACE_MS, false], // the client died in between
    ['absent', 3 * 3_600_000, false],
  ])('holder %s, lock %i ms old → held %s', (holder, age, held) => {
    expect(lockHeld(holder, age)).toBe(held);
  });
});

describe('lock keys: one release per service, per cluster with clusters', () => {
  test.each<[string, { service: string }[], string[], string[]]>([
    ['a release without clusters: each service once, sorted', [{ service: 'b' }, { service: 'a' }, { service: 'b' }], [], ['a', 'b']],
    ['with clusters: every service in every cluster', [{ service: 'b' }, { service: 'a' }], ['us-1', 'eu-1'], ['a@eu-1', 'a@us-1', 'b@eu-1', 'b@us-1']],
  ])('%s', (_, services, contexts, keys) => expect(lockOrder(services, contexts)).toEqual(keys));

  test("a release without clusters keeps its lock's workflow id", () => {
    expect(serviceLockId(lockKey('checkout'))).toBe('tidegate-lock/checkout');
    expect(serviceLockId(lockKey('checkout', 'eu-1-prod'))).toBe('tidegate-lock/checkout@eu-1-prod');
  });
});
