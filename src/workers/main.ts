// The tidegate worker: polls the `tidegate` task queue (TIDEGATE_TASK_QUEUE), runs release and lock
// workflows and their activities. Connection from the standard Temporal environment variables;
// credentials for Kubernetes, Prometheus and GitHub stay in this process's environment.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { KubeConfig } from '@kubernetes/client-node';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { createClusterKubernetesActivities } from '../activities/kubernetes/clusters.js';
import { createHookActivities } from '../activities/hooks/index.js';
import { createGitHubActivities } from '../activities/github/index.js';
import { createPrometheusActivities } from '../activities/prometheus/index.js';
import { signingConfigFromEnv } from '../activities/signing/index.js';
import { parseCalendar } from '../activities/calendar/index.js';
import { sinksFromEnv } from '../activities/notify/index.js';
import { connectionOptions, temporalSettings, type TemporalSettings } from '../temporal/connection.js';
import { dataConverterFor } from '../temporal/codec.js';
import { TASK_QUEUE } from '../core/ids.js';
import { tracesEndpoint, tracingClientInterceptors, tracingFromEnv, type Tracing } from '../temporal/tracing.js';
import { tracingWorkerOptions } from './tracing.js';
import { installWorkerRuntime, releaseMetricsSinks } from './runtime.js';

/** The workflow sources next to this file: .ts when run from source (tsx, jest), .js from dist/. */
export const workflowsPath = fileURLToPath(new URL(`../workflows/index.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));

export interface WorkerConfig {
  temporal: TemporalSettings;
  taskQueue: string;
  adapters?: Omit<ActivityDeps, 'temporal'>;
  /** Extra Worker options (tests tune concurrency). */
  options?: Partial<WorkerOptions>;
  /** Traces workflows and activities (src/temporal/tracing.ts); undefined: off. */
  tracing?: Tracing;
}

/**
 * The adapters this worker's environment configures; credentials are read here and stay in this
 * process. Kubernetes: KUBECONFIG, or the in-cluster ServiceAccount (KUBERNETES_SERVICE_HOST).
 * Prometheus: PROMETHEUS_URL, with PROMETHEUS_BEARER_TOKEN when it needs one.
 * GitHub: GITHUB_TOKEN, and GITHUB_API_URL for GitHub Enterprise (or the local fake); releases link
 * to TEMPORAL_UI_URL when it is set. Signed decisions: TIDEGATE_ALLOWED_SIGNERS (an allowed signers
 * file, as ssh-keygen and git read it) and TIDEGATE_REQUIRE_SIGNED. Windows and freezes for every
 * release: TIDEGATE_CALENDAR (a YAML or JSON file in the spec's `windows` shape, read at every check).
 * Notifications: TIDEGATE_SLACK_WEBHOOK_URL (a Slack-compatible incoming webhook) and
 * TIDEGATE_WEBHOOK_URL (the structured event as JSON; TIDEGATE_WEBHOOK_SECRET signs each body).
 */
export function adaptersFromEnv(env: NodeJS.ProcessEnv = process.env): { adapters: NonNullable<WorkerConfig['adapters']>; configured: string[] } {
  const adapters: NonNullable<WorkerConfig['adapters']> = {};
  const configured: string[] = [];
  let kc: KubeConfig | undefined;
  if (env.KUBECONFIG || env.KUBERNETES_SERVICE_HOST) {
    kc = new KubeConfig();
    if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG);
    else kc.loadFromCluster();
    adapters.kubernetes = createClusterKubernetesActivities(kc);
    configured.push(`kubernetes (${kc.getCurrentCluster()?.server ?? 'in-cluster'})`);
  }
  // hook stages: Jobs in the same cluster, HTTP calls from here; their secret headers come from this environment
  adapters.hooks = createHookActivities({ ...(kc ? { kubeConfig: kc } : {}), env });
  if (env.PROMETHEUS_URL) {
    adapters.metrics = createPrometheusActivities({ url: env.PROMETHEUS_URL, ...(env.PROMETHEUS_BEARER_TOKEN ? { bearerToken: env.PROMETHEUS_BEARER_TOKEN } : {}) });
    configured.push(`prometheus (${new URL(env.PROMETHEUS_URL).origin})`);
  }
  const ui = env.TEMPORAL_UI_URL?.replace(/\/+$/, '');
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const releaseUrl = ui ? { releaseUrl: (id: string) => `${ui}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(id)}` } : {};
  if (env.GITHUB_TOKEN) {
    adapters.github = createGitHubActivities({
      token: env.GITHUB_TOKEN,
      ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
      ...releaseUrl,
    });
    configured.push(`github (${env.GITHUB_API_URL ?? 'https://api.github.com'})`);
  }
  if (env.TIDEGATE_CALENDAR) {
    // read now, so that a broken file stops the worker at start rather than holding releases later
    const calendar = parseCalendar(readFileSync(env.TIDEGATE_CALENDAR, 'utf8'), `TIDEGATE_CALENDAR=${env.TIDEGATE_CALENDAR}`);
    adapters.calendar = { file: env.TIDEGATE_CALENDAR };
    configured.push(`calendar (${env.TIDEGATE_CALENDAR}: ${calendar.allow.length} allowed windows, ${calendar.freezes.length} freezes)`);
  }
  const sinks = sinksFromEnv(env);
  if (sinks.length > 0) {
    adapters.notify = { sinks, ...releaseUrl };
    configured.push(`notifications (${sinks.map((s) => s.kind + (s.secret ? ', signed' : '')).join(', ')})`);
  }
  adapters.signing = signingConfigFromEnv(env);
  if (adapters.signing.allowedSignersFile) configured.push(`allowed signers (${adapters.signing.allowedSignersFile}${adapters.signing.requireSigned ? ', signatures required' : ''})`);
  return { adapters, configured };
}

/**
 * Worker tuning from the environment. TIDEGATE_MAX_CACHED_WORKFLOWS bounds the workflows kept in
 * memory (the SDK's default grows with the V8 heap limit, ~2,300 on a 4 GB heap); evicted releases
 * replay from their history when a timer, signal or query needs them. TIDEGATE_MAX_ACTIVITIES bounds
 * the activities running at once (the SDK's default, 100): a monitor window's analysis holds one for
 * the whole window (a watch that mostly sleeps), so a worker that watches many windows at once needs
 * more.
 */
export function workerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<WorkerOptions> {
  const whole = (name: string, min: number): number | undefined => {
    const raw = env[name];
    if (!raw) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min} (got "${raw}")`);
    return n;
  };
  const cache = whole('TIDEGATE_MAX_CACHED_WORKFLOWS', 0);
  const activities = whole('TIDEGATE_MAX_ACTIVITIES', 1);
  return {
    ...(cache !== undefined ? { maxCachedWorkflows: cache, ...(cache > 0 && cache < 10 ? { maxConcurrentWorkflowTaskExecutions: Math.max(1, cache - 1) } : {}) } : {}),
    ...(activities !== undefined ? { maxConcurrentActivityTaskExecutions: activities } : {}),
  };
}

export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig & { configured: string[] } {
  const { adapters, configured } = adaptersFromEnv(env);
  const tracing = tracingFromEnv('tidegate-worker', env);
  return { temporal: temporalSettings(env), taskQueue: env.TIDEGATE_TASK_QUEUE || TASK_QUEUE, adapters, configured, options: workerOptionsFromEnv(env), ...(tracing ? { tracing } : {}) };
}

/**
 * A workflow bundle built ahead of time (`npm run build` writes dist/workflow-bundle.js;
 * TIDEGATE_WORKFLOW_BUNDLE names another): the worker then skips bundling with webpack at start,
 * which takes seconds and leaves ~200 MB of its memory behind.
 */
export function prebuiltBundle(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env.TIDEGATE_WORKFLOW_BUNDLE || (import.meta.url.endsWith('.js') ? fileURLToPath(new URL('../workflow-bundle.js', import.meta.url)) : undefined);
  return path && existsSync(path) ? path : undefined;
}

/**
 * The search attributes a release sets that the namespace has not registered (a release would fail
 * its workflow task on the first upsert), or undefined when the namespace cannot be asked (the
 * operator API unimplemented or not allowed, as on some hosted namespaces).
 */
export async function missingSearchAttributes(connection: Pick<NativeConnection, 'operatorService'>, namespace: string): Promise<string[] | undefined> {
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in (customAttributes ?? {})));
  } catch {
    return undefined;
  }
}

/** The command that registers `names` (what the worker prints when they are missing). */
export function registerCommand(names: readonly string[], namespace: string): string {
  return `temporal operator search-attribute create --namespace ${namespace} ${names.map((n) => `--name ${n} --type ${SEARCH_ATTRIBUTES[n as keyof typeof SEARCH_ATTRIBUTES]}`).join(' ')}`;
}

export async function createWorker(config: WorkerConfig): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  const missing = await missingSearchAttributes(connection, config.temporal.namespace);
  if (missing?.length) {
    await connection.close();
    throw new Error(`the namespace ${config.temporal.namespace} has not registered the search attributes ${missing.join(', ')}, which releases set: register them first with\n  ${registerCommand(missing, config.temporal.namespace)}`);
  }
  const dataConverter = dataConverterFor(config.temporal.payloadKeys);
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter, interceptors: tracingClientInterceptors(config.tracing) });
  // the workflow interceptors are in every bundle (a prebuilt one has them built in); tracing off drops their spans
  const { interceptors, sinks } = tracingWorkerOptions(config.tracing);
  const bundle = prebuiltBundle();
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    dataConverter,
    taskQueue: config.taskQueue,
    ...(bundle ? { workflowBundle: { codePath: bundle }, interceptors: { ...interceptors, workflowModules: [] } } : { workflowsPath, interceptors }),
    activities: createActivities({ temporal: client, ...config.adapters }),
    sinks: { ...releaseMetricsSinks(), ...sinks },
    ...config.options,
  });
  return {
    worker,
    close: async () => {
      await connection.close();
      await config.tracing?.flush();
    },
  };
}

/**
 * Runs until SIGINT/SIGTERM (the SDK installs the handlers and drains in-flight tasks). The Runtime
 * (metrics endpoint: TIDEGATE_METRICS_ADDRESS, src/workers/runtime.ts) is installed first.
 */
export async function runWorker(config: WorkerConfig & { configured?: string[] } = workerConfigFromEnv(), env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { metricsUrl } = installWorkerRuntime(env);
  const { worker, close } = await createWorker(config);
  console.error(`tidegate worker: ${config.temporal.address} namespace ${config.temporal.namespace}, task queue ${config.taskQueue}`);
  console.error(`adapters: ${config.configured?.length ? config.configured.join(', ') : 'none configured (releases fail naming the missing adapter)'}`);
  console.error(`metrics: ${metricsUrl ?? 'off (set TIDEGATE_METRICS_ADDRESS)'}; traces: ${config.tracing ? `OTLP to ${new URL(tracesEndpoint(env) ?? '').origin}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`);
  try {
    await worker.run();
  } finally {
    await close();
    await config.tracing?.shutdown();
  }
}
