// Configs measured beside the documented ones, to show why a documented config is what it is, or
// what a proposed change would do: the same analyses at another weight, or with a change. Variants
// whose steps have the same timing as a documented config's share its mid-run services (plan.ts),
// so the two are measured on the same traffic and the same faults.
import { benchConfig, DEFAULTS_DOC, loadDoc, type BenchConfig } from './configs.js';

type Doc = Record<string, unknown> & { production: { canary: { steps: unknown[] } }; analyses: Record<string, Record<string, unknown>> };

function withSteps(doc: unknown, steps: unknown[]): Doc {
  const copy = structuredClone(doc) as Doc;
  copy.production.canary.steps = steps;
  return copy;
}

/** A copy of `doc` with fields of one analysis changed. */
function withAnalysis(doc: unknown, name: string, fields: Record<string, unknown>): Doc {
  const copy = structuredClone(doc) as Doc;
  copy.analyses[name] = { ...copy.analyses[name], ...fields };
  return copy;
}

/**
 * A threshold guard on the canary's p95 relative to the baseline's over the same window: the
 * compare judge only speaks at the end of count × interval (8 min in the README's example), a
 * threshold analysis every interval.
 */
export const P95_RATIO = (window: string): string =>
  `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",color="{{color}}"}[${window}])))` +
  ` / histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",color="{{baselineColor}}"}[${window}])))`;

/** A copy of `doc` with `guard` added as analysis `p95-guard` to every canary analysis step, and `edit` applied. */
function withGuard(doc: unknown, guard: Record<string, unknown>, edit: (d: Doc) => void = () => undefined): Doc {
  const copy = structuredClone(doc) as Doc;
  copy.analyses['p95-guard'] = guard;
  for (const step of copy.production.canary.steps as Record<string, { analyses?: string[] }>[]) {
    if (step.analysis?.analyses) step.analysis.analyses = [...step.analysis.analyses, 'p95-guard'];
  }
  edit(copy);
  return copy;
}

export function variantConfigs(): BenchConfig[] {
  const readme = loadDoc('test/fixtures/specs/checkout.yaml');
  const example = loadDoc('examples/checkout/release.yaml');
  return [
    benchConfig('readme@50%', 'variant', "the README's analysis step at 50% instead of 10%", withSteps(readme, [{ setWeight: 50 }, { pause: { duration: '2m' } }, { analysis: { analyses: ['success-rate', 'latency-p95'] } }])),
    benchConfig('example@50%', 'variant', "the example's first analysis step at 50% instead of 10%", withSteps(example, [{ setWeight: 50 }, { pause: { duration: '10s' } }, { analysis: { analyses: ['success-rate', 'latency-p95'] } }])),
    benchConfig('defaults@50%', 'variant', 'the defaults at 50%', withSteps(DEFAULTS_DOC, [{ setWeight: 50 }, { analysis: { analyses: ['success-rate', 'latency-p95'] } }])),
    // the example's compare judged at 0.99, as it was until a CI run of the demo rolled a healthy release back
    benchConfig('example@0.99', 'variant', "the example with its compare analysis at confidence 0.99 instead of 0.999", withAnalysis(example, 'latency-p95', { confidence: 0.99 })),
    benchConfig(
      'readme+guard',
      'proposed',
      'the README example with success-rate failureLimit 0 and a p95 guard (canary p95 / baseline p95 <= 1.5 over [30s], every 30s, failureLimit 0)',
      withGuard(readme, { query: P95_RATIO('30s'), successCondition: '<= 1.5', interval: '30s', count: 4, failureLimit: 0, inconclusiveLimit: 1, onInconclusive: 'pause' }, (d) => {
        const sr = d.analyses['success-rate'];
        if (sr) sr.failureLimit = 0;
      }),
    ),
    benchConfig('example+guard', 'proposed', 'the example with a p95 guard (canary / baseline <= 1.5 over [10s], every 5s, count 3, failureLimit 0) in both analysis steps', withGuard(example, { query: P95_RATIO('10s'), successCondition: '<= 1.5', interval: '5s', count: 3, failureLimit: 0, inconclusiveLimit: 1, onInconclusive: 'pause' })),
    benchConfig(
      'example+guard20s',
      'proposed',
      'the example with a p95 guard over more requests (canary / baseline <= 1.4 over [20s], every 10s, count 3, failureLimit 0) in both analysis steps',
      withGuard(example, { query: P95_RATIO('20s'), successCondition: '<= 1.4', interval: '10s', count: 3, failureLimit: 0, inconclusiveLimit: 1, onInconclusive: 'pause' }),
    ),
    benchConfig('defaults+guard', 'proposed', 'the defaults with a p95 guard (canary / baseline <= 1.5 over [30s], threshold defaults otherwise)', withGuard(DEFAULTS_DOC, { query: P95_RATIO('30s'), successCondition: '<= 1.5' })),
    // "<= 1.5" over [30s] at 10 canary requests/s misses a fully faulty window 4% of the time (measured:
    // defaults+guard, readme+guard); "<= 1.3" is where a histogram_quantile Monte Carlo of the same
    // buckets puts both error rates near 0.1%
    benchConfig(
      'readme+guard1.3',
      'proposed',
      'as readme+guard with the guard at "<= 1.3"',
      withGuard(readme, { query: P95_RATIO('30s'), successCondition: '<= 1.3', interval: '30s', count: 4, failureLimit: 0, inconclusiveLimit: 1, onInconclusive: 'pause' }, (d) => {
        const sr = d.analyses['success-rate'];
        if (sr) sr.failureLimit = 0;
      }),
    ),
    benchConfig('defaults+guard1.3', 'proposed', 'as defaults+guard with the guard at "<= 1.3"', withGuard(DEFAULTS_DOC, { query: P95_RATIO('30s'), successCondition: '<= 1.3' })),
  ];
}
