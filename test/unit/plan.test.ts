// planStages: each service's stages in release order, planned with the part of the spec they act on,
// or skipped; planService's stage list is the planned ones.
import { planService, planStages, planSteps, ownWeightsAhead, type PlannedStage } from '../../src/core/plan.js';
import { validateSpec } from '../../src/spec/index.js';
import type { ServiceSpec } from '../../src/spec/schema.js';

const svc = (extra: Record<string, unknown> = {}, production: Record<string, unknown> = {}): ServiceSpec => {
  const r = validateSpec({ service: 'a', version: '1', image: 'i', ...extra, production: { namespace: 'p', blueGreen: { activeService: 'a', deploymentPrefix: 'a' }, ...production } });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const [s] = r.spec.services;
  if (!s) throw new Error('no service');
  return s;
};

/** A stage as "name" when planned, "-name" when skipped. */
const shape = (p: PlannedStage): string => ('skipped' in p ? `-${p.stage}` : p.stage);

const staging = { staging: { namespace: 'st', deployment: 'a' } };
const canary = { canary: { traffic: { router: 'replicas' }, steps: [{ setWeight: 10 }, { pause: {} }] } };

describe('planStages', () => {
  test.each<[string, ServiceSpec, string[]]>([
    ['only the switch', svc(), ['-staging', '-canary', '-approval', 'switch', '-monitor']],
    ['staging', svc(staging), ['staging', '-canary', '-approval', 'switch', '-monitor']],
    ['canary', svc({}, canary), ['-staging', 'canary', '-approval', 'switch', '-monitor']],
    ['approval and monitor', svc({}, { approval: { approvers: ['x'] }, monitor: { duration: '5m' } }), ['-staging', '-canary', 'approval', 'switch', 'monitor']],
    ['everything', svc(staging, { ...canary, approval: { approvers: ['x'] }, monitor: { duration: '5m' } }), ['staging', 'canary', 'approval', 'switch', 'monitor']],
  ])('%s', (_name, service, stages) => {
    const planned = planStages(service);
    expect(planned.map(shape)).toEqual(stages);
    expect(planService(service).stages).toEqual(stages.filter((s) => !s.startsWith('-')));
  });

  test('each planned stage carries the part of the spec it acts on', () => {
    const service = svc(staging, { ...canary, approval: { approvers: ['x'] }, monitor: { duration: '5m' } });
    const byStage = new Map(planStages(service).map((p) => [p.stage, p]));
    expect(byStage.get('staging')).toEqual({ stage: 'staging', staging: service.staging });
    expect(byStage.get('canary')).toEqual({ stage: 'canary', canary: service.production.canary, steps: planService(service).steps });
    expect(byStage.get('approval')).toEqual({ stage: 'approval', approval: service.production.approval });
    expect(byStage.get('switch')).toEqual({ stage: 'switch' });
    expect(byStage.get('monitor')).toEqual({ stage: 'monitor', monitor: service.production.monitor });
  });
});

describe('ownWeightsAhead: the weights one workflow task may set from a step on (the drift guard takes traffic at any of them as the release\'s own)', () => {
  const steps = planSteps([
    { kind: 'setWeight', weight: 10 },
    { kind: 'pause', durationMs: 120_000 },
    { kind: 'setWeight', weight: 30 },
    { kind: 'setWeight', weight: 50 },
    { kind: 'analysis', analyses: ['ok'] },
    { kind: 'setWeight', weight: 80 },
  ]);
  test.each<[number, number[]]>([
    [0, [10]],
    [1, []],
    [2, [30, 50]],
    [3, [50]],
    [4, []],
    [5, [80]],
    [6, []],
  ])('from step %d: %j', (from, weights) => expect(ownWeightsAhead(steps, from)).toEqual(weights));

  test('a weight of 0 is never the release\'s own (it is how traffic was before; a hand put it back)', () => {
    const zero = planSteps([{ kind: 'setWeight', weight: 10 }, { kind: 'pause' }, { kind: 'setWeight', weight: 0 }, { kind: 'setWeight', weight: 20 }]);
    expect(ownWeightsAhead(zero, 2)).toEqual([20]);
    expect(ownWeightsAhead(zero, 3)).toEqual([20]);
  });
});
