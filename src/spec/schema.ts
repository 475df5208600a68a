// The v1 release spec as a zod schema. Parsing validates every field and cross-field rule
// and normalises both spec forms (one `service`, or `release` + `services`) into one ReleaseSpec,
// with durations already in milliseconds. The types are the durable contract's
// (src/core/release-spec.ts); the checks at the end of this file keep the schema's output equal to them.
import { z } from 'zod';
import { parseCondition, type Condition } from '../core/condition.js';
import { longestWindowMs } from '../core/promql.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { isTimeZone, parseClock, WEEKDAYS } from '../core/windows.js';
import type {
  AnalysisSpec,
  ApprovalSpec,
  BlueGreenSpec,
  BuildSpec,
  CanaryStep,
  CompareAnalysisSpec,
  ProductionSpec,
  ReleaseSpec,
  ServiceSpec,
  SourceSpec,
  StagingSpec,
  ThresholdAnalysisSpec,
  TrafficSpec,
  AllowedWindow,
  Freeze,
  HookAction,
  HooksSpec,
  WindowsSpec,
} from '../core/release-spec.js';

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const dnsLabel = z
  .string('must be a string')
  .max(63, 'must be at most 63 characters')
  .regex(DNS1123, 'must be a DNS-1123 label (lowercase letters, digits and "-", starting and ending alphanumeric)');

const k8sName = z
  .string('must be a string')
  .max(253, 'must be at most 253 characters')
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name (lowercase letters, digits, "-" and ".")');

const version = z
  .string('must be a string (quote numeric versions: "1.4")')
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'must be letters, digits, ".", "_", "+" or "-"');

const image = z
  .string('must be a string')
  .min(1, 'must not be empty')
  .regex(/^[^\s]+$/, 'must not contain spaces');

/** A Go-style duration string, parsed to milliseconds. */
const duration = z.string('must be a duration string like 30s, 10m or 24h').transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a duration like 30s, 10m or 24h (got "${text}")` });
    return z.NEVER;
  }
  return ms;
});

const positiveDuration = duration.refine((ms) => ms > 0, 'must be longer than 0s');

const condition = z.string('must be a condition like ">= 0.99"').transform((text, ctx): Condition => {
  const parsed = parseCondition(text);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `must be a comparison like ">= 0.99" or "< 500" (got "${text}")` });
    return z.NEVER;
  }
  return parsed;
});

const count = (min: number) => z.number('must be a number').int('must be a whole number').min(min, `must be ${min} or more`);
const weight = z.number('must be a number').int('must be a whole number').min(0, 'must be 0..100').max(100, 'must be 0..100');

const thresholdAnalysis = z
  .object({
    kind: z.literal('threshold'),
    query: z.string().min(1, 'must not be empty'),
    successCondition: condition.optional(),
    failureCondition: condition.optional(),
    interval: positiveDuration.default(30_000),
    count: count(1).default(4),
    /**
     * How long after the service's last traffic change (a weight change, the switch, the staging
     * deploy) the first measurement is taken; by default the query's longest range window.
     */
    initialDelay: duration.optional(),
    failureLimit: count(0).default(0),
    inconclusiveLimit: count(0).default(0),
    /** Consecutive Errors (backend down) tolerated before the run counts as Inconclusive. */
    consecutiveErrorLimit: count(0).default(4),
    onInconclusive: z.enum(['pause', 'rollback'], 'must be "pause" or "rollback" (never "pass")').default('pause'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (!a.successCondition && !a.failureCondition) {
      ctx.addIssue({ code: 'custom', path: ['successCondition'], message: 'a threshold analysis needs successCondition or failureCondition' });
    }
  });

const direction = z.enum(['increase', 'decrease', 'either'], 'must be increase, decrease or either');

/** One metric of a compare analysis (Kayenta's canary config): its query, which change is bad, its weight. */
const compareMetric = z
  .object({
    name: z.string().regex(/^[a-z0-9][-a-z0-9_]*$/, 'metric names are lowercase letters, digits, "-" and "_"'),
    query: z.string().min(1, 'must not be empty'),
    direction: direction.optional(),
    weight: z.number().positive('must be > 0').default(1),
    /** A critical metric that fails fails the analysis whatever the score. */
    critical: z.boolean().default(false),
  })
  .strict();

const compareAnalysis = z
  .object({
    kind: z.literal('compare'),
    /** One metric (shorthand) … */
    query: z.string().min(1, 'must not be empty').optional(),
    /** … or several, scored together. */
    metrics: z.array(compareMetric).min(1, 'must list at least one metric').optional(),
    /** Which change of the canary against the baseline is bad (a metric may override it). */
    direction: direction.default('increase'),
    /** Sampling step; a run collects `count` samples of canary and baseline. */
    interval: positiveDuration.default(15_000),
    count: count(3).default(8),
    /** As for threshold analyses: the wait after the last traffic change; by default the longest range window. */
    initialDelay: duration.optional(),
    /** Confidence level of the Mann-Whitney test and its interval. */
    confidence: z.number().gt(0.5, 'must be in (0.5, 1)').lt(1, 'must be in (0.5, 1)').default(0.95),
    /** Smallest relative change (0.1 = 10%) that counts as a real difference. */
    minEffect: z.number().min(0, 'must be 0 or more').default(0.1),
    passScore: z.number().min(0).max(100, 'must be 0..100').default(95),
    marginalScore: z.number().min(0).max(100, 'must be 0..100').default(75),
    /** Far-out values (Tukey fences at 3 IQR) are kept or removed before the test. */
    outliers: z.enum(['keep', 'remove'], 'must be "keep" or "remove"').default('keep'),
    /** Failed queries (backend down) retried before the run counts as Inconclusive. */
    consecutiveErrorLimit: count(0).default(4),
    onInconclusive: z.enum(['pause', 'rollback'], 'must be "pause" or "rollback" (never "pass")').default('pause'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.marginalScore > a.passScore) ctx.addIssue({ code: 'custom', path: ['marginalScore'], message: 'must not exceed passScore' });
    if ((a.query === undefined) === (a.metrics === undefined)) ctx.addIssue({ code: 'custom', path: ['query'], message: 'a compare analysis needs query or metrics (one of them)' });
    // Samples taken more often than the query's range window overlap: neighbours share most of their
    // requests, so they are not independent, and the Mann-Whitney test (which assumes they are)
    // reports differences that are only noise. Measured: [5s] windows every 1s failed identical colors.
    const window = longestWindowMs(a.metrics?.map((m) => m.query) ?? (a.query ? [a.query] : []));
    if (window > a.interval) {
      ctx.addIssue({
        code: 'custom',
        path: ['interval'],
        message:
          `must be at least the query's range window (${formatDuration(window)}): samples every ${formatDuration(a.interval)} over ` +
          `${formatDuration(window)} windows overlap, so they are not independent and the compare judge would see differences in noise — ` +
          `set interval to ${formatDuration(window)} or more, or shorten the window`,
      });
    }
    const names = new Set<string>();
    a.metrics?.forEach((m, i) => {
      if (names.has(m.name)) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'name'], message: `"${m.name}" is listed twice` });
      names.add(m.name);
    });
  })
  .transform(({ query, metrics, ...rest }) => ({
    ...rest,
    metrics: (metrics ?? [{ name: 'value', query: query ?? '', weight: 1, critical: false }]).map((m) => ({ ...m, direction: m.direction ?? rest.direction })),
  }));

const analysis = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { ...v, kind: 'threshold' } : v),
  z.discriminatedUnion('kind', [thresholdAnalysis, compareAnalysis], { error: 'kind must be "threshold" or "compare"' }),
);

const canaryStep = z
  .object({
    setWeight: weight.optional(),
    pause: z.object({ duration: positiveDuration.optional() }).strict().optional(),
    analysis: z.object({ analyses: z.array(z.string()).min(1, 'must name at least one analysis') }).strict().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const kinds = [s.setWeight !== undefined, s.pause !== undefined, s.analysis !== undefined].filter(Boolean).length;
    if (kinds !== 1) ctx.addIssue({ code: 'custom', message: 'a step has exactly one of setWeight, pause or analysis' });
  })
  .transform((s): CanaryStep => {
    if (s.setWeight !== undefined) return { kind: 'setWeight', weight: s.setWeight };
    if (s.pause !== undefined) return s.pause.duration === undefined ? { kind: 'pause' } : { kind: 'pause', durationMs: s.pause.duration };
    return { kind: 'analysis', analyses: s.analysis?.analyses ?? [] };
  });

const traffic = z
  .object({
    router: z.enum(['gateway-api', 'istio', 'nginx', 'replicas'], 'must be gateway-api, istio, nginx or replicas'),
    httpRoute: k8sName.optional(),
    virtualService: k8sName.optional(),
    /** nginx: the stable Ingress; tidegate manages `<ingress>-canary` beside it. */
    ingress: k8sName.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const needs = { 'gateway-api': 'httpRoute', istio: 'virtualService', nginx: 'ingress', replicas: undefined } as const;
    const field = needs[t.router];
    if (field && !t[field]) ctx.addIssue({ code: 'custom', path: [field], message: `is required for router ${t.router}` });
  });

const blueGreen = z
  .object({
    activeService: k8sName,
    previewService: k8sName.optional(),
    deploymentPrefix: k8sName,
    colorLabel: z.string().min(1).default('color'),
    scaleDownDelay: duration.default(600_000),
  })
  .strict();

const approval = z
  .object({
    approvers: z.array(z.string().min(1, 'must not be empty')).min(1, 'must list at least one approver'),
    minApprovals: count(1).default(1),
    allowSelfApproval: z.boolean().default(false),
    timeout: positiveDuration.default(86_400_000),
    onTimeout: z.enum(['rollback', 'proceed'], 'must be "rollback" or "proceed"').default('rollback'),
    requireSignature: z.boolean().optional(),
    per: z.enum(['release', 'wave'], 'must be "release" (one approval for every wave) or "wave" (one at each wave)').optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.minApprovals > a.approvers.length) {
      ctx.addIssue({ code: 'custom', path: ['minApprovals'], message: `must be at most the number of approvers (${a.approvers.length})` });
    }
    const seen = new Set<string>();
    a.approvers.forEach((name, i) => {
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: ['approvers', i], message: `"${name}" is listed twice` });
      seen.add(name);
    });
  });

const production = z
  .object({
    namespace: dnsLabel,
    blueGreen,
    /** How long the new color may take to roll out. */
    rolloutTimeout: positiveDuration.default(600_000),
    canary: z.object({ traffic, steps: z.array(canaryStep).min(1, 'must have at least one step') }).strict().optional(),
    approval: approval.optional(),
    monitor: z.object({ duration: positiveDuration, analyses: z.array(z.string()).default([]) }).strict().optional(),
  })
  .strict();

const staging = z
  .object({
    namespace: dnsLabel,
    deployment: k8sName,
    rolloutTimeout: positiveDuration.default(300_000),
    verify: z.array(z.string()).default([]),
  })
  .strict();

const source = z
  .object({
    repo: z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, 'must be "owner/name"'),
    sha: z.string().regex(/^[0-9a-f]{7,40}$/, 'must be a commit SHA (7 to 40 lowercase hex digits)'),
  })
  .strict();

const build = z
  .object({
    requiredChecks: z.array(z.string().min(1)).default([]),
    timeout: positiveDuration.default(1_800_000),
    /** Optionally dispatch this GitHub Actions workflow (file name or id) on `ref` and wait for its run. */
    dispatch: z
      .object({
        workflow: z.string().min(1, 'must name the workflow file (deploy-checks.yml) or its id'),
        ref: z.string('must be the branch or tag the workflow runs on').min(1, 'must be the branch or tag the workflow runs on'),
        inputs: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((b) => b.requiredChecks.length > 0 || b.dispatch, { message: 'needs requiredChecks or dispatch' });

/** A batch/v1 JobSpec: at least one container with a name and an image; restartPolicy Never or OnFailure (Never when absent). */
const jobTemplate = z.record(z.string(), z.unknown(), 'must be a batch/v1 JobSpec (a mapping with template.spec.containers)').superRefine((t, ctx) => {
  const pod = (t.template as { spec?: { containers?: unknown; restartPolicy?: unknown } } | undefined)?.spec;
  const containers = pod?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['template', 'spec', 'containers'], message: 'must list at least one container (name and image)' });
    return;
  }
  containers.forEach((c: unknown, i) => {
    const o = (c ?? {}) as { name?: unknown; image?: unknown };
    if (typeof o.name !== 'string' || !o.name) ctx.addIssue({ code: 'custom', path: ['template', 'spec', 'containers', i, 'name'], message: 'must name the container' });
    if (typeof o.image !== 'string' || !o.image) ctx.addIssue({ code: 'custom', path: ['template', 'spec', 'containers', i, 'image'], message: 'must give the image' });
  });
  if (pod?.restartPolicy !== undefined && pod.restartPolicy !== 'Never' && pod.restartPolicy !== 'OnFailure') {
    ctx.addIssue({ code: 'custom', path: ['template', 'spec', 'restartPolicy'], message: 'a Job\'s pods restart Never or OnFailure' });
  }
});

const SECRET_HEADERS = /^(authorization|proxy-authorization|cookie|x-api-key|x-auth-token)$/i;
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must name an environment variable of the worker');

const jobHook =
    z
      .object({
        job: z
          .object({ namespace: dnsLabel.optional(), template: jobTemplate, timeout: positiveDuration.default(600_000) })
          .strict(),
      })
      .strict()
      .transform(({ job }) => ({ kind: 'job' as const, ...(job.namespace ? { namespace: job.namespace } : {}), template: job.template, timeout: job.timeout }));

const httpHook =
    z
      .object({
        http: z
          .object({
            url: z.string('must be a URL').regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL'),
            method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], 'must be GET, POST, PUT, PATCH or DELETE').default('POST'),
            headers: z.record(z.string(), z.string('must be a string')).default({}),
            headersFromEnv: z.record(z.string(), envName).default({}),
            body: z.union([z.string(), z.record(z.string(), z.unknown())], 'must be a string or a mapping (sent as JSON)').optional(),
            timeout: positiveDuration.default(30_000),
          })
          .strict()
          .superRefine((h, ctx) => {
            for (const name of Object.keys(h.headers)) {
              if (SECRET_HEADERS.test(name)) {
                ctx.addIssue({ code: 'custom', path: ['headers', name], message: `the spec is kept in the release's history: put the secret in the worker's environment and name it under headersFromEnv (${name}: SOME_VARIABLE)` });
              }
            }
          }),
      })
      .strict()
      .transform(({ http }) => ({
        kind: 'http' as const,
        url: http.url,
        method: http.method,
        headers: typeof http.body === 'object' && !Object.keys(http.headers).some((k) => k.toLowerCase() === 'content-type') ? { ...http.headers, 'content-type': 'application/json' } : http.headers,
        headersFromEnv: http.headersFromEnv,
        ...(http.body !== undefined ? { body: typeof http.body === 'string' ? http.body : JSON.stringify(http.body) } : {}),
        timeout: http.timeout,
      }));

/** A hook's action or undo: `{job: …}` or `{http: …}`, each checked field by field. */
const hookAction = z.unknown().transform((v, ctx): HookAction => {
  const o = (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, unknown>;
  const schema = 'job' in o && !('http' in o) ? jobHook : 'http' in o && !('job' in o) ? httpHook : undefined;
  if (!schema) {
    ctx.addIssue({ code: 'custom', message: 'must be a job ({job: {template, timeout?, namespace?}}) or an http call ({http: {url, method?, headers?, headersFromEnv?, body?, timeout?}}), one of them' });
    return z.NEVER;
  }
  const parsed = schema.safeParse(o);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  }
  return parsed.data as HookAction;
});

const hook = z
  .object({ name: dnsLabel, job: z.unknown().optional(), http: z.unknown().optional(), undo: z.unknown().optional() })
  .strict()
  .transform((h, ctx) => {
    const action = hookAction.safeParse(h.job !== undefined ? { job: h.job } : h.http !== undefined ? { http: h.http } : {});
    if (h.job !== undefined && h.http !== undefined) ctx.addIssue({ code: 'custom', path: ['http'], message: 'a hook is a job or an http call, not both' });
    if (!action.success) for (const issue of action.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    const undo = h.undo === undefined ? undefined : hookAction.safeParse(h.undo);
    if (undo && !undo.success) for (const issue of undo.error.issues) ctx.addIssue({ code: 'custom', path: ['undo', ...issue.path], message: issue.message });
    if (!action.success || (undo && !undo.success)) return z.NEVER;
    return { name: h.name, action: action.data as HookAction, ...(undo?.success ? { undo: undo.data as HookAction } : {}) };
  });

const hooks = z
  .object({ beforeStaging: z.array(hook).optional(), beforeSwitch: z.array(hook).optional(), afterSwitch: z.array(hook).optional(), afterMonitor: z.array(hook).optional() })
  .strict()
  .superRefine((h, ctx) => {
    const seen = new Map<string, string>();
    for (const [point, list] of Object.entries(h)) {
      (list ?? []).forEach((x, i) => {
        const other = seen.get(x.name);
        if (other) ctx.addIssue({ code: 'custom', path: [point, i, 'name'], message: `"${x.name}" is also a hook at ${other}: names are unique within a service` });
        seen.set(x.name, point);
      });
    }
  });

const serviceFields = {
  service: dnsLabel,
  image,
  staging: staging.optional(),
  production,
  hooks: hooks.optional(),
};

const serviceBlock = z
  .object({ ...serviceFields, version: version.optional(), dependsOn: z.array(dnsLabel).default([]) })
  .strict();

/** "HH:MM" local time; `to` may be 24:00. */
const clock = (endOfDay: boolean) =>
  z
    .string('must be a time of day like "09:00" (quote it in YAML)')
    .refine((t) => parseClock(t, endOfDay) !== undefined, endOfDay ? 'must be a time HH:MM from 00:00 to 24:00' : 'must be a time HH:MM from 00:00 to 23:59');

const allowedWindow = z
  .object({
    days: z.array(z.enum(WEEKDAYS, `must be one of ${WEEKDAYS.join(', ')}`)).min(1, 'must name at least one day'),
    from: clock(false),
    to: clock(true),
    timeZone: z.string('must be a string').refine(isTimeZone, 'must be an IANA time zone like Europe/Berlin, America/New_York or UTC'),
  })
  .strict()
  .refine((w) => w.from !== w.to, { path: ['to'], message: 'must differ from "from": a window of no time never opens' });

/** An instant with its offset: a freeze means the same moment on every worker, whatever its zone. */
const instant = z
  .string('must be a time with an offset, like 2026-12-24T00:00:00+01:00')
  .refine(
    (t) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t) && Number.isFinite(Date.parse(t)),
    'must be a time with an offset, like 2026-12-24T00:00:00+01:00 or 2026-12-23T23:00:00Z',
  );

const freeze = z
  .object({ from: instant, until: instant, reason: z.string('must be a string').trim().min(1, 'must say why (it is shown to whoever waits)').max(500, 'must be at most 500 characters') })
  .strict()
  .refine((f) => Date.parse(f.until) > Date.parse(f.from), { path: ['until'], message: 'must be after "from"' });

/** When a release may move on; also the shape of the worker's calendar file (TIDEGATE_CALENDAR). */
export const windowsSchema = z
  .object({ allow: z.array(allowedWindow).default([]), freezes: z.array(freeze).default([]) })
  .strict();

/** Keys of a kubeconfig's cluster or user entry: credentials, which never go into a spec (it is written into history). */
const CREDENTIAL_KEY = /^(server|token|tokenFile|user(name)?|password|certificate-authority(-data)?|client-(certificate|key)(-data)?|kubeconfig|auth-provider|exec|insecure-skip-tls-verify|ca(Data|File)?|certData|keyData)$/i;

const clusterFields = z
  .object({
    context: z
      .string('must name a kubeconfig context the worker holds')
      .min(1, 'must not be empty')
      .max(253, 'must be at most 253 characters')
      .regex(/^\S+$/, 'must not contain spaces'),
  })
  .strict();

/** How the worker reaches one cluster: the name of a context in its kubeconfig, and nothing else. */
const cluster = z.unknown().transform((raw, ctx): z.output<typeof clusterFields> => {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const secret = Object.keys(raw).filter((k) => CREDENTIAL_KEY.test(k));
    for (const key of secret) {
      ctx.addIssue({ code: 'custom', path: [key], message: `credentials never go into a spec (it is written into the release's history): name a kubeconfig context the worker holds in "context", and keep "${key}" in the worker's kubeconfig` });
    }
    if (secret.length) return z.NEVER;
  }
  const parsed = clusterFields.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  }
  return parsed.data;
});

const wave = z
  .object({
    name: dnsLabel.optional(),
    clusters: z.array(dnsLabel).min(1, 'must list at least one cluster: an empty wave releases nothing'),
    /** How long the wave's clusters run the new version before the next wave starts. */
    bake: duration.default(0),
    maxParallel: count(1).optional(),
  })
  .strict();

const common = {
  version,
  source: source.optional(),
  build: build.optional(),
  analyses: z.record(z.string().regex(/^[a-z0-9][-a-z0-9_]*$/, 'analysis names are lowercase letters, digits, "-" and "_"'), analysis).default({}),
  windows: windowsSchema.optional(),
  clusters: z.record(dnsLabel, cluster).optional(),
  waves: z.array(wave).min(1, 'must list at least one wave').optional(),
};

const singleServiceDoc = z.object({ ...serviceFields, ...common }).strict();
const multiServiceDoc = z
  .object({ release: dnsLabel, services: z.array(serviceBlock).min(1, 'must list at least one service'), ...common })
  .strict();

function checkReferences(doc: z.output<typeof singleServiceDoc> | z.output<typeof multiServiceDoc>, ctx: z.RefinementCtx): void {
  const defined = Object.keys(doc.analyses);
  const check = (name: string, path: (string | number)[]): void => {
    if (!(name in doc.analyses)) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `unknown analysis "${name}" (defined: ${defined.length ? defined.join(', ') : 'none'})`,
      });
    }
  };
  const services = 'services' in doc ? doc.services : [doc];
  services.forEach((svc, i) => {
    const base: (string | number)[] = 'services' in doc ? ['services', i] : [];
    svc.staging?.verify.forEach((n, j) => check(n, [...base, 'staging', 'verify', j]));
    svc.production.canary?.steps.forEach((step, j) => {
      if (step.kind === 'analysis') step.analyses.forEach((n, k) => check(n, [...base, 'production', 'canary', 'steps', j, 'analysis', 'analyses', k]));
    });
    svc.production.monitor?.analyses.forEach((n, j) => check(n, [...base, 'production', 'monitor', 'analyses', j]));
  });
  checkWaves(doc, services, ctx);
  if (!('services' in doc)) return;
  const names = new Map<string, number>();
  doc.services.forEach((svc, i) => {
    if (names.has(svc.service)) ctx.addIssue({ code: 'custom', path: ['services', i, 'service'], message: `"${svc.service}" appears twice` });
    names.set(svc.service, i);
  });
  doc.services.forEach((svc, i) =>
    svc.dependsOn.forEach((dep, j) => {
      if (dep === svc.service) ctx.addIssue({ code: 'custom', path: ['services', i, 'dependsOn', j], message: 'a service cannot depend on itself' });
      else if (!names.has(dep)) ctx.addIssue({ code: 'custom', path: ['services', i, 'dependsOn', j], message: `unknown service "${dep}"` });
    }),
  );
  const cycle = findCycle(doc.services);
  if (cycle) ctx.addIssue({ code: 'custom', path: ['services'], message: `dependsOn has a cycle: ${cycle.join(' → ')}` });
}

/** Every cluster in exactly one wave, every wave's clusters defined, `approval.per: wave` only with waves. */
function checkWaves(
  doc: z.output<typeof singleServiceDoc> | z.output<typeof multiServiceDoc>,
  services: { production: { approval?: { per?: 'release' | 'wave' } } }[],
  ctx: z.RefinementCtx,
): void {
  const { clusters, waves } = doc;
  if (!waves) {
    if (clusters) ctx.addIssue({ code: 'custom', path: ['waves'], message: 'must say in which order the clusters are released: a list of waves, each naming some of "clusters"' });
    services.forEach((svc, i) => {
      if (svc.production.approval?.per === 'wave') {
        ctx.addIssue({ code: 'custom', path: [...('services' in doc ? ['services', i] : []), 'production', 'approval', 'per'], message: '"wave" needs "waves": without them there is one approval' });
      }
    });
    return;
  }
  if (!clusters) {
    ctx.addIssue({ code: 'custom', path: ['clusters'], message: 'must name every cluster the waves release to, each with the kubeconfig context the worker reaches it by' });
    return;
  }
  const defined = Object.keys(clusters);
  // two names for one context would release the same cluster twice, the second over the old color the first keeps warm
  const byContext = new Map<string, string>();
  for (const [name, c] of Object.entries(clusters)) {
    const other = byContext.get(c.context);
    if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['clusters', name, 'context'], message: `"${c.context}" is also the context of cluster "${other}": each cluster is reached by a context of its own` });
    else byContext.set(c.context, name);
  }
  const waveOf = new Map<string, number>();
  const names = new Map<string, number>();
  waves.forEach((w, i) => {
    const name = w.name ?? `wave-${i + 1}`;
    const other = names.get(name);
    if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['waves', i, 'name'], message: `"${name}" is also the name of wave ${other + 1}` });
    names.set(name, i);
    w.clusters.forEach((c, j) => {
      if (!(c in clusters)) {
        ctx.addIssue({ code: 'custom', path: ['waves', i, 'clusters', j], message: `unknown cluster "${c}" (defined in "clusters": ${defined.join(', ') || 'none'})` });
        return;
      }
      const first = waveOf.get(c);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['waves', i, 'clusters', j], message: first === i ? `"${c}" is listed twice in this wave` : `"${c}" is also in wave ${first + 1}: a cluster is released in one wave` });
        return;
      }
      waveOf.set(c, i);
    });
  });
  for (const c of defined) {
    if (!waveOf.has(c)) ctx.addIssue({ code: 'custom', path: ['clusters', c], message: 'is in no wave: list it in one, or remove it' });
  }
}

function findCycle(services: { service: string; dependsOn: string[] }[]): string[] | undefined {
  const deps = new Map(services.map((s) => [s.service, s.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...trail.slice(trail.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const dep of deps.get(name) ?? []) {
      if (!deps.has(dep)) continue;
      const found = visit(dep, [...trail, name]);
      if (found) return found;
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const s of services) {
    const found = visit(s.service, []);
    if (found) return found;
  }
  return undefined;
}

function normalise(doc: z.output<typeof singleServiceDoc> | z.output<typeof multiServiceDoc>): ReleaseSpec {
  const { version: v, source: src, build: b, analyses, windows: w, clusters: cl, waves: wv } = doc;
  const shared = {
    version: v,
    ...(src ? { source: src } : {}),
    ...(b ? { build: b } : {}),
    analyses,
    ...(w ? { windows: w } : {}),
    ...(cl && wv
      ? {
          clusters: Object.entries(cl).map(([name, c]) => ({ name, context: c.context })),
          waves: wv.map((x, i) => ({ name: x.name ?? `wave-${i + 1}`, clusters: x.clusters, maxParallel: x.maxParallel ?? x.clusters.length, bake: x.bake })),
        }
      : {}),
  };
  if ('services' in doc) {
    return { name: doc.release, ...shared, services: doc.services.map((s) => ({ ...s, version: s.version ?? v })) };
  }
  const { service, image: img, staging: stg, production: prod, hooks: hk } = doc;
  return {
    name: service,
    ...shared,
    services: [{ service, image: img, version: v, ...(stg ? { staging: stg } : {}), production: prod, dependsOn: [], ...(hk ? { hooks: hk } : {}) }],
  };
}

/**
 * The spec document, either form, validated and normalised into a ReleaseSpec. The form is chosen
 * by the presence of `release`/`services`, so that errors name fields instead of "no union matched".
 */
export const releaseSpecSchema = z.unknown().transform((doc, ctx): ReleaseSpec => {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    ctx.addIssue({ code: 'custom', message: 'the spec must be a mapping (YAML object)' });
    return z.NEVER;
  }
  if ('services' in doc && 'service' in doc) {
    ctx.addIssue({ code: 'custom', path: ['services'], message: 'use either "service" (one service) or "release" + "services", not both' });
    return z.NEVER;
  }
  const form = 'services' in doc || 'release' in doc ? multiServiceDoc : singleServiceDoc;
  const parsed = form.superRefine(checkReferences).safeParse(doc);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  }
  return normalise(parsed.data);
});

export type * from '../core/release-spec.js';

/**
 * True when A and B are the same type (not merely assignable either way): an optional field added
 * to one side, or a required field made optional, makes them differ.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Objects as plain property maps, so that zod's intersections compare equal to the contract's interfaces. */
type Flat<T> = T extends readonly (infer E)[] ? Flat<E>[] : T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
type Check<A, B> = Same<Flat<A>, Flat<B>>;

// If one of these fails to compile, the schema's output no longer matches what releases store
// (src/core/release-spec.ts): change the contract on purpose (and upgrade older inputs), or the schema back.
const schemaMatchesContract: [
  Check<z.output<typeof thresholdAnalysis>, ThresholdAnalysisSpec>,
  Check<z.output<typeof compareAnalysis>, CompareAnalysisSpec>,
  Check<z.output<typeof analysis>, AnalysisSpec>,
  Check<z.output<typeof canaryStep>, CanaryStep>,
  Check<z.output<typeof traffic>, TrafficSpec>,
  Check<z.output<typeof blueGreen>, BlueGreenSpec>,
  Check<z.output<typeof approval>, ApprovalSpec>,
  Check<z.output<typeof production>, ProductionSpec>,
  Check<z.output<typeof staging>, StagingSpec>,
  Check<z.output<typeof build>, BuildSpec>,
  Check<z.output<typeof source>, SourceSpec>,
  Check<z.output<typeof allowedWindow>, AllowedWindow>,
  Check<z.output<typeof freeze>, Freeze>,
  Check<z.output<typeof windowsSchema>, WindowsSpec>,
  Check<z.output<typeof hooks>, HooksSpec>,
  Check<z.output<typeof serviceBlock> & { version: string }, ServiceSpec>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void schemaMatchesContract;
