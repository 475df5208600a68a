// End-to-end helpers: the `tidegate` CLI and worker run as their own processes, as a user runs them
// from a checkout (src/client/cli.ts through tsx — never a dist/ that may be stale), against a
// local stack started for the test file.
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1Job } from '@kubernetes/client-node';
import { guard } from '../stack/guardian.js';
import { clusterProcessesMarker } from '../stack/kube.js';
import { ManagedProcess } from '../stack/process.js';
import { readState, stackClusters, stackSimulators } from '../stack/stack.js';
import { repoRoot } from '../toolchain/tools.js';

const run = promisify(execFile);
const cli = ['--import', 'tsx', join(repoRoot, 'src', 'client', 'cli.ts')];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a user's shell would have after `eval "$(npm run -s stack -- env)"`. */
export function userEnv(stackEnv: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...stackEnv, ...extra };
  delete env.NODE_OPTIONS; // jest's flags are not the user's
  return env;
}

export async function tidegate(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  return tidegateWithin(300_000, env, ...args);
}

/** `tidegate` killed after `timeoutMs` (a `status --wait` of a release that may take long under load). */
export async function tidegateWithin(timeoutMs: number, env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...cli, ...args], { env, cwd: repoRoot, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A `tidegate` process still running: what it printed so far, and its end. */
export interface RunningCli {
  output(): { stdout: string; stderr: string };
  done: Promise<CliResult>;
  /** SIGKILL (a test that failed before it ended: nothing left running). */
  kill(): void;
}

export function tidegateRunning(env: NodeJS.ProcessEnv, ...args: string[]): RunningCli {
  let stdout = '';
  let stderr = '';
  const child = spawn(process.execPath, [...cli, ...args], { env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
  return { output: () => ({ stdout, stderr }), done, kill: () => void child.kill('SIGKILL') };
}

/** `tidegate worker` as a process of its own; ready once it logs that it polls. */
export async function startWorkerProcess(env: NodeJS.ProcessEnv, logFile: string): Promise<ManagedProcess> {
  return ManagedProcess.start({
    name: 'tidegate worker',
    command: process.execPath,
    args: [...cli, 'worker'],
    env,
    cwd: repoRoot,
    logFile,
    readyTimeoutMs: 60_000,
    ready: async () => /adapters:/.test(readFileSync(logFile, 'utf8')),
  });
}

export interface ClusterView {
  apps: AppsV1Api;
  core: CoreV1Api;
  custom: CustomObjectsApi;
}

export function clusterView(kubeconfig: string): ClusterView {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

/** What a user checks after a release: live color, images, replicas, route weights. */
export async function productionState(view: ClusterView): Promise<{ live?: string; route: Record<string, number>; images: Record<string, string | undefined>; replicas: Record<string, number | undefined>; staging?: string }> {
  const [svc, blue, green, staging, route] = await Promise.all([
    view.core.readNamespacedService({ namespace: 'prod', name: 'checkout' }),
    view.apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout-blue' }),
    view.apps.readNamespacedDeployment({ namespace: 'prod', name: 'checkout-green' }),
    view.apps.readNamespacedDeployment({ namespace: 'staging', name: 'checkout' }),
    view.custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: 'prod', plural: 'httproutes', name: 'checkout' }) as Promise<{
      spec: { rules: { backendRefs: { name: string; weight: number }[] }[] };
    }>,
  ]);
  const image = (d: typeof blue) => d.spec?.template?.spec?.containers?.[0]?.image;
  return {
    ...(svc.spec?.selector?.color ? { live: svc.spec.selector.color } : {}),
    route: Object.fromEntries(route.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight]) ?? []),
    images: { blue: image(blue), green: image(green) },
    replicas: { blue: blue.status?.availableReplicas ?? 0, green: green.status?.availableReplicas ?? 0 },
    ...(image(staging) ? { staging: image(staging) } : {}),
  };
}

export async function eventually<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms; last: ${JSON.stringify(last)?.slice(0, 500)}`);
}

/** Processes whose command line mentions `path` (a test's stack directory): what `down` must leave none of. */
export function processesUsing(path: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        return cmd.includes(path) ? [`${pid}: ${cmd.slice(0, 120)}`] : [];
      } catch {
        return []; // gone
      }
    });
}

/**
 * Guards a local stack that another process (`npm run stack -- up`) started detached, so that it
 * stops with this test process if the test is killed before its `down`. Returns the release.
 */
export function guardStack(dir: string): () => void {
  const state = readState(dir);
  const clusterPids = Object.values(state.temporal?.cluster?.pids ?? {});
  const releases = [state.temporal?.pid, ...clusterPids, state.codec?.pid, ...stackSimulators(state).map((s) => s.pid), state.prometheus?.pid, state.github?.pid, state.notify?.pid]
    .flatMap((pid) => (pid ? [guard(`local stack in ${dir}`, { group: pid })] : []));
  for (const cluster of stackClusters(state)) releases.push(guard(`local stack cluster ${cluster.name} in ${dir}`, { mentioning: clusterProcessesMarker(cluster.dir, cluster.name) }));
  return () => releases.forEach((release) => release());
}

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * Waits for the hook's Job of this release (and phase) and marks its pod as a kubelet would: exit
 * 0, or `exitCode` with `message` as its termination message. The Jobs' pods are held off the kwok
 * nodes by a node selector (`tidegate.test/held: yes`), or kwok would complete them by itself.
 */
export async function finishHookJob(kube: { batch: BatchV1Api; core: CoreV1Api }, releaseId: string, hook: string, phase: 'run' | 'undo', exitCode: number, message?: string): Promise<V1Job> {
  const found = await eventually(
    `the ${phase} Job of hook ${hook} of ${releaseId} and its pod`,
    async () => {
      const jobs = await kube.batch.listNamespacedJob({ namespace: 'prod', labelSelector: `tidegate.io/hook=${hook}` });
      const j = jobs.items.find((x) => x.metadata?.annotations?.['tidegate.io/release'] === releaseId && x.metadata.annotations['tidegate.io/phase'] === phase);
      const pods = j ? await kube.core.listNamespacedPod({ namespace: 'prod', labelSelector: `job-name=${j.metadata?.name}` }) : undefined;
      return { j, pod: pods?.items[0]?.metadata?.name };
    },
    (x) => x.pod !== undefined,
    120_000,
  );
  const terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', ...(message ? { message } : {}) };
  await kube.core.patchNamespacedPodStatus(
    { namespace: 'prod', name: found.pod ?? '', body: { status: { phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [{ name: 'migrate', image: 'm', imageID: '', ready: false, restartCount: 0, state: { terminated } }] } } },
    MERGE,
  );
  if (!found.j) throw new Error('unreachable');
  return found.j;
}
