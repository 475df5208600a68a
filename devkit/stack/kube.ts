// Runs a real Kubernetes control plane for tests and the local stack: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler built from the registries, wired by kwokctl's binary
// runtime (certificates, kubeconfig), with kwok simulating nodes so that Pods become Ready,
// Deployments roll out and Services get endpoints. Every component listens on 127.0.0.1 only.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { guard } from './guardian.js';
import { CommandError, LockTimeoutError, runExclusive } from './lock.js';
import { freePort } from './ports.js';
import { cacheDir, repoRoot, toolPath } from '../toolchain/tools.js';

const run = promisify(execFile);

export interface KubeClusterOptions {
  /** Directory for kwokctl's work files (certificates, logs, etcd data). */
  dir: string;
  name?: string;
  /** Fake nodes to create. */
  nodes?: number;
  /** Install the Gateway API standard CRDs and the Istio VirtualService fixture CRD (default true). */
  crds?: boolean;
  /**
   * Stop the cluster's daemons if this process dies first (default true; the local stack's cluster
   * outlives `stack up`, so it passes false outside tests).
   */
  guard?: boolean;
  /** Progress lines (a wait for another cluster's creation). */
  log?: (line: string) => void;
}

export interface KubeCluster {
  name: string;
  kubeconfig: string;
  dir: string;
  stop(): Promise<void>;
}

/** How long a cluster creation waits for another one to finish (TIDEGATE_KWOK_LOCK_WAIT_MS). */
const lockWaitMs = (): number => Number(process.env.TIDEGATE_KWOK_LOCK_WAIT_MS) || 120_000;

function kwokctlEnv(dir: string): NodeJS.ProcessEnv {
  // our kubectl first: kwokctl shells out to whichever kubectl is on PATH
  return { ...process.env, KWOK_WORKDIR: join(dir, 'kwok'), PATH: `${dirname(toolPath('kubectl'))}${delimiter}${process.env.PATH ?? ''}` };
}

/** Runs kwokctl with its work files in `dir`. */
async function kwokctl(dir: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(toolPath('kwokctl'), args, { env: kwokctlEnv(dir), maxBuffer: 16 * 1024 * 1024, timeout: 180_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kwokctl ${args.slice(0, 2).join(' ')} failed: ${(e.stderr ?? e.message).split('\n').slice(-5).join('\n')}`, { cause: err });
  }
}

/**
 * Runs `kwokctl create cluster` under a machine-wide lock: kwokctl hands out the ports it is not
 * told from a counter, so two clusters created at the same moment (parallel test files, a test
 * beside `npm run dev`) would otherwise pick the same ones. The cluster's daemons never hold the
 * lock (see lock.ts); a creation that waits longer than TIDEGATE_KWOK_LOCK_WAIT_MS fails naming
 * the holder.
 */
async function kwokctlCreate(dir: string, name: string, args: string[], log?: (line: string) => void): Promise<void> {
  mkdirSync(cacheDir(), { recursive: true });
  try {
    await runExclusive(toolPath('kwokctl'), args, {
      lockFile: join(cacheDir(), 'kwokctl-create.lock'),
      name: 'kwokctl-create',
      purpose: `creating cluster ${name} in ${dir}`,
      waitMs: lockWaitMs(),
      timeoutMs: 180_000,
      env: kwokctlEnv(dir),
      ...(log ? { log } : {}),
    });
  } catch (err) {
    if (err instanceof CommandError) throw new Error(`kwokctl create cluster failed: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * What the guardian matches to stop a cluster whose creator died: every daemon kwokctl starts
 * names files under the cluster's work directory on its command line.
 */
export const clusterProcessesMarker = (dir: string, name: string): string => `${join(dir, 'kwok', 'clusters', name)}/`;

export async function startKubeCluster(options: KubeClusterOptions): Promise<KubeCluster> {
  const name = options.name ?? 'tidegate';
  const dir = options.dir;
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'kwokctl.yaml');
  writeFileSync(
    config,
    ['apiVersion: config.kwok.x-k8s.io/v1alpha1', 'kind: KwokctlConfiguration', 'options:', '  bindAddress: 127.0.0.1', ''].join('\n'),
  );
  const kubeconfig = join(dir, 'kubeconfig');
  const port = async (flag: string): Promise<string[]> => [flag, String(await freePort())];
  const create = async (): Promise<void> => {
    await kwokctlCreate(dir, name, [
      '--config', config,
      'create', 'cluster',
      '--name', name,
      '--runtime', 'binary',
      '--kubeconfig', kubeconfig,
      '--etcd-binary', toolPath('etcd'),
      '--kube-apiserver-binary', toolPath('kube-apiserver'),
      '--kube-controller-manager-binary', toolPath('kube-controller-manager'),
      '--kube-scheduler-binary', toolPath('kube-scheduler'),
      '--kwok-controller-binary', toolPath('kwok'),
      ...(await port('--kube-apiserver-port')),
      ...(await port('--etcd-port')),
      ...(await port('--kube-controller-manager-port')),
      ...(await port('--kube-scheduler-port')),
      ...(await port('--controller-port')),
      '--disable-qps-limits',
      '--wait', '2m',
    ], options.log);
  };
  const release = (options.guard ?? true) ? guard(`kubernetes cluster ${name} in ${dir}`, { mentioning: clusterProcessesMarker(dir, name) }) : () => undefined;
  // A creation that fails halfway may have started some components: never leave them running, say
  // what their logs said, and try once more with fresh ports (kwokctl still picks a few itself).
  for (let attempt = 1; ; attempt++) {
    try {
      await create();
      break;
    } catch (err) {
      if (err instanceof LockTimeoutError) {
        release();
        throw err;
      }
      const logs = componentLogTails(dir, name);
      await kwokctl(dir, ['delete', 'cluster', '--name', name]).catch(() => undefined);
      if (attempt >= 2) {
        release();
        throw new Error(`${(err as Error).message}\ncomponent logs:\n${logs}`, { cause: err });
      }
      process.stderr.write(`[kube] cluster creation failed, retrying once; component logs:\n${logs}\n`);
    }
  }
  const cluster: KubeCluster = {
    name,
    kubeconfig,
    dir,
    stop: async () => {
      await kwokctl(dir, ['delete', 'cluster', '--name', name]);
      release();
    },
  };
  try {
    await kwokctl(dir, ['--name', name, 'scale', 'node', '--replicas', String(options.nodes ?? 2)]);
    if (options.crds ?? true) await installCrds(kubeconfig, routingCrdFiles());
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** The last lines of each control-plane component's log, for an error message. */
function componentLogTails(dir: string, name: string, lines = 6): string {
  const logs = join(dir, 'kwok', 'clusters', name, 'logs');
  try {
    return readdirSync(logs)
      .map((f) => `--- ${f}\n${readFileSync(join(logs, f), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  } catch {
    return '(no component logs)';
  }
}

/** The CRDs the traffic routers need: Gateway API (from setup's cache) and the Istio VirtualService fixture. */
export function routingCrdFiles(): string[] {
  const gatewayDir = join(repoRoot, '.tools', 'gateway-api-crds');
  const gateway = readdirSync(gatewayDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(gatewayDir, f));
  return [...gateway, join(repoRoot, 'devkit', 'toolchain', 'crds', 'istio-virtualservice.yaml')];
}

/** Creates every CustomResourceDefinition in the files (other kinds are skipped) and waits until each is Established. */
export async function installCrds(kubeconfig: string, files: string[]): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS() as V1CustomResourceDefinition | null;
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.metadata?.name) continue;
      await api.createCustomResourceDefinition({ body: crd });
      names.push(crd.metadata.name);
    }
  }
  const deadline = Date.now() + 60_000;
  for (const name of names) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not Established within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return names;
}

/** The objects of a multi-document YAML file (empty documents skipped). */
export function readManifests(file: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => doc.toJS() as KubernetesObject | null)
    .filter((obj): obj is KubernetesObject => Boolean(obj?.kind && obj.metadata?.name));
}

/**
 * Applies objects with server-side apply (field manager `tidegate-stack`, forced), in order:
 * creates what is missing and puts back the fields they set, so a second apply of an unchanged
 * cluster changes nothing. Returns "Kind namespace/name" per object.
 */
export async function applyObjects(kubeconfig: string, objects: KubernetesObject[]): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = KubernetesObjectApi.makeApiClient(kc);
  const applied: string[] = [];
  for (const obj of objects) {
    await api.patch(obj, undefined, undefined, 'tidegate-stack', true, PatchStrategy.ServerSideApply);
    applied.push(`${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name ?? ''}`);
  }
  return applied;
}

export function applyManifestFile(kubeconfig: string, file: string): Promise<string[]> {
  return applyObjects(kubeconfig, readManifests(file));
}

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
}

/** The entry's file fields (certificates, keys) made absolute against the kubeconfig's directory. */
function absolutePaths(entry: Record<string, unknown>, base: string): Record<string, unknown> {
  const out = { ...entry };
  for (const key of ['certificate-authority', 'client-certificate', 'client-key']) {
    const v = out[key];
    if (typeof v === 'string' && v !== '' && !isAbsolute(v)) out[key] = resolve(base, v);
  }
  return out;
}

/**
 * One kubeconfig holding several clusters' (each file's current context), as contexts of the given
 * names whose cluster and user have the same name; the first is the current context. The files'
 * own entries are copied as they are, so certificates stay where kwokctl wrote them.
 *
 *   mergedKubeconfig([{context: 'cluster-1', kubeconfig: 'a/kubeconfig'}, {context: 'cluster-2', kubeconfig: 'b/kubeconfig'}])
 *     → YAML with contexts cluster-1 and cluster-2, current-context cluster-1
 */
export function mergedKubeconfig(parts: { context: string; kubeconfig: string }[]): string {
  const merged: Required<KubeconfigFile> & { apiVersion: string; kind: string } = { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], 'current-context': parts[0]?.context ?? '' };
  for (const { context: name, kubeconfig } of parts) {
    const file = parse(readFileSync(kubeconfig, 'utf8')) as KubeconfigFile;
    const current = file.contexts?.find((c) => c.name === file['current-context']);
    const cluster = file.clusters?.find((c) => c.name === current?.context.cluster);
    const user = file.users?.find((u) => u.name === current?.context.user);
    if (!current || !cluster || !user) throw new Error(`${kubeconfig} has no usable current context (its cluster and user)`);
    const base = dirname(kubeconfig);
    merged.clusters.push({ name, cluster: absolutePaths(cluster.cluster, base) });
    merged.users.push({ name, user: absolutePaths(user.user, base) });
    merged.contexts.push({ name, context: { cluster: name, user: name, ...(current.context.namespace ? { namespace: current.context.namespace } : {}) } });
  }
  return stringify(merged);
}
