// Workflow-test harness: the release workflow on the time-skipping test server, with typed mock
// activities over an in-memory cluster (jest mocks cannot reach the workflow bundle) and the real
// coordination activities talking to the test server. Specs use real durations (24h, 30m).
import { calendarAnswer, type CalendarAnswer, type CalendarRules } from '../../src/core/windows.js';
import type { NotificationEvent } from '../../src/core/notifications.js';
import type { HookOutcome, HookRun } from '../../src/core/hooks.js';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure, type DataConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { BuildCheckResult, MeasureRequest, MetricsActivities, ReleaseActivities, TimedObservation, WatchRequest } from '../../src/activities/types.js';
import { watchBatch } from '../../src/activities/watch.js';
import { restoringTraffic } from '../../src/activities/watch-traffic.js';
import { routeByCluster } from '../../src/activities/kubernetes/clusters.js';
import { createCoordinationActivities } from '../../src/activities/temporal/index.js';
import { createSigningActivities, type SigningConfig } from '../../src/activities/signing/index.js';
import { Releases } from '../../src/client/releases.js';
import type { Observation } from '../../src/core/analysis.js';
import type { Color, DeploymentState, ProductionSnapshot } from '../../src/core/snapshot.js';
import { legacyTimelineCode, type PauseCode, type ReleaseResult, type ReleaseStatus } from '../../src/core/status.js';
import { validateSpec, type ReleaseSpec } from '../../src/spec/index.js';
import { statusQuery } from '../../src/workflows/definitions.js';
import { createTimeSkippingEnv } from './servers.js';
import { dataConverterFor, type PayloadKey } from '../../src/temporal/codec.js';
import { releaseMetricsSinks } from '../../src/workers/runtime.js';
import { tracingSinks, WORKFLOW_INTERCEPTOR_MODULES } from '../../src/workers/tracing.js';

const workflowsPath = fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url));

interface FakeService {
  active: Color;
  /** The replicas router's canary: the active Service selects both colors' pods. */
  bothSelected?: boolean;
  deployments: Record<Color, DeploymentState>;
  weights: Record<Color, number>;
  preview?: Color;
  staging: DeploymentState;
}

/**
 * What a metric returns for a color: a value, no data, or the backend failing. 'NaN' is what the
 * Prometheus adapter returns for NaN; 'null' is what a NaN sent as a bare number became (an older
 * worker's result) after crossing the payload converter.
 */
export type MetricBehaviour = number | 'empty' | 'error' | 'NaN' | 'null';

/**
 * An in-memory cluster and metrics backend behind the activity interfaces. Every effect is logged
 * in `calls` (e.g. "setCanaryWeight checkout green 10") so tests can assert order.
 */
export class FakeWorld {
  readonly calls: string[] = [];
  readonly services = new Map<string, FakeService>();
  /** Metric value per service and color ("staging" for staging). Default: healthy 0.999. */
  metrics = new Map<string, MetricBehaviour>();
  checks: BuildCheckResult = { conclusion: 'success', failing: [] };
  /** How a dispatched workflow run ends. */
  dispatched: BuildCheckResult = { conclusion: 'success', failing: [] };
  /** Activity names that fail on their next call(s): name → remaining failures ("restoreTraffic:services": after the router is back, before the Services; "<name>!": for good, not retried). */
  failures = new Map<string, number>();
  /** Deployments (namespace/name) whose rollouts never finish: deployImage fails as the adapter does at its timeout. */
  readonly stuckRollouts = new Set<string>();
  /** GitHub: deployments by id with their statuses, and commit statuses, in call order. */
  readonly deployments = new Map<number, { environment: string; releaseId: string; statuses: string[] }>();
  readonly commitStatuses: string[] = [];
  /** Tags of a repository, newest first (GitHub's listTags). */
  readonly tags = new Map<string, { name: string; sha: string }[]>();
  /** How hooks end, by `<hook>/<run|undo>` (default: Succeeded); every run the workflow asked for, in order. */
  readonly hookOutcomes = new Map<string, HookOutcome>();
  readonly hookRuns: HookRun[] = [];
  /** The worker's allowed signers and policy (the real signing activities run on it). */
  signing: SigningConfig = { requireSigned: false };
  /** The worker's calendar (TIDEGATE_CALENDAR) and the global freeze, as the real calendar rule weighs them. */
  workerCalendar: CalendarRules['worker'];
  globalFreeze: CalendarRules['globalFreeze'];
  /** Every calendar check's time and answer (kept apart from `calls`, whose order tests assert). */
  readonly calendarChecks: { at: string; answer: CalendarAnswer }[] = [];
  /** Every notification attempt, in order (a retried send appears again with the same key). */
  readonly notifications: NotificationEvent[] = [];

  service(name: string): FakeService {
    let svc = this.services.get(name);
    if (!svc) {
      const image = `registry.local/${name}:1.0.0`;
      svc = {
        active: 'blue',
        deployments: {
          blue: { name: `${name}-blue`, exists: true, image, replicas: 3 },
          green: { name: `${name}-green`, exists: true, image, replicas: 0 },
        },
        weights: { blue: 100, green: 0 },
        preview: 'blue',
        staging: { name, exists: true, image, replicas: 1 },
      };
      this.services.set(name, svc);
    }
    return svc;
  }

  setMetric(service: string, color: Color | 'staging', value: MetricBehaviour): void {
    this.metrics.set(`${service}/${color}`, value);
  }

  private maybeFail(name: string): void {
    // "<name>!": a failure no retry fixes (a non-retryable ApplicationFailure)
    const permanent = this.failures.get(`${name}!`) ?? 0;
    if (permanent > 0) {
      this.failures.set(`${name}!`, permanent - 1);
      throw ApplicationFailure.nonRetryable(`injected permanent failure of ${name}`, 'KubernetesInvalid');
    }
    const left = this.failures.get(name) ?? 0;
    if (left > 0) {
      this.failures.set(name, left - 1);
      throw new Error(`injected failure of ${name}`);
    }
  }

  private observe(query: string): Observation {
    const service = /service="([^"]+)"/.exec(query)?.[1] ?? '?';
    const color = /color="([^"]+)"/.exec(query)?.[1] ?? '?';
    const behaviour = this.metrics.get(`${service}/${color}`) ?? 0.999;
    if (behaviour === 'empty') return { kind: 'empty', message: 'no data' };
    if (behaviour === 'error') return { kind: 'error', message: 'connect ECONNREFUSED 127.0.0.1:9090' };
    if (behaviour === 'null') return { kind: 'value', value: null as unknown as number };
    return { kind: 'value', value: behaviour };
  }

  /** The adapters' side: the watch answers its observations alone (the worker composes the traffic undo on top: startHarness, createActivities). */
  activities(): Omit<ReleaseActivities, 'describeServiceLock' | 'breakStaleLock' | 'isReleaseRunning' | 'releasesExisting' | 'watch'> & Pick<MetricsActivities, 'watch'> {
    const log = (entry: string): void => void this.calls.push(entry);
    const deploymentOf = (svc: FakeService, deployment: string): DeploymentState | undefined =>
      svc.staging.name === deployment && !deployment.endsWith('-blue') && !deployment.endsWith('-green')
        ? svc.staging
        : Object.values(svc.deployments).find((d) => d.name === deployment);
    return {
      snapshotProduction: async (target) => {
        const svc = this.service(target.service);
        log(`snapshotProduction ${target.service}`);
        const snap: ProductionSnapshot = {
          service: target.service,
          namespace: target.namespace,
          activeColor: svc.active,
          deployments: structuredClone(svc.deployments),
          weights: { ...svc.weights },
          ...(svc.preview ? { previewColor: svc.preview } : {}),
        };
        return snap;
      },
      snapshotStaging: async ({ namespace, deployment, cluster }) => {
        log(`snapshotStaging ${deployment}`);
        // (the cluster echoed, as the Kubernetes adapter does: the undo restores staging there)
        return { namespace, deployment: structuredClone(this.service(deployment).staging), ...(cluster !== undefined ? { cluster } : {}) };
      },
      deployImage: async ({ namespace, deployment, image, replicas }) => {
        this.maybeFail('deployImage');
        if (this.stuckRollouts.has(`${namespace}/${deployment}`)) {
          log(`deployImage ${deployment} ${image} (stuck)`);
          throw ApplicationFailure.nonRetryable(`Deployment ${namespace}/${deployment} did not roll out ${image} within 600s: 0 of 3 new replicas ready`, 'RolloutTimeout');
        }
        const service = deployment.replace(/-(blue|green)$/, '');
        const d = namespace === 'staging' ? this.service(service).staging : deploymentOf(this.service(service), deployment);
        if (!d) throw new Error(`no deployment ${deployment}`);
        d.image = image;
        if (replicas !== undefined) d.replicas = replicas;
        log(`deployImage ${deployment} ${image}`);
        return { readyReplicas: d.replicas };
      },
      setCanaryWeight: async ({ target, color, weight }) => {
        this.maybeFail('setCanaryWeight');
        const svc = this.service(target.service);
        if (target.traffic?.router === 'replicas') svc.bothSelected = weight > 0;
        else svc.weights = { [color]: weight, [color === 'blue' ? 'green' : 'blue']: 100 - weight } as Record<Color, number>;
        log(`setCanaryWeight ${target.service} ${color} ${weight}`);
      },
      pointPreview: async ({ target, color }) => {
        this.service(target.service).preview = color;
        log(`pointPreview ${target.service} ${color}`);
      },
      switchActive: async ({ target, color }) => {
        this.maybeFail('switchActive');
        const svc = this.service(target.service);
        svc.active = color;
        svc.bothSelected = false;
        svc.weights = { [color]: 100, [color === 'blue' ? 'green' : 'blue']: 0 } as Record<Color, number>;
        log(`switchActive ${target.service} ${color}`);
      },
      scaleDeployment: async ({ deployment, replicas }) => {
        const service = deployment.replace(/-(blue|green)$/, '');
        const d = deploymentOf(this.service(service), deployment);
        if (d) d.replicas = replicas;
        log(`scaleDeployment ${deployment} ${replicas}`);
      },
      restoreTraffic: async ({ target, snapshot }) => {
        this.maybeFail('restoreTraffic');
        const svc = this.service(target.service);
        // as the real one: the router first, then the Services (a failure in between leaves it half-way back)
        if (snapshot.weights) svc.weights = { ...snapshot.weights };
        this.maybeFail('restoreTraffic:services');
        svc.active = snapshot.activeColor;
        svc.bothSelected = false;
        if (snapshot.previewColor) svc.preview = snapshot.previewColor;
        log(`restoreTraffic ${target.service} ${snapshot.activeColor}`);
      },
      restoreWorkloads: async ({ target, snapshot, spare = [] }) => {
        this.maybeFail('restoreWorkloads');
        const svc = this.service(target.service);
        for (const color of ['blue', 'green'] as const) if (!spare.includes(color)) svc.deployments[color] = structuredClone(snapshot.deployments[color]);
        log(`restoreWorkloads ${target.service}${spare.length > 0 ? ` sparing ${spare.join(', ')}` : ''}`);
      },
      observeTraffic: async (target) => {
        // a read, not an effect: not in `calls`
        const svc = this.service(target.service);
        const router = target.traffic?.router;
        return {
          selected: svc.bothSelected ? null : svc.active,
          ...(router && router !== 'replicas' ? { weights: { ...svc.weights } } : {}),
          replicas: { blue: svc.deployments.blue.replicas, green: svc.deployments.green.replicas },
        };
      },
      restoreStaging: async ({ snapshot }) => {
        this.service(snapshot.deployment.name).staging = structuredClone(snapshot.deployment);
        log(`restoreStaging ${snapshot.deployment.name}`);
      },
      measure: async (request: MeasureRequest): Promise<TimedObservation[]> => {
        if (!request.range) return [{ at: new Date().toISOString(), observation: this.observe(request.query) }];
        const out: TimedObservation[] = [];
        const end = Date.parse(request.range.end);
        for (let t = Date.parse(request.range.start); t <= end; t += request.range.stepMs) {
          out.push({ at: new Date(t).toISOString(), observation: this.observe(request.query) });
        }
        return out;
      },
      // the batch at once, as if its time had passed: the workflow waits until its last measurement's time
      watch: async (request: WatchRequest): Promise<TimedObservation[]> =>
        watchBatch(request, { measure: async (r) => [{ at: r.at ?? new Date().toISOString(), observation: this.observe(r.query) }], waitUntil: async () => undefined }),
      awaitChecks: async () => this.checks,
      dispatchWorkflow: async ({ workflow, ref }) => {
        log(`dispatchWorkflow ${workflow} ${ref}`);
        return this.dispatched;
      },
      createDeployment: async ({ environment, releaseId }) => {
        this.maybeFail('createDeployment');
        const found = [...this.deployments].find(([, d]) => d.environment === environment && d.releaseId === releaseId);
        if (found) return { deploymentId: found[0] };
        const deploymentId = this.deployments.size + 1;
        this.deployments.set(deploymentId, { environment, releaseId, statuses: [] });
        log(`createDeployment ${environment}`);
        return { deploymentId };
      },
      setDeploymentStatus: async ({ deploymentId, state }) => {
        const d = this.deployments.get(deploymentId);
        if (!d) throw new Error(`no deployment ${deploymentId}`);
        d.statuses.push(state);
        log(`setDeploymentStatus ${d.environment} ${state}`);
      },
      listTags: async ({ repo }) => this.tags.get(repo) ?? [],
      setCommitStatus: async ({ state, context }) => {
        this.commitStatuses.push(`${context} ${state}`);
        log(`setCommitStatus ${context} ${state}`);
      },
      readSignerTrust: (input) => createSigningActivities(this.signing).readSignerTrust(input),
      verifyStatement: (input) => createSigningActivities(this.signing).verifyStatement(input),
      checkCalendar: async ({ windows, at }) => {
        const answer = calendarAnswer({ ...(windows ? { spec: windows } : {}), ...(this.workerCalendar ? { worker: this.workerCalendar } : {}), ...(this.globalFreeze ? { globalFreeze: this.globalFreeze } : {}) }, Date.parse(at));
        this.calendarChecks.push({ at, answer });
        return answer;
      },
      notify: async (event) => {
        this.notifications.push(event);
        this.maybeFail('notify');
        return { delivered: ['webhook'] };
      },
      runHook: async (run) => {
        this.hookRuns.push(run);
        log(`runHook ${run.service} ${run.hook} ${run.phase}`);
        this.maybeFail('runHook');
        return this.hookOutcomes.get(`${run.hook}/${run.phase}`) ?? { phase: 'Succeeded', detail: run.job ? `Job ${run.job.namespace}/${run.job.name} succeeded` : `${run.action.kind === 'http' ? run.action.method : ''} → 200` };
      },
    };
  }
}

/**
 * Replays a release's history as a worker that lost it from its cache would (a restart, an eviction):
 * the same workflow bundle, interceptors and sinks as the harness's worker. Throws the SDK's
 * DeterminismViolationError when the workflow code takes another path than the history recorded.
 */
export async function replayAsWorker(history: temporal.api.history.v1.IHistory, workflowId: string, dataConverter?: DataConverter): Promise<void> {
  await Worker.runReplayHistory(
    { workflowBundle: await workflowBundle(), replayName: 'tidegate-harness-replay', sinks: { ...releaseMetricsSinks(), ...tracingSinks(undefined) }, ...(dataConverter ? { dataConverter } : {}) },
    history,
    workflowId,
  );
}

export interface Harness {
  env: TestWorkflowEnvironment;
  world: FakeWorld;
  /** With `clusters`: each cluster's own world, by the spec's cluster name. */
  worlds: Map<string, FakeWorld>;
  releases: Releases;
  taskQueue: string;
  /** Polls the status query, skipping `stepMs` of workflow time between polls, until `pred` holds. */
  until(releaseId: string, pred: (s: ReleaseStatus) => boolean, stepMs?: number): Promise<ReleaseStatus>;
  /** Waits for the release to end, skipping workflow time (the time-skipping client's result()). */
  finish(releaseId: string): Promise<ReleaseResult>;
  stop(): Promise<void>;
}

/**
 * The activities of several clusters, each its own FakeWorld: a Kubernetes call reaches the world of
 * the kubeconfig context it names (a call naming none, or a context no cluster has, fails the test's
 * release: a part must never act on the worker's current context), a measurement the world of the
 * `cluster` label its query carries, a hook the world of its Job's context.
 */
function byCluster(world: FakeWorld, worlds: Map<string, FakeWorld>, contexts: Record<string, string>): ReturnType<FakeWorld['activities']> {
  const byContext = new Map(Object.entries(contexts).map(([name, context]) => [context, worlds.get(name) as FakeWorld]));
  const of = (context: string | undefined): ReturnType<FakeWorld['activities']> => {
    const found = context === undefined ? undefined : byContext.get(context);
    if (!found) throw ApplicationFailure.nonRetryable(`no cluster with context ${context ?? '(none: the current context)'}`, 'KubernetesInvalid');
    return found.activities();
  };
  const measured = (query: string): ReturnType<FakeWorld['activities']> => {
    const name = /cluster="([^"]+)"/.exec(query)?.[1];
    const found = name === undefined ? undefined : worlds.get(name);
    if (!found) throw ApplicationFailure.nonRetryable(`query names no cluster of the test: ${query}`, 'InvalidSpec');
    return found.activities();
  };
  return {
    ...world.activities(),
    ...routeByCluster(of),
    measure: async (request) => measured(request.query).measure(request),
    watch: async (request) => measured(request.query).watch(request),
    runHook: async (run) => of(run.job?.cluster).runHook(run),
  };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow code, bundled once per test file. */
function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES], logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
  return bundle;
}

/**
 * A fresh test server, worker and fake world for one test. Fresh per test because the test server's
 * time skipping stops working reliably once a workflow has completed under the time-skipping client's
 * result() (a lock is left held: SDK 1.24 with test server 1.38), which would make later tests sleep in
 * real time.
 */
export async function startHarness(taskQueue = 'tidegate-test', options: { payloadKeys?: PayloadKey[]; clusters?: Record<string, string> } = {}): Promise<Harness> {
  // with payload keys, the test client and the worker encrypt through the same data converter as the CLI and worker do
  const dataConverter = dataConverterFor(options.payloadKeys);
  const env = await createTimeSkippingEnv({ dataConverter });
  const world = new FakeWorld();
  const worlds = new Map(Object.keys(options.clusters ?? {}).map((name) => [name, new FakeWorld()]));
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    dataConverter,
    workflowBundle: await workflowBundle(),
    // (the watch as the worker composes it: at a Failed verdict it puts traffic back itself)
    activities: ((a) => ({ ...a, watch: restoringTraffic(a.watch, a), ...createCoordinationActivities(env.client) }))(options.clusters ? byCluster(world, worlds, options.clusters) : world.activities()),
    sinks: { ...releaseMetricsSinks(), ...tracingSinks(undefined) },
  });
  const running = worker.run();
  const releases = new Releases(env.client, taskQueue);
  const until: Harness['until'] = async (releaseId, pred, stepMs = 1_000) => {
      const stop = watchdog(env, releaseId, 'until');
      try {
        return await polls(releaseId, pred, stepMs);
      } finally {
        stop();
      }
  };
  const polls: Harness['until'] = async (releaseId, pred, stepMs = 1_000) => {
      let last: ReleaseStatus | undefined;
      for (let i = 0; i < 5_000; i++) {
        last = await env.client.workflow.getHandle(releaseId).query(statusQuery);
        if (pred(last)) return last;
        if (last.outcome) break;
        // Closed workflows still answer queries (replayed by the worker), so `outcome` ends the loop.
        await env.sleep(stepMs);
      }
      throw new Error(`status never matched; last: stage ${last?.stage}, outcome ${last?.outcome}, timeline:\n${last?.timeline.map((t) => `  ${t.event}`).join('\n')}`);
  };
  return {
    env,
    world,
    worlds,
    releases,
    taskQueue,
    until,
    finish: async (releaseId) => {
      const stop = watchdog(env, releaseId, 'finish');
      const result = await releases.result(releaseId).finally(stop);
      // Today's texts are the ones releases recorded before codes existed: each must upgrade to the
      // code recorded beside it, or statuses of older releases would read differently (upgradeStatus).
      const disagree = result.status.timeline.filter((t) => t.code !== legacyTimelineCode(t.event)).map((t) => `${t.code} ← "${t.event}" (${legacyTimelineCode(t.event)})`);
      if (disagree.length > 0) throw new Error(`timeline codes disagree with src/core/status.ts's table of recorded texts:\n  ${disagree.join('\n  ')}`);
      return result;
    },
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/**
 * While a harness wait lasts longer than a test normally takes, says every WATCHDOG_MS on stderr what
 * the release is doing and whether workflow time moves: a wait that outlasts its test's timeout then
 * leaves a trace of where it stood (a stuck worker, or a test server that stopped skipping time).
 */
const WATCHDOG_MS = 30_000;
function watchdog(env: TestWorkflowEnvironment, releaseId: string, what: string): () => void {
  const startedAt = Date.now();
  let lastTime: number | undefined;
  // each probe gives up after 5 s: a stuck worker does not answer the status query
  const within = <T>(p: Promise<T>): Promise<T | 'no answer in 5 s'> => Promise.race([p, new Promise<'no answer in 5 s'>((resolve) => setTimeout(() => resolve('no answer in 5 s'), 5_000).unref())]);
  const timer = setInterval(() => {
    void (async () => {
      const waited = Math.round((Date.now() - startedAt) / 1000);
      const workflowTime = await within(env.currentTimeMs()).catch(() => undefined);
      const status = await within(
        env.client.workflow
          .getHandle(releaseId)
          .query(statusQuery)
          .then((s) => `stage ${s.stage}, pause ${s.pause?.code ?? 'none'}, outcome ${s.outcome ?? 'none'}, last event "${s.timeline.at(-1)?.event ?? ''}"`),
      ).catch((err: unknown) => `status query failed: ${err instanceof Error ? err.message : String(err)}`);
      const described = await within(env.client.workflow.getHandle(releaseId).describe().then((d) => d.status.name)).catch(() => 'describe failed');
      let moved = '';
      if (typeof workflowTime === 'number') {
        if (lastTime !== undefined) moved = workflowTime > lastTime ? `, workflow time moved ${Math.round((workflowTime - lastTime) / 1000)} s` : ', workflow time did not move';
        lastTime = workflowTime;
      }
      process.stderr.write(`[harness] ${what}(${releaseId}) still waiting after ${waited} s: ${described}; ${status}${moved}\n`);
    })();
  }, WATCHDOG_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Matches a status paused for `code` (at 1-based canary step `step`, when given): tools match pauses by code, not text. */
export function pausedAt(code: PauseCode, step?: number, service?: string): (s: ReleaseStatus) => boolean {
  return (s) => s.pause?.code === code && (step === undefined || s.pause.step === step) && (service === undefined || s.pause.service === service);
}

export const SUCCESS_RATE =
  'sum(rate(http_requests_total{service="{{service}}",color="{{color}}",code!~"5.."}[1m])) / sum(rate(http_requests_total{service="{{service}}",color="{{color}}"}[1m]))';

/** A full single-service spec with real durations; `patch` edits the production block. */
export function specFor(service: string, version = '1.0.1', patch: (doc: SpecDoc) => void = () => undefined): ReleaseSpec {
  const doc: SpecDoc = {
    service,
    version,
    image: `registry.local/${service}:${version}`,
    staging: { namespace: 'staging', deployment: service, verify: ['success-rate'] },
    production: {
      namespace: 'prod',
      blueGreen: { activeService: service, previewService: `${service}-preview`, deploymentPrefix: service, scaleDownDelay: '10m' },
      canary: {
        traffic: { router: 'gateway-api', httpRoute: service },
        steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }, { analysis: { analyses: ['success-rate'] } }, { setWeight: 50 }, { pause: {} }],
      },
      approval: { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, timeout: '24h', onTimeout: 'rollback' },
      monitor: { duration: '30m', analyses: ['success-rate'] },
    },
    analyses: {
      'success-rate': { query: SUCCESS_RATE, successCondition: '>= 0.99', interval: '30s', count: 4, failureLimit: 1 },
    },
  };
  patch(doc);
  const result = validateSpec(doc);
  if (!result.ok) throw new Error(`test spec invalid: ${JSON.stringify(result.problems)}`);
  return result.spec;
}

/**
 * A release of `service` that goes straight to its approval gate and then switches: no staging,
 * canary or monitor window. `approval` replaces the default gate (two of alice, bob and carol, 24h).
 */
export function approvalOnlySpec(service: string, version: string, approval?: SpecDoc['production']['approval']): ReleaseSpec {
  return specFor(service, version, (doc) => {
    delete doc.staging;
    delete doc.production.canary;
    delete doc.production.monitor;
    if (approval) doc.production.approval = approval;
  });
}

// Loose shape of a spec document for tests to edit.
export type SpecDoc = Record<string, unknown> & {
  production: Record<string, unknown> & { canary?: { traffic: unknown; steps: unknown[] }; approval?: Record<string, unknown>; monitor?: unknown };
  analyses: Record<string, Record<string, unknown>>;
};

/** A Job hook running the service's migrations image of this version with `args`. */
export function migrationJob(args: string[]): Record<string, unknown> {
  return { job: { timeout: '10m', template: { template: { spec: { containers: [{ name: 'migrate', image: 'registry.local/checkout-migrations:{{version}}', args }] } } } } };
}

/** The migration pattern (examples/checkout/release-with-migrations.yaml): expand before the switch (with an undo), contract after the monitor window. */
export function withMigrations(doc: SpecDoc): void {
  doc.hooks = {
    beforeSwitch: [{ name: 'expand-schema', ...migrationJob(['up', '--phase', 'expand']), undo: migrationJob(['down', '--phase', 'expand']) }],
    afterMonitor: [{ name: 'contract-schema', ...migrationJob(['up', '--phase', 'contract']) }],
  };
}
