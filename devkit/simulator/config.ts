// The traffic simulator's config file: which services it sends requests to, how they
// are routed in the cluster, and how each image behaves. Validated with zod so that a typo in the
// demo's config is an error naming the field, not silent healthy traffic.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const latency = z
  .object({
    p50: z.number().positive('must be > 0'),
    p95: z.number().positive('must be > 0'),
  })
  .strict()
  .refine((l) => l.p95 >= l.p50, { path: ['p95'], message: 'must be at least p50' });

/** How requests served by one image behave: the fraction that fail with 500, and latency quantiles. */
export const behaviourSchema = z
  .object({
    errorRate: z.number().min(0, 'must be 0..1').max(1, 'must be 0..1').optional(),
    latencyMs: latency.optional(),
  })
  .strict()
  .refine((b) => b.errorRate !== undefined || b.latencyMs !== undefined, { message: 'give errorRate and/or latencyMs' });

export interface Behaviour {
  errorRate: number;
  latencyMs: { p50: number; p95: number };
}

/** Images not listed behave healthily: 0.05% errors (≤ 0.1%), p50 20 ms, p95 60 ms. */
export const HEALTHY: Behaviour = { errorRate: 0.0005, latencyMs: { p50: 20, p95: 60 } };

const name = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name');

const serviceSchema = z
  .object({
    service: name,
    requestsPerSecond: z.number().positive().default(100),
    production: z
      .object({
        namespace: name,
        activeService: name,
        deploymentPrefix: name,
        colorLabel: z.string().min(1).default('color'),
        traffic: z
          .object({
            router: z.enum(['gateway-api', 'istio', 'nginx', 'replicas']),
            httpRoute: name.optional(),
            virtualService: name.optional(),
            ingress: name.optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    staging: z.object({ namespace: name, deployment: name, requestsPerSecond: z.number().positive().default(20) }).strict().optional(),
  })
  .strict();

export const simulatorConfigSchema = z
  .object({
    defaults: behaviourSchema.optional(),
    services: z.array(serviceSchema).min(1, 'must list at least one service'),
    images: z.record(z.string().min(1), behaviourSchema).default({}),
  })
  .strict();

export type SimulatorConfig = z.output<typeof simulatorConfigSchema>;
export type SimulatedService = SimulatorConfig['services'][number];

/** Fills a partial behaviour from a base (defaults to HEALTHY). */
export function completeBehaviour(partial: z.output<typeof behaviourSchema> | undefined, base: Behaviour = HEALTHY): Behaviour {
  return { errorRate: partial?.errorRate ?? base.errorRate, latencyMs: partial?.latencyMs ?? base.latencyMs };
}

export function loadSimulatorConfig(file: string): SimulatorConfig {
  const parsed = simulatorConfigSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${file} is not a valid simulator config:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
