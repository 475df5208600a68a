// The analysis configs whose accuracy the benchmark measures, taken from where users read them:
// the README's full example (test/fixtures/specs/checkout.yaml), the sample service's spec
// (examples/checkout/release.yaml, which `npm run demo` releases unchanged), and the schema's
// defaults with the queries a user would write for them. Each becomes the canary analysis steps
// the workflow would run: weight, time since the weight change, analyses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import { formatProblem, validateSpec, type ReleaseSpec } from '../../src/spec/index.js';
import { lastAtOf, type StepShape } from './replay.js';

export interface BenchConfig {
  name: string;
  /** Where users read it. */
  source: string;
  note: string;
  spec: ReleaseSpec;
  steps: (StepShape & { label: string })[];
}

const SUCCESS_RATE = (window: string): string =>
  `sum(rate(http_requests_total{service="{{service}}",color="{{color}}",code!~"5.."}[${window}])) / sum(rate(http_requests_total{service="{{service}}",color="{{color}}"}[${window}]))`;
const LATENCY_P95 = (window: string): string =>
  `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",color="{{color}}"}[${window}])))`;

/** The schema defaults, with the queries of the README's example at the longest windows the defaults allow. */
export const DEFAULTS_DOC = {
  service: 'checkout',
  version: '1.0.0',
  image: 'registry.local/checkout:1.0.0',
  production: {
    namespace: 'prod',
    blueGreen: { activeService: 'checkout', deploymentPrefix: 'checkout' },
    canary: { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['success-rate', 'latency-p95'] } }] },
  },
  analyses: {
    // a success rate as users write it: ">= 0.99" over [1m]; every other field the schema's default
    'success-rate': { query: SUCCESS_RATE('1m'), successCondition: '>= 0.99' },
    // the compare default interval is 15s, and the spec refuses windows longer than the interval
    'latency-p95': { kind: 'compare', query: LATENCY_P95('15s') },
  },
};

function validated(doc: unknown, what: string): ReleaseSpec {
  const r = validateSpec(doc);
  if (!r.ok) throw new Error(`${what} is invalid: ${r.problems.map(formatProblem).join('; ')}`);
  return r.spec;
}

/**
 * The analysis steps of a spec's (first service's) canary, with their weights and how long after
 * the last weight change each starts: the pauses with a duration in between, and the analysis
 * steps before it run to their end (a pause without duration waits for a human: counted as 0).
 */
export function analysisSteps(spec: ReleaseSpec): (StepShape & { label: string })[] {
  const steps: (StepShape & { label: string })[] = [];
  let weight = 0;
  let since = 0;
  spec.services[0]?.production.canary?.steps.forEach((step, i) => {
    if (step.kind === 'setWeight') {
      weight = step.weight;
      since = 0;
    } else if (step.kind === 'pause') {
      since += step.durationMs ?? 0;
    } else {
      const analyses = step.analyses.map((name) => {
        const a = spec.analyses[name];
        if (!a) throw new Error(`unknown analysis ${name}`);
        return { name, spec: a };
      });
      const shape = { weight, pauseMs: since, analyses };
      steps.push({ ...shape, label: `step ${i + 1} at ${weight}%` });
      since = Math.max(...analyses.map((a) => lastAtOf(shape, a.spec)));
    }
  });
  return steps;
}

export function loadDoc(relative: string): Record<string, unknown> {
  return parse(readFileSync(join(repoRoot, relative), 'utf8')) as Record<string, unknown>;
}

export function benchConfig(name: string, source: string, note: string, doc: unknown): BenchConfig {
  const spec = validated(doc, source);
  return { name, source, note, spec, steps: analysisSteps(spec) };
}

/** The documented configs, as the files say now. */
export function documentedConfigs(): BenchConfig[] {
  return [
    benchConfig('readme', 'test/fixtures/specs/checkout.yaml', "the README's full example", loadDoc('test/fixtures/specs/checkout.yaml')),
    benchConfig('example', 'examples/checkout/release.yaml', 'the sample service; `npm run demo` releases this same file', loadDoc('examples/checkout/release.yaml')),
    benchConfig('defaults', 'src/spec/schema.ts defaults', 'every analysis field at its default; success rate >= 0.99 over [1m], p95 over [15s]; setWeight 10 then the analysis step', DEFAULTS_DOC),
  ];
}
