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
  expect(() => upgradeReleaseInput(input({}, 3))).toThrow('release input contract 3 is newer than this tidegate reads (2): upgrade the worker');
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

test.each(historyFiles().map((f) => [f]))('%s: its input upgrades, and every compare analysis has its metrics', (file) => {
  const { input: stored } = loadRecorded(file);
  const upgraded = upgradeReleaseInput(stored as unknown as StoredReleaseInput);
  for (const a of Object.values(upgraded.spec.analyses)) if (a.kind === 'compare') expect(a.metrics.length).toBeGreaterThan(0);
  expect(upgraded.spec.services).toEqual(stored.spec.services);
});
