// Hook stages: what a service's hooks (spec `hooks:`) run at each point of its pipeline, the Job a
// hook's template becomes, and the names that make a retried hook find its own Job again. Pure: the
// workflow decides when, the hooks activity (src/activities/hooks/) does the I/O.
import type { HookAction, HookPoint, HookSpec, ServiceSpec } from './release-spec.js';

/**
 * The points in pipeline order:
 *   beforeStaging — before the new version reaches staging;
 *   beforeSwitch  — before the new version takes any production traffic: before the canary's first
 *                   step (a canary is the start of the switch), or before the switch when there is none
 *                   — where an expand migration belongs, since canary pods serve production traffic;
 *   afterSwitch   — once production traffic is on the new version;
 *   afterMonitor  — after the monitor window passed (or after the switch, without one) — where a
 *                   contract migration belongs: the old version no longer serves.
 */
export const HOOK_POINTS: readonly HookPoint[] = ['beforeStaging', 'beforeSwitch', 'afterSwitch', 'afterMonitor'];

export const HOOK_POINT_TEXT: Record<HookPoint, string> = {
  beforeStaging: 'before staging',
  beforeSwitch: 'before the switch',
  afterSwitch: 'after the switch',
  afterMonitor: 'after the monitor window',
};

/** One run of a hook (or of its undo) as the activity gets it: the action with every {{variable}} filled in. */
export interface HookRun {
  /** `<release>/<run>/<service>/<hook>/<run|undo>`: the Idempotency-Key of a call, hashed into a Job's name. */
  key: string;
  releaseId: string;
  service: string;
  point: HookPoint;
  hook: string;
  phase: 'run' | 'undo';
  action: HookAction;
  /** A job hook: the Job's name and namespace, fixed by the workflow so that a retried attempt finds the Job it created. */
  job?: {
    name: string;
    namespace: string;
    /** The kubeconfig context of its cluster (a release across clusters); absent: the worker's current one. */
    cluster?: string;
  };
}

/** What a hook did, as data: a failed Job or a refused call is an outcome, not an error (errors are for the systems being down). */
export interface HookOutcome {
  phase: 'Succeeded' | 'Failed' | 'TimedOut';
  /** One line: which Job / call, and how it ended. */
  detail: string;
  /** The last lines its pod logged (a Job), or of the answer's body (a call); failures only. */
  logTail?: string[];
}

export interface HookVars {
  release: string;
  service: string;
  version: string;
  image: string;
  namespace: string;
}

/** The hooks of a service at a point, in spec order. */
export function hooksAt(svc: Pick<ServiceSpec, 'hooks'>, point: HookPoint): HookSpec[] {
  return svc.hooks?.[point] ?? [];
}

/**
 * FNV-1a, 32 bits, as 8 hex digits: a short, stable suffix (not a security measure).
 *   fnv1a('checkout@1.4.2/run-1/checkout/expand/run') → 8 hex digits, the same on every worker
 */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * The Job's name: `<service>-<hook>[-undo]-<hash of the key>`, at most 63 characters (a Job's name
 * is also its pods' `job-name` label), unique per release run, the same on every attempt.
 *   hookJobName({ service: 'checkout', hook: 'expand-schema', phase: 'run', key: 'checkout@1.4.2/r1/checkout/expand-schema/run' })
 *     → 'checkout-expand-schema-' + 8 hex digits
 */
export function hookJobName(run: Pick<HookRun, 'service' | 'hook' | 'phase' | 'key'>): string {
  const suffix = `${run.phase === 'undo' ? '-undo' : ''}-${fnv1a(run.key)}`;
  const base = `${run.service}-${run.hook}`.slice(0, 63 - suffix.length).replace(/-+$/, '');
  return `${base}${suffix}`;
}

/** Every string in `value` with {{release}}, {{service}}, {{version}}, {{image}}, {{namespace}} filled in; unknown names left as they are. */
export function renderHookValue<T>(value: T, vars: HookVars): T {
  const fill = (s: string): string => s.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => (vars as unknown as Record<string, string | undefined>)[name] ?? whole);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fill(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** The run of `hook` (or its undo) for the activity: variables filled in, the Job's name fixed. */
export function hookRun(input: { releaseId: string; runId: string; point: HookPoint; hook: HookSpec; phase: 'run' | 'undo'; vars: HookVars; cluster?: string }): HookRun {
  const action = input.phase === 'undo' ? input.hook.undo : input.hook.action;
  if (!action) throw new Error(`hook ${input.hook.name} has no undo`);
  const base = { releaseId: input.releaseId, service: input.vars.service, point: input.point, hook: input.hook.name, phase: input.phase };
  const key = `${input.releaseId}/${input.runId}/${input.vars.service}/${input.hook.name}/${input.phase}`;
  const rendered = renderHookValue(action, input.vars);
  if (rendered.kind === 'http') return { ...base, key, action: rendered };
  return { ...base, key, action: rendered, job: { name: hookJobName({ ...base, key }), namespace: rendered.namespace ?? input.vars.namespace, ...(input.cluster !== undefined ? { cluster: input.cluster } : {}) } };
}

/** An HTTP hook as status and messages name it, without its query (which may carry parameters nobody needs to read): `POST https://cache/warm?…`. */
export function callTarget(method: string, url: string): string {
  return `${method} ${url.replace(/\?.*$/, '?…')}`;
}

export const HOOK_LABELS = { managedBy: 'app.kubernetes.io/managed-by', hook: 'tidegate.io/hook', service: 'tidegate.io/service' } as const;

/**
 * The batch/v1 Job a job hook creates: the template as given, with what a hook needs when the
 * template leaves it out — backoffLimit 0 (a migration runs once; say more to retry it), pods that
 * restart Never, and containers whose termination message falls back to their logs' tail (so the
 * tail survives the pod's node and reaches status) — and labels and annotations naming the release.
 */
export function hookJob(run: HookRun): Record<string, unknown> {
  if (run.action.kind !== 'job' || !run.job) throw new Error(`hook ${run.hook} is not a job`);
  const spec = structuredClone(run.action.template) as { backoffLimit?: number; template?: { metadata?: { labels?: Record<string, string> }; spec?: { restartPolicy?: string; containers?: Record<string, unknown>[] } } };
  const labels = { [HOOK_LABELS.managedBy]: 'tidegate', [HOOK_LABELS.hook]: run.hook, [HOOK_LABELS.service]: run.service };
  const pod = spec.template ?? {};
  const podSpec = pod.spec ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: run.job.name,
      namespace: run.job.namespace,
      labels,
      annotations: { 'tidegate.io/release': run.releaseId, 'tidegate.io/key': run.key, 'tidegate.io/point': run.point, 'tidegate.io/phase': run.phase },
    },
    spec: {
      ...spec,
      backoffLimit: spec.backoffLimit ?? 0,
      template: {
        ...pod,
        metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, ...labels } },
        spec: {
          ...podSpec,
          restartPolicy: podSpec.restartPolicy ?? 'Never',
          containers: (podSpec.containers ?? []).map((c) => ({ terminationMessagePolicy: 'FallbackToLogsOnError', ...c })),
        },
      },
    },
  };
}

/**
 * The last `n` non-empty lines of a text.
 *   tail('a\nb\n\nc\n', 2) → ['b', 'c']
 */
export function tail(text: string, n = 20): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .slice(-n);
}

/** How a hook's failure reads in the release's reason: `hook expand-schema (before the switch of checkout) failed: <detail>`. */
export function hookFailureMessage(run: Pick<HookRun, 'hook' | 'point' | 'service' | 'phase'>, outcome: HookOutcome): string {
  const what = outcome.phase === 'TimedOut' ? 'timed out' : 'failed';
  return `hook ${run.hook}${run.phase === 'undo' ? ' (undo)' : ''} (${HOOK_POINT_TEXT[run.point]} of ${run.service}) ${what}: ${outcome.detail}`;
}

/**
 * Which hook points run before and after each of a service's planned stages (staging, canary,
 * approval, switch, monitor; `skipped` ones run nothing themselves):
 *   beforeStaging → before the first stage that runs;
 *   beforeSwitch  → before the canary, or before the switch when no canary runs;
 *   afterSwitch   → after the switch;
 *   afterMonitor  → after the monitor window, or right after the switch's hooks when there is none.
 *
 *   [staging, canary, approval, switch, monitor]     → staging: before [beforeStaging]; canary: before [beforeSwitch];
 *                                                      switch: after [afterSwitch]; monitor: after [afterMonitor]
 *   [staging skipped, canary skipped, approval, switch, monitor skipped]
 *                                                    → approval: before [beforeStaging];
 *                                                      switch: before [beforeSwitch], after [afterSwitch, afterMonitor]
 */
export function hookSchedule(stages: readonly { stage: string; skipped?: boolean }[]): { before: HookPoint[]; after: HookPoint[] }[] {
  const schedule = stages.map(() => ({ before: [] as HookPoint[], after: [] as HookPoint[] }));
  const runs = (i: number): boolean => stages[i]?.skipped !== true;
  const first = stages.findIndex((_, i) => runs(i));
  const index = (name: string): number => stages.findIndex((s, i) => s.stage === name && runs(i));
  const canary = index('canary');
  const switchAt = index('switch');
  const monitor = index('monitor');
  if (first >= 0) schedule[first]?.before.push('beforeStaging');
  const beforeSwitch = canary >= 0 ? canary : switchAt;
  if (beforeSwitch >= 0) schedule[beforeSwitch]?.before.push('beforeSwitch');
  if (switchAt >= 0) schedule[switchAt]?.after.push('afterSwitch');
  const afterMonitor = monitor >= 0 ? monitor : switchAt;
  if (afterMonitor >= 0) schedule[afterMonitor]?.after.push('afterMonitor');
  return schedule;
}
