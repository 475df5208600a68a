// Given the workflow inputs of every recorded history and of the older shapes releases stored, the
// input contract (src/core/release-input.ts) reads each the way the workflow measures it.
import { contractFor, normaliseAnalysis, upgradeReleaseInput, type StoredReleaseInput } from '../../src/core/release-input.js';
import type { CompareAnalysisSpec } from '../../src/core/release-spec.js';
import { historyFiles, loadRecorded } from '../cli/support/recorded.js';

// A compare analysis as a release stored it; the fields it lacks get the schema's defaults (normaliseAnalysis).
const compare = (extra: Record<string, unknown>): Record<string, unknown> => ({ kind: 'compare', direction: 'decrease', ...extra });

const input = (analyses: StoredReleaseInput['spec']['analyses'], contract?: number): StoredReleaseInput => ({
  ...(contract !== undefined ? { contract } : {}),
  spec: { name: 'checkout', version: '1.0.0', services: [], analyses },
  initiator: 'carol',
  supersede: false,
});

test('a compare analysis of the query era gets the one metric its query was, as the shorthand gives today', () => {
  const upgraded = upgradeReleaseInput(input({ latency: compare({ query: 'p95{color="{{color}}"}' }) }));
  expect(upgraded.contract).toBe(1);
  const a = upgraded.spec.analyses.latency as CompareAnalysisSpec;
  expect(a.metrics).toEqual([{ name: 'value', query: 'p95{color="{{color}}"}', direction: 'decrease', weight: 1, critical: false }]);
  expect(a).not.toHaveProperty('query');
});

test('an input of this contract, with or without its version, is read as stored', () => {
  const metrics = [{ name: 'p95', query: 'q', direction: 'increase', weight: 2, critical: true }];
  const current = input({ latency: normaliseAnalysis(compare({ metrics })) }, 1);
  expect((current.spec.analyses.latency as CompareAnalysisSpec).interval).toBe(15_000);
  expect(upgradeReleaseInput(current)).toEqual(current);
  expect(upgradeReleaseInput(input({ latency: compare({ metrics }) }))).toEqual(current);
});

test('an input of a later contract is refused with what to do: a newer worker must run it', () => {
  expect(() => upgradeReleaseInput(input({}, 6))).toThrow('release input contract 6 is newer than this tidegate reads (5): upgrade the worker');
});

test('a spec that requires signed decisions is written as contract 2, which a worker reading only 1 refuses; any other as 1', () => {
  const approval = { approvers: ['alice'], minApprovals: 1, allowSelfApproval: false, timeout: 60_000, onTimeout: 'rollback' as const };
  const spec = (requireSignature?: boolean): Parameters<typeof contractFor>[0] => ({
    name: 'checkout',
    version: '1.0.0',
    analyses: {},
    services: [{ service: 'checkout', version: '1.0.0', image: 'r/checkout:1', dependsOn: [], production: { namespace: 'prod', rolloutTimeout: 1, blueGreen: { activeService: 'checkout', deploymentPrefix: 'checkout', colorLabel: 'color', scaleDownDelay: 0 }, approval: { ...approval, ...(requireSignature !== undefined ? { requireSignature } : {}) } } }],
  });
  expect(contractFor(spec(true))).toBe(2);
  expect(contractFor(spec(false))).toBe(1);
  expect(contractFor(spec())).toBe(1);
  const two = { ...input({}, 2), spec: spec(true) } as unknown as StoredReleaseInput;
  expect(upgradeReleaseInput(two).contract).toBe(2);
});

test('a spec with windows or freezes is written as contract 3, which a worker that would ignore them (reading only 2) refuses', () => {
  const base = { ...(input({}, 1).spec as unknown as Parameters<typeof contractFor>[0]) };
  const window = { days: ['mon' as const], from: '09:00', to: '17:00', timeZone: 'UTC' };
  expect(contractFor({ ...base, windows: { allow: [window], freezes: [] } })).toBe(3);
  expect(contractFor({ ...base, windows: { allow: [], freezes: [{ from: '2026-12-24T00:00:00Z', until: '2026-12-27T00:00:00Z', reason: 'holidays' }] } })).toBe(3);
  // an empty block limits nothing
  expect(contractFor({ ...base, windows: { allow: [], freezes: [] } })).toBe(contractFor(base));
  const three = { ...input({}, 3), spec: { ...base, windows: { allow: [window], freezes: [] } } } as unknown as StoredReleaseInput;
  expect(upgradeReleaseInput(three).contract).toBe(3);
});

test.each(historyFiles().map((f) => [f]))('%s: its input upgrades, and every compare analysis has its metrics', (file) => {
  const { input: stored } = loadRecorded(file);
  const upgraded = upgradeReleaseInput(stored as unknown as StoredReleaseInput);
  for (const a of Object.values(upgraded.spec.analyses)) if (a.kind === 'compare') expect(a.metrics.length).toBeGreaterThan(0);
  expect(upgraded.spec.services).toEqual(stored.spec.services);
});

test('a spec with hooks is written as contract 4, which a worker that would skip them (reading only 3) refuses', () => {
  const base = { ...(input({}, 1).spec as unknown as Parameters<typeof contractFor>[0]) };
  const svc = { service: 'checkout', version: '1.0.0', image: 'r/checkout:1', dependsOn: [], production: { namespace: 'prod', rolloutTimeout: 1, blueGreen: { activeService: 'checkout', deploymentPrefix: 'checkout', colorLabel: 'color', scaleDownDelay: 0 } } };
  const expand = { name: 'expand', action: { kind: 'job' as const, template: { template: { spec: { containers: [{ name: 'm', image: 'migrate' }] } } }, timeout: 600_000 } };
  expect(contractFor({ ...base, services: [{ ...svc, hooks: { beforeSwitch: [expand] } }] })).toBe(4);
  // with windows too it is still 4 (4 reads everything 3 does)
  expect(contractFor({ ...base, windows: { allow: [], freezes: [{ from: '2026-12-24T00:00:00Z', until: '2026-12-27T00:00:00Z', reason: 'x' }] }, services: [{ ...svc, hooks: { afterMonitor: [expand] } }] })).toBe(4);
  // an empty list runs nothing
  expect(contractFor({ ...base, services: [{ ...svc, hooks: { beforeSwitch: [] } }] })).toBe(1);
  const four = { ...input({}, 4), spec: { ...base, services: [{ ...svc, hooks: { beforeSwitch: [expand] } }] } } as unknown as StoredReleaseInput;
  expect(upgradeReleaseInput(four).contract).toBe(4);
});
