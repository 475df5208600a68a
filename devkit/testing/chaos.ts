// Chaos tests' world: the production-shaped Temporal cluster (devkit/stack/temporal-cluster.ts, whose
// processes a test kills and restarts) beside the stack's control plane, GitHub fake and
// notification receiver; release specs for any number of sample services; and the external
// effects of a release — GitHub writes, Kubernetes generations, notifications — as data, so a test
// can say "the same as an undisturbed release": no effect lost, none duplicated.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReceivedRequest } from '../notify-receiver/server.js';
import type { RecordedCall } from '../github-fake/server.js';
import { stackDown, stackEnv, stackUp, type StackState } from '../stack/stack.js';
import { startTemporalCluster, type TemporalCluster } from '../stack/temporal-cluster.js';
import { repoRoot } from '../toolchain/tools.js';
import { clusterView, userEnv, type ClusterView } from './e2e.js';

export interface ChaosWorld {
  cluster: TemporalCluster;
  state: StackState;
  /** A user's shell pointed at the cluster (TEMPORAL_ADDRESS is its frontend). */
  env: NodeJS.ProcessEnv;
  view: ClusterView;
  stop(): Promise<void>;
}

/** The sample service's manifests (examples/checkout/cluster.yaml) once per service name. */
export function servicesManifest(dir: string, services: readonly string[]): string {
  const sample = readFileSync(join(repoRoot, 'examples', 'checkout', 'cluster.yaml'), 'utf8');
  const file = join(dir, `services-${services.length}.yaml`);
  writeFileSync(file, services.map((s) => sample.replace(/checkout/g, s)).join('\n---\n'));
  return file;
}

export async function startChaosWorld(dir: string, services: readonly string[] = ['checkout']): Promise<ChaosWorld> {
  const cluster = await startTemporalCluster({ dir: join(dir, 'temporal-cluster'), headless: true });
  try {
    const manifests = services.length === 1 && services[0] === 'checkout' ? {} : { manifests: servicesManifest(dir, services) };
    const state = await stackUp({ dir, components: ['kubernetes', 'github', 'notify'], ...manifests });
    const env = userEnv({ ...stackEnv(state), TEMPORAL_ADDRESS: cluster.address, TEMPORAL_NAMESPACE: cluster.namespace }, { TIDEGATE_USER: 'ci' });
    return {
      cluster,
      state,
      env,
      view: clusterView(state.kubernetes?.kubeconfig ?? ''),
      stop: async () => {
        try {
          await stackDown(dir);
        } finally {
          await cluster.stop();
        }
      },
    };
  } catch (err) {
    // what the stack had started before it failed (a control plane, the fakes), then the cluster
    await stackDown(dir).catch(() => undefined);
    await cluster.stop();
    throw err;
  }
}

export interface SpecOptions {
  /** Approvers alice, bob, carol, two needed (default true). */
  approval?: boolean;
  /** The canary's first pause (default 2s). */
  canaryPause?: string;
  /** Hooks of the release (spec `hooks:`). */
  hooks?: unknown;
}

/** A release of a sample service: GitHub source, staging, a two-step canary, approval, monitor. */
export function releaseSpec(dir: string, service: string, version: string, sha: string, options: SpecOptions = {}): string {
  const file = join(dir, `${service}-${version}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      service,
      version,
      image: `registry.local/${service}:${version}`,
      source: { repo: `acme/${service}`, sha },
      staging: { namespace: 'staging', deployment: service, rolloutTimeout: '1m' },
      production: {
        namespace: 'prod',
        rolloutTimeout: '2m',
        blueGreen: { activeService: service, previewService: `${service}-preview`, deploymentPrefix: service, colorLabel: 'color', scaleDownDelay: '2s' },
        canary: {
          traffic: { router: 'gateway-api', httpRoute: service },
          steps: [{ setWeight: 20 }, { pause: { duration: options.canaryPause ?? '2s' } }, { setWeight: 50 }, { pause: { duration: '1s' } }],
        },
        ...(options.approval === false ? {} : { approval: { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, timeout: '15m' } }),
        monitor: { duration: '2s' },
      },
      ...(options.hooks ? { hooks: options.hooks } : {}),
    }),
  );
  return file;
}

/** What GitHub was asked to write about one commit: operation and state, in order, reads left out. */
export async function githubWrites(env: NodeJS.ProcessEnv, repo: string, sha: string): Promise<string[]> {
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${env.GITHUB_API_URL}${path}`, { headers: { authorization: `token ${env.GITHUB_TOKEN}` } })).json()) as T;
  const ids = new Set((await get<{ id: number }[]>(`/repos/${repo}/deployments?sha=${sha}&per_page=100`)).map((d) => d.id));
  const calls = await get<RecordedCall[]>('/_fake/calls');
  const writes: string[] = [];
  for (const c of calls) {
    if (c.method === 'GET' || c.status >= 300) continue;
    const body = (c.body ?? {}) as { state?: string; environment?: string; ref?: string };
    const ofCommit =
      (c.path === `/repos/${repo}/deployments` && body.ref === sha) ||
      c.path === `/repos/${repo}/statuses/${sha}` ||
      [...ids].some((id) => c.path === `/repos/${repo}/deployments/${id}/statuses`);
    if (ofCommit) writes.push(`${c.operation}${body.environment ? ` ${body.environment}` : ''}${body.state ? ` ${body.state}` : ''}`);
  }
  return writes;
}

/** The objects a release of `service` changes, by their role in it, with their generations. */
export async function generations(view: ClusterView, service: string): Promise<Record<string, number>> {
  const active = await view.core.readNamespacedService({ namespace: 'prod', name: service });
  const live = active.spec?.selector?.color === 'green' ? 'green' : 'blue';
  const target = live === 'blue' ? 'green' : 'blue';
  const gen = async (read: () => Promise<{ metadata?: { generation?: number } }>): Promise<number> => (await read()).metadata?.generation ?? 0;
  return {
    staging: await gen(() => view.apps.readNamespacedDeployment({ namespace: 'staging', name: service })),
    target: await gen(() => view.apps.readNamespacedDeployment({ namespace: 'prod', name: `${service}-${target}` })),
    live: await gen(() => view.apps.readNamespacedDeployment({ namespace: 'prod', name: `${service}-${live}` })),
    route: await gen(() => view.custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: 'prod', plural: 'httproutes', name: service }) as Promise<{ metadata?: { generation?: number } }>),
  };
}

/** How much each role's generation moved between two readings taken before and after a release. */
export function generationDeltas(before: Record<string, number>, after: Record<string, number>, swapped: boolean): Record<string, number> {
  // after a switch the old target is live: compare the same object, not the same role
  const same = (role: string): number => after[swapped ? ({ target: 'live', live: 'target' } as Record<string, string>)[role] ?? role : role] ?? 0;
  return Object.fromEntries(Object.entries(before).map(([role, g]) => [role, same(role) - g]));
}

/** The notifications the receiver counted for a release: one line per sink and event (repeats of a key are not counted). */
export async function notificationsOf(env: NodeJS.ProcessEnv, releaseId: string): Promise<string[]> {
  const received = (await (await fetch(`${env.TIDEGATE_SLACK_WEBHOOK_URL?.replace(/\/slack$/, '')}/_receiver/received`)).json()) as ReceivedRequest[];
  return received
    .filter((r) => r.first && r.status === 200 && r.key.startsWith(`${releaseId}/`))
    .map((r) => `${r.sink} ${r.event ?? ''}`)
    .sort();
}
