// The local stack of real servers behind `npm run stack -- up|down|status|env|reset`:
// the Temporal dev server with its Web UI, a Kubernetes control plane on kwok nodes with the sample
// service applied, the traffic simulator, Prometheus scraping it and the stack's worker (at the
// metrics address `stack env` gives it as TIDEGATE_METRICS_ADDRESS), and the GitHub fake. Every process runs detached
// and is recorded in a state file, so `up` is idempotent (it starts only what is not answering),
// `down` stops exactly what `up` started, and tests use the same code with a directory of their own.
// `up --clusters N` runs N control planes instead of one, a simulator for each and one kubeconfig
// holding them as contexts cluster-1..N; Prometheus labels each simulator's series with its cluster.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { guardingEverything, unguard } from './guardian.js';
import { applyManifestFile, clusterProcessesMarker, mergedKubeconfig, startKubeCluster } from './kube.js';
import { freePort, reservePort } from './ports.js';
import { commandLine, httpOk, pidAlive, startDetached, stopProcessGroup } from './process.js';
import { prometheusConfig, startPrometheus, type ScrapeJob } from './prometheus.js';
import { canConnect, startDevServer } from './temporal.js';
import { startTemporalCluster, type ClusterPorts, type ClusterProcess } from './temporal-cluster.js';
import { newPayloadKey } from '../../src/temporal/codec.js';
import { repoRoot, toolPath } from '../toolchain/tools.js';

export const COMPONENTS = ['temporal', 'kubernetes', 'simulator', 'prometheus', 'github', 'notify'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface StackOptions {
  /** Where the state file, logs, the Temporal database and the cluster's files live. */
  dir: string;
  /** Components to bring up (default: all). Prometheus needs the simulator, which needs Kubernetes. */
  components?: readonly Component[];
  /** Manifests applied to a new cluster (default: examples/checkout/cluster.yaml). */
  manifests?: string;
  /** The simulator's config (default: examples/checkout/simulator.yaml). */
  simulatorConfig?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * Which Temporal to run: the dev server (one process, SQLite; the default) or the production-shaped
   * cluster (frontend, history, matching and worker services on a PostgreSQL of the stack's own).
   * A stack that runs the other kind is stopped and started as this one (each keeps its own data).
   */
  temporal?: TemporalKind;
  /**
   * Stop what this call starts if the calling process dies (`npm run dev`, a demo that stops
   * its stack anyway). Default: only in tests (guardEverything()); `stack up` leaves it running.
   */
  guard?: boolean;
  /**
   * Kubernetes control planes to run, each with the sample service and a simulator of its own
   * (default: as many as run now, else 1). With more than one, KUBECONFIG holds them as contexts
   * cluster-1..N; going down to fewer stops the others.
   */
  clusters?: number;
}

export type TemporalKind = 'dev' | 'cluster';

export interface StackState {
  /** `pid` is the dev server's, or the cluster's frontend; a cluster's processes are all in `cluster`. */
  temporal?: { pid: number; address: string; uiUrl: string; namespace: string; kind?: TemporalKind; cluster?: { pids: Partial<Record<ClusterProcess, number>>; ports: ClusterPorts } };
  /** The codec server the Web UI decodes with, and the payload keys file every client and worker of the stack encrypts with. */
  codec?: { pid: number; url: string; port: number; keysFile: string };
  /**
   * The first control plane (`cluster`, `dir`) and the kubeconfig to use: that cluster's own, or with
   * several clusters the merged one (contexts cluster-1..N, current cluster-1), each listed in `clusters`.
   */
  kubernetes?: { cluster: string; kubeconfig: string; dir: string; clusters?: StackCluster[] };
  /** The simulator of the first cluster; with several clusters, those of the others are in `simulators`. */
  simulator?: SimulatorState;
  /** The simulators of clusters 2..N (absent with one cluster). */
  simulators?: SimulatorState[];
  prometheus?: { pid: number; url: string; port: number };
  /** Where a worker of the stack serves its metrics (TIDEGATE_METRICS_ADDRESS in `stack env`; `npm run dev` and the demo bind it), scraped as job tidegate-worker. */
  workerMetrics?: { address: string };
  /** The GitHub fake and the token it accepts (a local, throw-away credential). */
  github?: { pid: number; url: string; port: number; token: string };
  /** The notification receiver (/slack, /webhook) and the webhook's signing secret (local, throw-away). */
  notify?: { pid: number; url: string; port: number; secret: string };
}

/** One control plane of a stack with several: its kwok cluster name, its context in the merged kubeconfig, its own kubeconfig and directory. */
export interface StackCluster {
  name: string;
  context: string;
  kubeconfig: string;
  dir: string;
}

/** A traffic simulator; `context` is the cluster it reads routing from when the stack has several. */
export interface SimulatorState {
  pid: number;
  url: string;
  port: number;
  config: string;
  context?: string;
}

export interface ComponentStatus {
  component: Component;
  up: boolean;
  /** What answers where, or why not. */
  detail: string;
  /** With several clusters: each cluster's part of the component (its control plane, its simulator). */
  parts?: { name: string; up: boolean; detail: string }[];
}

export const defaultStackDir = (): string => process.env.TIDEGATE_STACK_DIR ?? join(repoRoot, '.stack');
const DEFAULT_MANIFESTS = join(repoRoot, 'examples', 'checkout', 'cluster.yaml');
const DEFAULT_SIM_CONFIG = join(repoRoot, 'examples', 'checkout', 'simulator.yaml');
const CLUSTER = 'tidegate';

/**
 * The control planes of a stack of `count` clusters: `tidegate` in kubernetes/ (the one a stack of
 * one runs, so existing stacks keep theirs), then tidegate-2 in kubernetes-2/ and so on.
 */
function plannedClusters(dir: string, count: number): StackCluster[] {
  return Array.from({ length: count }, (_, i) => {
    const clusterDir = join(dir, i === 0 ? 'kubernetes' : `kubernetes-${i + 1}`);
    return { name: i === 0 ? CLUSTER : `${CLUSTER}-${i + 1}`, context: `cluster-${i + 1}`, kubeconfig: join(clusterDir, 'kubeconfig'), dir: clusterDir };
  });
}

/** The stack's control planes as recorded: the list of a stack of several, or the one cluster. */
export function stackClusters(state: StackState): StackCluster[] {
  const k = state.kubernetes;
  if (!k) return [];
  return k.clusters ?? [{ name: k.cluster, context: 'cluster-1', kubeconfig: k.kubeconfig, dir: k.dir }];
}

/** Every simulator of the stack, the first cluster's first. */
export function stackSimulators(state: StackState): SimulatorState[] {
  return state.simulator ? [state.simulator, ...(state.simulators ?? [])] : [];
}

const mergedKubeconfigFile = (dir: string): string => join(dir, 'kubeconfig');

const stateFile = (dir: string): string => join(dir, 'state.json');

export function readState(dir: string): StackState {
  try {
    return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as StackState;
  } catch {
    return {};
  }
}

function writeState(dir: string, state: StackState): void {
  writeFileSync(stateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
}

/** The environment that reaches the stack, as `stack env` prints it. */
export function stackEnv(state: StackState): Record<string, string> {
  const env: Record<string, string> = {};
  if (state.temporal) {
    env.TEMPORAL_ADDRESS = state.temporal.address;
    env.TEMPORAL_NAMESPACE = state.temporal.namespace;
    env.TEMPORAL_UI_URL = state.temporal.uiUrl;
  }
  if (state.codec) {
    env.TIDEGATE_PAYLOAD_KEYS_FILE = state.codec.keysFile;
    env.TIDEGATE_CODEC_URL = state.codec.url;
  }
  if (state.kubernetes) env.KUBECONFIG = state.kubernetes.kubeconfig;
  if (state.prometheus) env.PROMETHEUS_URL = state.prometheus.url;
  if (state.workerMetrics) env.TIDEGATE_METRICS_ADDRESS = state.workerMetrics.address;
  if (state.simulator) env.TIDEGATE_SIM_URL = state.simulator.url;
  // with several clusters, each one's simulator (its admin API sets behaviours for that cluster only)
  if (state.simulators?.length) env.TIDEGATE_SIM_URLS = stackSimulators(state).map((s) => `${s.context ?? ''}=${s.url}`).join(',');
  if (state.github) {
    env.GITHUB_API_URL = state.github.url;
    env.GITHUB_TOKEN = state.github.token;
  }
  if (state.notify) {
    env.TIDEGATE_SLACK_WEBHOOK_URL = `${state.notify.url}/slack`;
    env.TIDEGATE_WEBHOOK_URL = `${state.notify.url}/webhook`;
    env.TIDEGATE_WEBHOOK_SECRET = state.notify.secret;
  }
  return env;
}

/** A stored pid is only ours if it still runs the program we started (pids are reused). */
/** Entry points of our Node servers, by the path they run from now and the one before devkit/ (a stack started then is still stopped). */
const SIMULATOR = ['devkit/simulator/main', 'src/sim/main'];
const GITHUB_FAKE = ['devkit/github-fake/main', 'src/fakes/github/main'];
const NOTIFY_RECEIVER = 'devkit/notify-receiver/main';
const CODEC_SERVER = 'codec-server';

function ours(pid: number | undefined, program: string | readonly string[]): pid is number {
  const cmd = pid !== undefined && pidAlive(pid) ? (commandLine(pid) ?? '') : '';
  return cmd !== '' && (typeof program === 'string' ? [program] : program).some((p) => cmd.includes(p));
}

async function kubeAnswers(kubeconfig: string): Promise<boolean> {
  if (!existsSync(kubeconfig)) return false;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    await kc.makeApiClient(CoreV1Api).listNamespace({ limit: 1 });
    return true;
  } catch {
    return false;
  }
}

async function probe(component: Component, state: StackState): Promise<ComponentStatus> {
  const down = (detail: string): ComponentStatus => ({ component, up: false, detail });
  switch (component) {
    case 'temporal': {
      const t = state.temporal;
      if (!t) return down('not started');
      const ok = (await canConnect(t.address)) && (await httpOk(t.uiUrl).catch(() => false));
      const codec = !state.codec || (await httpOk(`${state.codec.url}/healthz`).catch(() => false));
      if (ok && !codec) return down(`the codec server is not answering on ${state.codec?.url ?? '?'}`);
      const kind = t.kind === 'cluster' ? 'cluster on PostgreSQL' : 'dev server';
      return ok ? { component, up: true, detail: `${kind} ${t.address}, Web UI ${t.uiUrl}${state.codec ? `, codec server ${state.codec.url}` : ''}` } : down(`${kind} not answering on ${t.address}`);
    }
    case 'kubernetes': {
      const k = state.kubernetes;
      if (!k) return down('not started');
      if (!k.clusters) return (await kubeAnswers(k.kubeconfig)) ? { component, up: true, detail: `KUBECONFIG=${k.kubeconfig}` } : down('API server not answering');
      const parts = await Promise.all(
        k.clusters.map(async (c) => ((await kubeAnswers(c.kubeconfig)) ? { name: c.context, up: true, detail: `kwok cluster ${c.name} in ${c.dir}` } : { name: c.context, up: false, detail: `kwok cluster ${c.name}: API server not answering` })),
      );
      const downs = parts.filter((p) => !p.up).length;
      const merged = existsSync(k.kubeconfig);
      const why = downs ? `${downs} of ${parts.length} clusters not answering; ` : merged ? '' : 'the merged kubeconfig is missing; ';
      return { component, up: !downs && merged, detail: `${why}KUBECONFIG=${k.kubeconfig} (contexts ${k.clusters.map((c) => c.context).join(', ')})`, parts };
    }
    case 'simulator': {
      const sims = stackSimulators(state);
      if (!sims.length) return down('not started');
      const answers = (s: SimulatorState): Promise<boolean> => httpOk(`${s.url}/healthz`).catch(() => false);
      if (sims.length === 1) return (await answers(sims[0] as SimulatorState)) ? { component, up: true, detail: sims[0]?.url ?? '' } : down(`not answering on ${sims[0]?.url ?? '?'}`);
      const parts = await Promise.all(sims.map(async (s) => ({ name: s.context ?? '?', up: await answers(s), detail: s.url })));
      return { component, up: parts.every((p) => p.up), detail: `${sims.length} simulators, one per cluster`, parts };
    }
    case 'prometheus':
    case 'github':
    case 'notify': {
      const s = state[component];
      if (!s) return down('not started');
      const health = { prometheus: '/-/ready', github: '/_fake/health', notify: '/_receiver/health' }[component];
      const ok = await httpOk(`${s.url}${health}`).catch(() => false);
      return ok ? { component, up: true, detail: s.url } : down(`not answering on ${s.url}`);
    }
  }
}

export async function stackStatus(dir: string = defaultStackDir()): Promise<ComponentStatus[]> {
  const state = readState(dir);
  return Promise.all(COMPONENTS.map((c) => probe(c, state)));
}

/** A port to listen on: the one used before when it is free again (reserved like a new one), else a new free one. */
async function portFor(previous: number | undefined): Promise<number> {
  return (previous !== undefined ? await reservePort(previous) : undefined) ?? freePort();
}

/** A Node entry point of ours (`../simulator/main`), run from source through tsx (the development kit is never compiled). */
function nodeCommand(entry: string): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', fileURLToPath(new URL(`${entry}.ts`, import.meta.url))] };
}

/** The environment of a Node child of ours: jest's flags are not for it. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

/** Waits until the Deployments the manifests define have all their replicas available. */
export async function waitForRollouts(kubeconfig: string, deployments: { namespace: string; name: string }[], timeoutMs = 120_000): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const apps = kc.makeApiClient(AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const { namespace, name } of deployments) {
    for (;;) {
      const d = await apps.readNamespacedDeployment({ namespace, name }).catch(() => undefined);
      const want = d?.spec?.replicas ?? 1;
      if (d && (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && (d.status?.availableReplicas ?? 0) >= want && (d.status?.updatedReplicas ?? 0) >= want) break;
      if (Date.now() > deadline) throw new Error(`${namespace}/${name} did not roll out within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const SAMPLE_DEPLOYMENTS = [
  { namespace: 'staging', name: 'checkout' },
  { namespace: 'prod', name: 'checkout-blue' },
];

/**
 * Brings up every requested component that is not answering, in dependency order, and returns
 * the stack's state. Components that answer are left alone (a second `up` takes about a second).
 */
export async function stackUp(options: StackOptions): Promise<StackState> {
  const dir = options.dir;
  const log = options.log ?? (() => undefined);
  const want = new Set<Component>(options.components ?? COMPONENTS);
  if (want.has('prometheus')) want.add('simulator');
  if (want.has('simulator')) want.add('kubernetes');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const state = readState(dir);
  const save = (): void => writeState(dir, state);
  const guard = options.guard ?? guardingEverything();

  const kind: TemporalKind = options.temporal ?? state.temporal?.kind ?? 'dev';
  if (want.has('temporal') && ((state.temporal?.kind ?? 'dev') !== kind || !(await probe('temporal', state)).up)) {
    await stopTemporal(state);
    if (ours(state.codec?.pid, CODEC_SERVER)) await stopProcessGroup(state.codec.pid);
    // payloads are encrypted in the stack as they should be on a shared Temporal: one key, kept in the stack's directory
    const keysFile = join(dir, 'payload-keys');
    if (!existsSync(keysFile)) writeFileSync(keysFile, `# the local stack's payload key (id:base64); the first line encrypts\n${newPayloadKey('stack-1')}\n`, { mode: 0o600 });
    // The ports of the last `up` are reused when free, so bookmarks and running workers keep working.
    // A port can still be taken between the pick and the dev server's bind (another server starting
    // beside it): then the codec server, whose CORS origin names the UI's port, and the dev server
    // start again, on the same ports where they are free once more, and on new ones the third time.
    let server: { address: string; uiUrl: string; namespace: string; pid: number } | undefined;
    for (let attempt = 1; !server; attempt++) {
      const previous: StackState = attempt <= 2 ? state : {};
      const uiPort = await portFor(previous.temporal ? Number(new URL(previous.temporal.uiUrl).port) : undefined);
      log('starting the codec server…');
      const codecPort = await portFor(previous.codec?.port);
      const codecUrl = `http://127.0.0.1:${codecPort}`;
      const codecPid = await startDetached({
        name: 'codec server',
        command: process.execPath,
        args: [join(repoRoot, 'bin', 'tidegate.js'), 'codec-server', '--port', String(codecPort), '--origin', `http://127.0.0.1:${uiPort}`, '--origin', `http://localhost:${uiPort}`],
        env: { ...childEnv(), TIDEGATE_PAYLOAD_KEYS_FILE: keysFile },
        logFile: join(dir, 'logs', 'codec.log'),
        ready: () => httpOk(`${codecUrl}/healthz`),
        guard,
      });
      state.codec = { pid: codecPid, url: codecUrl, port: codecPort, keysFile };
      save();
      try {
        if (kind === 'cluster') {
          log('starting the Temporal cluster on PostgreSQL (frontend, history, matching, worker) and its Web UI…');
          const previousPorts = previous.temporal?.kind === 'cluster' ? previous.temporal.cluster?.ports : undefined;
          const cluster = await startTemporalCluster({
            dir: join(dir, 'temporal-cluster'),
            ports: { ...previousPorts, ui: uiPort },
            detached: true,
            guard,
            codecEndpoint: codecUrl,
            log,
            // each process is recorded as it starts: `stack down` stops what an interrupted `up` left
            onStarted: (pids, ports) => {
              state.temporal = { pid: pids.frontend ?? 0, address: `127.0.0.1:${ports.grpc.frontend}`, uiUrl: ports.ui ? `http://127.0.0.1:${ports.ui}` : '', namespace: 'default', kind: 'cluster', cluster: { pids, ports } };
              save();
            },
          });
          const pids = cluster.pids();
          server = { address: cluster.address, uiUrl: cluster.uiUrl ?? '', namespace: cluster.namespace, pid: pids.frontend ?? 0 };
          state.temporal = { ...server, kind, cluster: { pids, ports: cluster.ports } };
        } else {
          log('starting the Temporal dev server and Web UI…');
          const dev = await startDevServer({
            dbFile: join(dir, 'temporal.db'),
            logFile: join(dir, 'logs', 'temporal.log'),
            port: await portFor(previous.temporal?.kind !== 'cluster' && previous.temporal ? Number(previous.temporal.address.split(':')[1]) : undefined),
            uiPort,
            detached: true,
            guard,
            codecEndpoint: codecUrl,
          });
          server = { address: dev.address, uiUrl: dev.uiUrl ?? '', namespace: dev.namespace, pid: dev.process.pid };
          state.temporal = { ...server, kind };
        }
      } catch (err) {
        if (attempt >= 3 || !/address already in use/i.test(String(err))) throw err;
        log(`a port was taken as Temporal started (attempt ${attempt}); starting again${attempt >= 2 ? ' on new ports' : ''}…`);
        await stopProcessGroup(codecPid);
      }
    }
    save();
  }

  // The number of clusters: as asked, else as many as run now (a recorded stack of several keeps them), else one.
  const count = options.clusters ?? (state.kubernetes ? stackClusters(state).length : 1);
  if (!Number.isInteger(count) || count < 1) throw new Error(`clusters must be a whole number, 1 or more, not ${count}`);
  /** Clusters whose control plane this call (re)created: a simulator reading one from before must start again. */
  const recreated = new Set<string>();
  if (want.has('kubernetes')) {
    const planned = plannedClusters(dir, count);
    const several = count > 1;
    // A stack of one records its cluster as ever; one of several also lists every cluster, and its
    // kubeconfig is the merged one. Recorded before the clusters start, so `down` stops what an interrupted `up` left.
    const record = (): void => {
      const first = planned[0] as StackCluster;
      state.kubernetes = several ? { cluster: first.name, kubeconfig: mergedKubeconfigFile(dir), dir: first.dir, clusters: planned } : { cluster: first.name, kubeconfig: first.kubeconfig, dir: first.dir };
      save();
    };
    for (const extra of stackClusters(state).slice(count)) {
      log(`stopping the Kubernetes control plane of ${extra.context} (the stack now runs ${count})…`);
      await stopKube(extra.dir, extra.name);
    }
    if (state.kubernetes && stackClusters(state).length !== count) record();
    const recorded = stackClusters(state);
    for (const cluster of planned) {
      if (recorded.some((c) => c.dir === cluster.dir) && (await kubeAnswers(cluster.kubeconfig))) continue;
      const which = several ? ` of ${cluster.context} (${cluster.name})` : '';
      // A cluster whose processes died with a session is recreated from scratch: its state went with them.
      if (existsSync(cluster.dir)) {
        log(`removing the old Kubernetes control plane${which}…`);
        await stopKube(cluster.dir, cluster.name);
      }
      if (several) record();
      log(`starting the Kubernetes control plane${which} (etcd, kube-apiserver, controller-manager, scheduler, kwok)…`);
      const started = await startKubeCluster({ dir: cluster.dir, name: cluster.name, nodes: 3, guard, log });
      recreated.add(cluster.context);
      record();
      const manifests = options.manifests ?? DEFAULT_MANIFESTS;
      log(`applying ${manifests}${several ? ` to ${cluster.context}` : ''}…`);
      await applyManifestFile(started.kubeconfig, manifests);
      if (manifests === DEFAULT_MANIFESTS) await waitForRollouts(started.kubeconfig, SAMPLE_DEPLOYMENTS);
    }
    record();
    const merged = mergedKubeconfigFile(dir);
    if (several) {
      const text = mergedKubeconfig(planned.map((c) => ({ context: c.context, kubeconfig: c.kubeconfig })));
      if (!existsSync(merged) || readFileSync(merged, 'utf8') !== text) writeFileSync(merged, text, { mode: 0o600 });
    } else {
      rmSync(merged, { force: true });
    }
  }

  if (want.has('simulator') && state.kubernetes) {
    const kubeconfig = state.kubernetes.kubeconfig;
    const clusters = stackClusters(state);
    const several = clusters.length > 1;
    const config = options.simulatorConfig ?? DEFAULT_SIM_CONFIG;
    const previous = stackSimulators(state);
    for (const extra of previous.slice(clusters.length)) {
      if (ours(extra.pid, SIMULATOR)) await stopProcessGroup(extra.pid);
    }
    const sims: SimulatorState[] = [];
    const record = (): void => {
      const [first, ...others] = [...sims, ...previous.slice(sims.length, clusters.length)];
      if (first) state.simulator = first;
      if (several) state.simulators = others;
      else delete state.simulators;
      save();
    };
    for (const [i, cluster] of clusters.entries()) {
      const prev = previous[i];
      const context = several ? cluster.context : undefined;
      const answers = prev !== undefined && (await httpOk(`${prev.url}/healthz`).catch(() => false));
      if (prev && answers && prev.config === config && prev.context === context && !recreated.has(cluster.context)) {
        sims.push(prev);
        continue;
      }
      if (ours(prev?.pid, SIMULATOR)) await stopProcessGroup(prev.pid);
      log(several ? `starting the traffic simulator of ${cluster.context}…` : 'starting the traffic simulator…');
      const port = await portFor(prev?.port);
      const url = `http://127.0.0.1:${port}`;
      const { command, args } = nodeCommand('../simulator/main');
      const pid = await startDetached({
        name: several ? `traffic simulator of ${cluster.context}` : 'traffic simulator',
        command,
        args: [...args, '--config', config, '--port', String(port), '--kubeconfig', kubeconfig, ...(context ? ['--context', context] : [])],
        env: childEnv(),
        logFile: join(dir, 'logs', i === 0 ? 'simulator.log' : `simulator-${i + 1}.log`),
        ready: () => httpOk(`${url}/healthz`),
        guard,
      });
      sims.push({ pid, url, port, config, ...(context ? { context } : {}) });
      record();
    }
    record();
  }

  if (want.has('prometheus') && state.simulator) {
    const promDir = join(dir, 'prometheus');
    // the worker's port is picked once and kept (a worker may be listening on it now); down until a worker runs
    if (!state.workerMetrics) {
      state.workerMetrics = { address: `127.0.0.1:${await freePort()}` };
      save();
    }
    // with several clusters each simulator's series get its cluster as a target label (the simulator itself knows none)
    const sims = stackSimulators(state);
    const simTargets: ScrapeJob['targets'] = sims.length > 1 ? sims.map((sim) => ({ target: `127.0.0.1:${sim.port}`, labels: { cluster: sim.context ?? '' } })) : [`127.0.0.1:${state.simulator.port}`];
    const jobs: ScrapeJob[] = [
      { job: 'traffic-simulator', targets: simTargets },
      { job: 'tidegate-worker', targets: [state.workerMetrics.address] },
    ];
    const configFile = join(promDir, 'prometheus.yml');
    const status = await probe('prometheus', state);
    if (status.up && state.prometheus) {
      const config = prometheusConfig(jobs);
      if (readFileSync(configFile, 'utf8') !== config) {
        log('reloading Prometheus (its scrape targets changed)…');
        writeFileSync(configFile, config);
        await fetch(`${state.prometheus.url}/-/reload`, { method: 'POST' });
      }
    } else {
      if (ours(state.prometheus?.pid, 'prometheus')) await stopProcessGroup(state.prometheus.pid);
      log('starting Prometheus…');
      const port = await portFor(state.prometheus?.port);
      const prom = await startPrometheus({ dir: promDir, jobs, port, detached: true, guard });
      state.prometheus = { pid: prom.process.pid, url: prom.url, port };
      save();
    }
  }
  if (want.has('github') && !(await probe('github', state)).up) {
    if (ours(state.github?.pid, GITHUB_FAKE)) await stopProcessGroup(state.github.pid);
    log('starting the GitHub fake…');
    const port = await portFor(state.github?.port);
    const url = `http://127.0.0.1:${port}`;
    const token = state.github?.token ?? `tidegate-local-${randomBytes(12).toString('hex')}`;
    const { command, args } = nodeCommand('../github-fake/main');
    const pid = await startDetached({
      name: 'GitHub fake',
      command,
      args: [...args, '--port', String(port), '--token', token],
      env: childEnv(),
      logFile: join(dir, 'logs', 'github.log'),
      ready: () => httpOk(`${url}/_fake/health`),
      guard,
    });
    state.github = { pid, url, port, token };
    save();
  }
  if (want.has('notify') && !(await probe('notify', state)).up) {
    if (ours(state.notify?.pid, NOTIFY_RECEIVER)) await stopProcessGroup(state.notify.pid);
    log('starting the notification receiver…');
    const port = await portFor(state.notify?.port);
    const url = `http://127.0.0.1:${port}`;
    const secret = state.notify?.secret ?? randomBytes(16).toString('hex');
    const { command, args } = nodeCommand('../notify-receiver/main');
    const pid = await startDetached({
      name: 'notification receiver',
      command,
      args: [...args, '--port', String(port)],
      // the secret through the environment, not the command line every process can read
      env: { ...childEnv(), TIDEGATE_WEBHOOK_SECRET: secret },
      logFile: join(dir, 'logs', 'notify.log'),
      ready: () => httpOk(`${url}/_receiver/health`),
      guard,
    });
    state.notify = { pid, url, port, secret };
    save();
  }
  return state;
}

/** Stops the dev server, or every process of the cluster (the services first, PostgreSQL last). */
async function stopTemporal(state: StackState): Promise<void> {
  const t = state.temporal;
  if (!t) return;
  if (t.kind !== 'cluster') {
    if (ours(t.pid, 'start-dev')) await stopProcessGroup(t.pid);
    return;
  }
  const pids = t.cluster?.pids ?? {};
  for (const name of ['ui', 'worker', 'frontend', 'matching', 'history'] as const) {
    const pid = pids[name];
    if (ours(pid, name === 'ui' ? 'temporal-ui-server' : 'temporal-server')) await stopProcessGroup(pid);
  }
  // SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave)
  if (ours(pids.postgres, join('temporal-cluster', 'postgres'))) await stopProcessGroup(pids.postgres, 30_000, 'SIGINT');
}

async function stopKube(kubeDir: string, name: string): Promise<void> {
  await new Promise<void>((resolve) => {
    execFile(toolPath('kwokctl'), ['delete', 'cluster', '--name', name], { env: { ...process.env, KWOK_WORKDIR: join(kubeDir, 'kwok') }, timeout: 120_000 }, () => resolve());
  });
  unguard({ mentioning: clusterProcessesMarker(kubeDir, name) });
  rmSync(kubeDir, { recursive: true, force: true });
}

/** Stops everything `up` started and leaves no process behind. The Temporal database is kept. */
export async function stackDown(dir: string = defaultStackDir(), log: (line: string) => void = () => undefined): Promise<void> {
  const state = readState(dir);
  if (ours(state.notify?.pid, NOTIFY_RECEIVER)) {
    log('stopping the notification receiver…');
    await stopProcessGroup(state.notify.pid);
  }
  if (ours(state.github?.pid, GITHUB_FAKE)) {
    log('stopping the GitHub fake…');
    await stopProcessGroup(state.github.pid);
  }
  if (ours(state.prometheus?.pid, 'prometheus')) {
    log('stopping Prometheus…');
    await stopProcessGroup(state.prometheus.pid);
  }
  const sims = stackSimulators(state);
  for (const sim of sims) {
    if (!ours(sim.pid, SIMULATOR)) continue;
    log(sims.length > 1 ? `stopping the traffic simulator of ${sim.context ?? '?'}…` : 'stopping the traffic simulator…');
    await stopProcessGroup(sim.pid);
  }
  const clusters = stackClusters(state);
  for (const cluster of clusters) {
    log(clusters.length > 1 ? `stopping the Kubernetes control plane of ${cluster.context} (${cluster.name})…` : 'stopping the Kubernetes control plane…');
    await stopKube(cluster.dir, cluster.name);
  }
  rmSync(mergedKubeconfigFile(dir), { force: true });
  if (state.temporal) {
    log(state.temporal.kind === 'cluster' ? 'stopping the Temporal cluster…' : 'stopping the Temporal dev server…');
    await stopTemporal(state);
  }
  if (ours(state.codec?.pid, CODEC_SERVER)) {
    log('stopping the codec server…');
    await stopProcessGroup(state.codec.pid);
  }
  writeState(dir, {});
}

/** Puts the sample service back in its initial state (blue live on 1.0.0, green at 0), in every cluster. */
export async function stackReset(dir: string = defaultStackDir(), manifests = DEFAULT_MANIFESTS): Promise<string[]> {
  const clusters = stackClusters(readState(dir));
  const answering = await Promise.all(clusters.map((c) => kubeAnswers(c.kubeconfig)));
  if (!clusters.length || answering.includes(false)) throw new Error('the stack is not up: run `npm run stack -- up` first');
  const applied: string[] = [];
  for (const { kubeconfig } of clusters) {
    applied.push(...(await applyManifestFile(kubeconfig, manifests)));
    if (manifests === DEFAULT_MANIFESTS) await waitForRollouts(kubeconfig, SAMPLE_DEPLOYMENTS);
  }
  return applied;
}
