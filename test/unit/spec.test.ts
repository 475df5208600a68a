// The release spec: both forms load, every rule names the field it is about.
import { readFileSync } from 'node:fs';
import { formatProblem, parseDuration, parseSpec, type SpecResult } from '../../src/spec/index.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/specs/${name}`, import.meta.url), 'utf8');
const problems = (r: SpecResult): string[] => (r.ok ? [] : r.problems.map(formatProblem));

const minimal = {
  service: 'checkout',
  version: '1.0.0',
  image: 'registry.local/checkout:1.0.0',
  production: { namespace: 'prod', blueGreen: { activeService: 'checkout', deploymentPrefix: 'checkout' } },
};
const withProduction = (production: Record<string, unknown>): string =>
  JSON.stringify({ ...minimal, production: { ...minimal.production, ...production } });

describe('parseDuration', () => {
  test.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['7d', 604_800_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each(['10', '', 'm', '5 minutes', '-1s', '1x'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe("the README's full example (test/fixtures/specs/checkout.yaml)", () => {
  const result = parseSpec(fixture('checkout.yaml'));

  test('is valid and normalised to one service with durations in ms', () => {
    expect(problems(result)).toEqual([]);
    if (!result.ok) return;
    const { spec } = result;
    expect(spec.name).toBe('checkout');
    expect(spec.services).toHaveLength(1);
    const svc = spec.services[0];
    expect(svc?.version).toBe('1.4.2');
    expect(svc?.production.approval).toMatchObject({ minApprovals: 2, timeout: 86_400_000, onTimeout: 'rollback' });
    expect(svc?.production.canary?.steps).toEqual([
      { kind: 'setWeight', weight: 10 },
      { kind: 'pause', durationMs: 120_000 },
      { kind: 'analysis', analyses: ['success-rate', 'latency-p95', 'p95-guard'] },
      { kind: 'setWeight', weight: 50 },
      { kind: 'pause' },
    ]);
    expect(spec.analyses['success-rate']).toMatchObject({
      kind: 'threshold',
      successCondition: { op: '>=', value: 0.99 },
      interval: 30_000,
      consecutiveErrorLimit: 4,
    });
    expect(spec.analyses['latency-p95']).toMatchObject({ kind: 'compare', direction: 'increase', count: 8, confidence: 0.95 });
  });

  test('overrides from the CLI apply before validation', () => {
    const r = parseSpec(fixture('checkout.yaml'), { version: '1.4.3', image: 'registry.local/checkout:1.4.3', sha: 'abcdef1' });
    expect(r.ok && r.spec.version).toBe('1.4.3');
    expect(r.ok && r.spec.services[0]?.image).toBe('registry.local/checkout:1.4.3');
    expect(r.ok && r.spec.source?.sha).toBe('abcdef1');
    expect(problems(parseSpec(fixture('checkout.yaml'), { version: 'not ok!' }))).toEqual([
      'version: must be letters, digits, ".", "_", "+" or "-"',
    ]);
  });
});

test('a multi-service spec gives every service the release version', () => {
  const r = parseSpec(fixture('shop.yaml'));
  expect(problems(r)).toEqual([]);
  expect(r.ok && r.spec.name).toBe('shop');
  expect(r.ok && r.spec.services.map((s) => [s.service, s.version, s.dependsOn])).toEqual([
    ['checkout', '2.0.0', ['payments']],
    ['payments', '2.0.0', []],
  ]);
});

describe('invalid specs name the field', () => {
  test('a weight over 100', () => {
    expect(problems(parseSpec(fixture('invalid-weight.yaml')))).toEqual(['production.canary.steps[2].setWeight: must be 0..100']);
  });

  test.each<[string, string, string[]]>([
    ['bad service name', JSON.stringify({ ...minimal, service: 'Check_out' }), ['service: must be a DNS-1123 label (lowercase letters, digits and "-", starting and ending alphanumeric)']],
    ['missing image', JSON.stringify({ ...minimal, image: undefined }), ['image: must be a string']],
    ['unknown key (typo)', JSON.stringify({ ...minimal, verison: '1' }), ['Unrecognized key: "verison"']],
    ['bad duration', withProduction({ monitor: { duration: '30 minutes' } }), ['production.monitor.duration: must be a duration like 30s, 10m or 24h (got "30 minutes")']],
    ['minApprovals above approvers', withProduction({ approval: { approvers: ['alice'], minApprovals: 2 } }), ['production.approval.minApprovals: must be at most the number of approvers (1)']],
    ['duplicate approver', withProduction({ approval: { approvers: ['alice', 'alice'] } }), ['production.approval.approvers[1]: "alice" is listed twice']],
    ['unknown analysis', withProduction({ monitor: { duration: '5m', analyses: ['errors'] } }), ['production.monitor.analyses[0]: unknown analysis "errors" (defined: none)']],
    ['two kinds in one step', withProduction({ canary: { traffic: { router: 'replicas' }, steps: [{ setWeight: 5, pause: {} }] } }), ['production.canary.steps[0]: a step has exactly one of setWeight, pause or analysis']],
    ['router without its object', withProduction({ canary: { traffic: { router: 'istio' }, steps: [{ setWeight: 5 }] } }), ['production.canary.traffic.virtualService: is required for router istio']],
    ['"pass" is never an inconclusive policy', JSON.stringify({ ...minimal, analyses: { a: { query: 'up', successCondition: '> 0', onInconclusive: 'pass' } } }), ['analyses.a.onInconclusive: must be "pause" or "rollback" (never "pass")']],
    ['condition that is not a comparison', JSON.stringify({ ...minimal, analyses: { a: { query: 'up', successCondition: 'good' } } }), ['analyses.a.successCondition: must be a comparison like ">= 0.99" or "< 500" (got "good")']],
    ['dispatch without the ref it runs on', JSON.stringify({ ...minimal, source: { repo: 'acme/x', sha: 'abcdef1' }, build: { dispatch: { workflow: 'smoke.yml' } } }), ['build.dispatch.ref: must be the branch or tag the workflow runs on']],
    ['compare analysis without a query', JSON.stringify({ ...minimal, analyses: { a: { kind: 'compare' } } }), ['analyses.a.query: a compare analysis needs query or metrics (one of them)']],
    ['compare analysis with both query and metrics', JSON.stringify({ ...minimal, analyses: { a: { kind: 'compare', query: 'x', metrics: [{ name: 'p95', query: 'y' }] } } }), ['analyses.a.query: a compare analysis needs query or metrics (one of them)']],
    ['compare metric listed twice', JSON.stringify({ ...minimal, analyses: { a: { kind: 'compare', metrics: [{ name: 'p95', query: 'x' }, { name: 'p95', query: 'y' }] } } }), ['analyses.a.metrics[1].name: "p95" is listed twice']],
    ['compare metric with weight 0', JSON.stringify({ ...minimal, analyses: { a: { kind: 'compare', metrics: [{ name: 'p95', query: 'x', weight: 0 }] } } }), ['analyses.a.metrics[0].weight: must be > 0']],
    ['marginal above pass score', JSON.stringify({ ...minimal, analyses: { a: { kind: 'compare', query: 'x', passScore: 70, marginalScore: 80 } } }), ['analyses.a.marginalScore: must not exceed passScore']],
    ['unknown outlier policy', JSON.stringify({ ...minimal, analyses: { a: { kind: 'compare', query: 'x', outliers: 'trim' } } }), ['analyses.a.outliers: must be "keep" or "remove"']],
    [
      'compare samples taken more often than their range window (they would overlap)',
      JSON.stringify({ ...minimal, analyses: { lat: { kind: 'compare', query: 'histogram_quantile(0.95, sum by (le) (rate(x_bucket[5s])))', interval: '1s' } } }),
      [
        "analyses.lat.interval: must be at least the query's range window (5s): samples every 1s over 5s windows overlap, so they are not independent and the compare judge would see differences in noise — set interval to 5s or more, or shorten the window",
      ],
    ],
    [
      'the longest window of any compare metric counts',
      JSON.stringify({ ...minimal, analyses: { lat: { kind: 'compare', interval: '30s', metrics: [{ name: 'p95', query: 'rate(a[30s])' }, { name: 'p99', query: 'max_over_time(b[2m:30s])' }] } } }),
      [
        "analyses.lat.interval: must be at least the query's range window (2m): samples every 30s over 2m windows overlap, so they are not independent and the compare judge would see differences in noise — set interval to 2m or more, or shorten the window",
      ],
    ],
    ['a negative initial delay', JSON.stringify({ ...minimal, analyses: { a: { query: 'up', successCondition: '> 0', initialDelay: '-5s' } } }), ['analyses.a.initialDelay: must be a duration like 30s, 10m or 24h (got "-5s")']],
  ])('%s', (_name, text, expected) => expect(problems(parseSpec(text))).toEqual(expected));

  test('a compare analysis is normalised to weighted metrics, each with its direction', () => {
    const single = parseSpec(JSON.stringify({ ...minimal, analyses: { lat: { kind: 'compare', query: 'q', direction: 'either' } } }));
    const several = parseSpec(JSON.stringify({ ...minimal, analyses: { lat: { kind: 'compare', metrics: [{ name: 'p95', query: 'a', weight: 3 }, { name: 'errors', query: 'b', direction: 'increase', critical: true }], direction: 'decrease' } } }));
    expect(single.ok && single.spec.analyses.lat).toMatchObject({ metrics: [{ name: 'value', query: 'q', direction: 'either', weight: 1, critical: false }], outliers: 'keep', consecutiveErrorLimit: 4 });
    expect(several.ok && several.spec.analyses.lat).toMatchObject({
      metrics: [
        { name: 'p95', direction: 'decrease', weight: 3, critical: false },
        { name: 'errors', direction: 'increase', weight: 1, critical: true },
      ],
    });
  });

  test('compare samples may be as long as their interval; threshold analyses may overlap; initialDelay is optional', () => {
    const ok = parseSpec(
      JSON.stringify({
        ...minimal,
        analyses: {
          lat: { kind: 'compare', query: 'histogram_quantile(0.95, sum by (le) (rate(x_bucket[15s])))', interval: '15s' },
          errors: { query: 'sum(rate(e[1m])) / sum(rate(r[1m]))', successCondition: '< 0.01', interval: '10s', initialDelay: '0s' },
        },
      }),
    );
    expect(problems(ok)).toEqual([]);
    expect(ok.ok && ok.spec.analyses.errors).toMatchObject({ initialDelay: 0 });
    expect(ok.ok && ok.spec.analyses.lat?.initialDelay).toBeUndefined();
  });

  test('dependsOn cycles and unknown services in a multi-service spec', () => {
    const svc = (service: string, dependsOn: string[]) => ({ ...minimal, version: undefined, service, dependsOn });
    const doc = { release: 'shop', version: '1', services: [svc('a', ['b']), svc('b', ['a']), svc('c', ['zz'])] };
    expect(problems(parseSpec(JSON.stringify(doc)))).toEqual([
      'services[2].dependsOn[0]: unknown service "zz"',
      'services: dependsOn has a cycle: a → b → a',
    ]);
  });

  test('YAML syntax errors give the line', () => {
    const [message] = problems(parseSpec('service: checkout\n  version: [1.0\n'));
    expect(message).toMatch(/^line \d+, column \d+: /);
  });

  test('a document that is not a mapping', () => {
    expect(problems(parseSpec('- a\n- b\n'))).toEqual(['the spec must be a mapping (YAML object)']);
  });
});

describe('clusters and waves', () => {
  const waved = (extra: Record<string, unknown>, production: Record<string, unknown> = {}): string =>
    JSON.stringify({
      ...minimal,
      production: { ...minimal.production, ...production },
      clusters: { 'eu-1': { context: 'eu-1-prod' }, 'eu-2': { context: 'eu-2-prod' }, 'us-1': { context: 'us-1-prod' } },
      waves: [{ name: 'canary', clusters: ['eu-1'], bake: '30m' }, { clusters: ['eu-2', 'us-1'], maxParallel: 1 }],
      ...extra,
    });

  test('are normalised: clusters in spec order with their contexts, waves named and with their defaults', () => {
    const result = parseSpec(waved({}));
    expect(problems(result)).toEqual([]);
    if (!result.ok) return;
    expect(result.spec.clusters).toEqual([
      { name: 'eu-1', context: 'eu-1-prod' },
      { name: 'eu-2', context: 'eu-2-prod' },
      { name: 'us-1', context: 'us-1-prod' },
    ]);
    expect(result.spec.waves).toEqual([
      { name: 'canary', clusters: ['eu-1'], maxParallel: 1, bake: 1_800_000 },
      { name: 'wave-2', clusters: ['eu-2', 'us-1'], maxParallel: 1, bake: 0 },
    ]);
  });

  test('a spec without them has neither', () => {
    const result = parseSpec(JSON.stringify(minimal));
    expect(result.ok && [result.spec.clusters, result.spec.waves]).toEqual([undefined, undefined]);
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ['an unknown cluster', { waves: [{ clusters: ['eu-1', 'eu-2', 'us-1', 'ap-1'] }] }, ['waves[0].clusters[3]: unknown cluster "ap-1" (defined in "clusters": eu-1, eu-2, us-1)']],
    ['an empty wave', { waves: [{ clusters: ['eu-1', 'eu-2', 'us-1'] }, { clusters: [] }] }, ['waves[1].clusters: must list at least one cluster: an empty wave releases nothing']],
    ['a cluster in two waves', { waves: [{ clusters: ['eu-1', 'eu-2'] }, { clusters: ['us-1', 'eu-1'] }] }, ['waves[1].clusters[1]: "eu-1" is also in wave 1: a cluster is released in one wave']],
    ['a cluster twice in one wave', { waves: [{ clusters: ['eu-1', 'eu-2', 'us-1', 'eu-2'] }] }, ['waves[0].clusters[3]: "eu-2" is listed twice in this wave']],
    ['a cluster in no wave', { waves: [{ clusters: ['eu-1', 'eu-2'] }] }, ['clusters.us-1: is in no wave: list it in one, or remove it']],
    ['two waves of one name', { waves: [{ name: 'a', clusters: ['eu-1'] }, { name: 'a', clusters: ['eu-2', 'us-1'] }] }, ['waves[1].name: "a" is also the name of wave 1']],
    ['clusters without waves', { waves: undefined }, ['waves: must say in which order the clusters are released: a list of waves, each naming some of "clusters"']],
    ['waves without clusters', { clusters: undefined }, ['clusters: must name every cluster the waves release to, each with the kubeconfig context the worker reaches it by']],
    ['maxParallel 0', { waves: [{ clusters: ['eu-1', 'eu-2', 'us-1'], maxParallel: 0 }] }, ['waves[0].maxParallel: must be 1 or more']],
    [
      'two clusters reached by one context',
      { clusters: { 'eu-1': { context: 'eu-prod' }, 'eu-2': { context: 'eu-prod' }, 'us-1': { context: 'us-prod' } } },
      ['clusters.eu-2.context: "eu-prod" is also the context of cluster "eu-1": each cluster is reached by a context of its own'],
    ],
    [
      'credentials instead of a context',
      { clusters: { 'eu-1': { context: 'eu-1-prod' }, 'eu-2': { context: 'eu-2-prod' }, 'us-1': { server: 'https://10.0.0.1', token: 'abc' } } },
      [
        `clusters.us-1.server: credentials never go into a spec (it is written into the release's history): name a kubeconfig context the worker holds in "context", and keep "server" in the worker's kubeconfig`,
        `clusters.us-1.token: credentials never go into a spec (it is written into the release's history): name a kubeconfig context the worker holds in "context", and keep "token" in the worker's kubeconfig`,
      ],
    ],
  ])('%s is refused, naming the field', (_, extra, expected) => {
    expect(problems(parseSpec(waved(extra)))).toEqual(expected);
  });

  test('approval.per: wave needs waves', () => {
    const approval = { approvers: ['alice'], per: 'wave' };
    expect(problems(parseSpec(withProduction({ approval })))).toEqual(['production.approval.per: "wave" needs "waves": without them there is one approval']);
    expect(problems(parseSpec(waved({}, { approval })))).toEqual([]);
  });
});
