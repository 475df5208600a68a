// The Kubernetes activities: snapshot, deploy and wait, the four traffic routers, the
// blue-green switch, scale-down and exact restore. Built by a factory from injected API clients.
// Every write sets a desired state (never increments) and is skipped when the object already has
// it; each object kind gets the patch type that fits it:
//   Deployments       strategic merge patch (containers merge by name)
//   Services          merge patch of the selector map
//   HTTPRoute, VirtualService   read-modify-replace with resourceVersion, retried on 409 (their
//                     route lists are atomic, so a patch would clobber concurrent edits)
//   canary Ingress    server-side apply, field manager "tidegate" (tidegate owns that object)
import { ApplicationFailure } from '@temporalio/common';
import { activityContext, waitOrCancel } from '../context.js';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Ingress,
  type V1Service,
} from '@kubernetes/client-node';
import { rolloutState } from '../../core/rollout.js';
import { otherColor, type Color, type DeploymentState, type ProductionSnapshot, type ProductionTarget, type StagingSnapshot } from '../../core/snapshot.js';
import {
  colorServiceName,
  httpRouteWeights,
  ingressBackend,
  isColor,
  nginxWeights,
  NGINX_CANARY,
  NGINX_CANARY_WEIGHT,
  replicaCanaryCount,
  virtualServiceWeights,
  weightsFor,
  withHttpRouteWeights,
  withVirtualServiceWeights,
  type HttpRouteLike,
  type IngressLike,
  type VirtualServiceLike,
  type Weights,
} from '../../core/traffic.js';
import type { DeployRequest, KubernetesActivities, TrafficState } from '../types.js';
import { isNotFound, kube, kubeFailure, retryOnConflict } from './errors.js';

export interface KubeApis {
  apps: AppsV1Api;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  networking: NetworkingV1Api;
}

export function kubeApis(kc: KubeConfig): KubeApis {
  return {
    apps: kc.makeApiClient(AppsV1Api),
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    networking: kc.makeApiClient(NetworkingV1Api),
  };
}

export interface KubernetesAdapterOptions {
  /** How often a rollout is re-read while waiting (default 1 s). */
  pollMs?: number;
  /** Field manager of tidegate's server-side applies (default "tidegate"). */
  fieldManager?: string;
}

const HTTPROUTE = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' } as const;
const VIRTUALSERVICE = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' } as const;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

interface CustomObject {
  metadata?: { resourceVersion?: string };
}


export function createKubernetesActivities(apis: KubeApis, options: KubernetesAdapterOptions = {}): KubernetesActivities {
  const { apps, core, custom, networking } = apis;
  const pollMs = options.pollMs ?? 1_000;
  const fieldManager = options.fieldManager ?? 'tidegate';

  // ---- Deployments ---------------------------------------------------------------------------
  const readDeployment = (namespace: string, name: string): Promise<V1Deployment> =>
    kube(`read Deployment ${namespace}/${name}`, () => apps.readNamespacedDeployment({ namespace, name }));

  async function deploymentState(namespace: string, name: string): Promise<DeploymentState> {
    try {
      const d = await apps.readNamespacedDeployment({ namespace, name });
      const image = d.spec?.template?.spec?.containers?.[0]?.image;
      return { name, exists: true, ...(image ? { image } : {}), replicas: d.spec?.replicas ?? 1 };
    } catch (err) {
      if (isNotFound(err)) return { name, exists: false, replicas: 0 };
      throw kubeFailure(err, `read Deployment ${namespace}/${name}`);
    }
  }

  /** Sets the first container's image and/or the replica count; no write when already so. */
  async function setDeployment(namespace: string, name: string, want: { image?: string; replicas?: number }): Promise<V1Deployment> {
    const d = await readDeployment(namespace, name);
    const container = d.spec?.template?.spec?.containers?.[0];
    if (!container?.name) throw ApplicationFailure.nonRetryable(`Deployment ${namespace}/${name} has no container to set the image of`, 'KubernetesInvalid');
    const imageChanges = want.image !== undefined && container.image !== want.image;
    const replicasChange = want.replicas !== undefined && d.spec?.replicas !== want.replicas;
    if (!imageChanges && !replicasChange) return d;
    const body = {
      spec: {
        ...(replicasChange ? { replicas: want.replicas } : {}),
        ...(imageChanges ? { template: { spec: { containers: [{ name: container.name, image: want.image }] } } } : {}),
      },
    };
    return kube(`patch Deployment ${namespace}/${name}`, () => apps.patchNamespacedDeployment({ namespace, name, body }, STRATEGIC));
  }

  async function podsOf(d: V1Deployment, namespace: string) {
    const labels = d.spec?.selector?.matchLabels ?? {};
    const labelSelector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
    const list = await kube(`list Pods of ${namespace}/${d.metadata?.name ?? '?'}`, () => core.listNamespacedPod({ namespace, labelSelector }));
    return list.items;
  }

  async function deployImage(input: DeployRequest): Promise<{ readyReplicas: number }> {
    const { namespace, deployment, image, timeoutMs } = input;
    const ctx = activityContext();
    await setDeployment(namespace, deployment, { image, ...(input.replicas !== undefined ? { replicas: input.replicas } : {}) });
    const deadline = Date.now() + timeoutMs;
    let detail: string;
    for (;;) {
      const d = await readDeployment(namespace, deployment);
      const state = rolloutState(d, await podsOf(d, namespace), image);
      if (state.phase === 'complete') return { readyReplicas: state.ready };
      if (state.phase === 'failed') {
        throw ApplicationFailure.nonRetryable(`rollout of ${image} to Deployment ${namespace}/${deployment} failed: ${state.reason}`, 'RolloutFailed');
      }
      detail = state.detail;
      ctx?.heartbeat({ deployment: `${namespace}/${deployment}`, image, ready: state.ready, detail });
      if (Date.now() > deadline) {
        throw ApplicationFailure.nonRetryable(
          `Deployment ${namespace}/${deployment} did not roll out ${image} within ${Math.round(timeoutMs / 1000)}s: ${detail}`,
          'RolloutTimeout',
        );
      }
      await waitOrCancel(ctx, pollMs);
    }
  }

  // ---- Services ------------------------------------------------------------------------------
  const readService = (namespace: string, name: string): Promise<V1Service> =>
    kube(`read Service ${namespace}/${name}`, () => core.readNamespacedService({ namespace, name }));

  /** Sets (or, with null, removes) the color label of a Service's selector. */
  async function setSelectorColor(namespace: string, name: string, label: string, color: Color | null): Promise<void> {
    const svc = await readService(namespace, name);
    if ((svc.spec?.selector?.[label] ?? null) === color) return;
    await kube(`patch Service ${namespace}/${name}`, () => core.patchNamespacedService({ namespace, name, body: { spec: { selector: { [label]: color } } } }, MERGE));
  }

  async function selectedColor(target: ProductionTarget): Promise<Color | undefined> {
    const svc = await readService(target.namespace, target.blueGreen.activeService);
    const value = svc.spec?.selector?.[target.blueGreen.colorLabel];
    return isColor(value) ? value : undefined;
  }

  // ---- routers -------------------------------------------------------------------------------
  function routeName(target: ProductionTarget, field: 'httpRoute' | 'virtualService' | 'ingress'): string {
    const name = target.traffic?.[field];
    if (!name) throw ApplicationFailure.nonRetryable(`router ${target.traffic?.router ?? 'none'} of ${target.service} needs traffic.${field} in the spec`, 'InvalidSpec');
    return name;
  }

  async function readCustom<T extends CustomObject>(kind: typeof HTTPROUTE | typeof VIRTUALSERVICE, namespace: string, name: string): Promise<T> {
    const what = `${kind === HTTPROUTE ? 'HTTPRoute' : 'VirtualService'} ${namespace}/${name}`;
    return (await kube(`read ${what}`, () => custom.getNamespacedCustomObject({ ...kind, namespace, name }))) as T;
  }

  /** Read-modify-replace of a route object's weights, retried on conflicts; no write when already so. */
  async function writeCustomWeights<T extends CustomObject>(
    kind: typeof HTTPROUTE | typeof VIRTUALSERVICE,
    namespace: string,
    name: string,
    read: (obj: T) => Weights | undefined,
    write: (obj: T) => T,
    weights: Weights,
  ): Promise<void> {
    const what = `${kind === HTTPROUTE ? 'HTTPRoute' : 'VirtualService'} ${namespace}/${name}`;
    await retryOnConflict(async () => {
      const obj = await readCustom<T>(kind, namespace, name);
      const now = read(obj);
      if (!now) throw ApplicationFailure.nonRetryable(`${what} routes to neither color's Service (expected backends named like ${name}-blue / -green)`, 'KubernetesInvalid');
      if (now.blue === weights.blue && now.green === weights.green) return;
      await kube(`replace ${what}`, () => custom.replaceNamespacedCustomObject({ ...kind, namespace, name, body: write(obj) }));
    });
  }

  async function nginxCanary(target: ProductionTarget): Promise<V1Ingress | undefined> {
    const name = `${routeName(target, 'ingress')}-canary`;
    try {
      return await networking.readNamespacedIngress({ namespace: target.namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeFailure(err, `read Ingress ${target.namespace}/${name}`);
    }
  }

  /** The canary Ingress: the stable Ingress's rules with every backend on `<activeService>-<color>`. */
  async function applyNginxCanary(target: ProductionTarget, color: Color, weight: number): Promise<void> {
    const ns = target.namespace;
    const stableName = routeName(target, 'ingress');
    const stable = await kube(`read Ingress ${ns}/${stableName}`, () => networking.readNamespacedIngress({ namespace: ns, name: stableName }));
    const backend = colorServiceName(target.blueGreen.activeService, color);
    const rules = structuredClone(stable.spec?.rules ?? []);
    for (const rule of rules) for (const path of rule.http?.paths ?? []) if (path.backend.service) path.backend.service.name = backend;
    const name = `${stableName}-canary`;
    const existing = await nginxCanary(target);
    const annotations = existing?.metadata?.annotations ?? {};
    if (annotations[NGINX_CANARY] === 'true' && annotations[NGINX_CANARY_WEIGHT] === String(weight) && ingressBackend(existing as IngressLike) === backend) return;
    const body: V1Ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name,
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'tidegate' },
        annotations: { [NGINX_CANARY]: 'true', [NGINX_CANARY_WEIGHT]: String(weight) },
      },
      spec: { ...(stable.spec?.ingressClassName ? { ingressClassName: stable.spec.ingressClassName } : {}), rules },
    };
    await kube(`apply Ingress ${ns}/${name}`, () => networking.patchNamespacedIngress({ namespace: ns, name, body, fieldManager, force: true }, APPLY));
  }

  async function deleteNginxCanary(target: ProductionTarget): Promise<void> {
    const name = `${routeName(target, 'ingress')}-canary`;
    try {
      await networking.deleteNamespacedIngress({ namespace: target.namespace, name });
    } catch (err) {
      if (!isNotFound(err)) throw kubeFailure(err, `delete Ingress ${target.namespace}/${name}`);
    }
  }

  /** Router weights now, as the snapshot records them. */
  async function readWeights(target: ProductionTarget, active: Color): Promise<Weights | undefined> {
    const ns = target.namespace;
    const svc = target.blueGreen.activeService;
    switch (target.traffic?.router) {
      case 'gateway-api': {
        const name = routeName(target, 'httpRoute');
        const w = httpRouteWeights(await readCustom<HttpRouteLike & CustomObject>(HTTPROUTE, ns, name), svc);
        if (!w) throw ApplicationFailure.nonRetryable(`HTTPRoute ${ns}/${name} routes to neither ${colorServiceName(svc, 'blue')} nor ${colorServiceName(svc, 'green')}`, 'KubernetesInvalid');
        return w;
      }
      case 'istio': {
        const name = routeName(target, 'virtualService');
        const w = virtualServiceWeights(await readCustom<VirtualServiceLike & CustomObject>(VIRTUALSERVICE, ns, name), svc);
        if (!w) throw ApplicationFailure.nonRetryable(`VirtualService ${ns}/${name} routes to neither color (subset blue/green or host ${svc}-blue/-green)`, 'KubernetesInvalid');
        return w;
      }
      case 'nginx':
        return nginxWeights(active, (await nginxCanary(target)) as IngressLike | undefined, svc);
      case 'replicas':
        return weightsFor(active, 100);
      default:
        return undefined;
    }
  }

  async function writeWeights(target: ProductionTarget, weights: Weights): Promise<void> {
    const ns = target.namespace;
    const svc = target.blueGreen.activeService;
    if (target.traffic?.router === 'gateway-api') {
      await writeCustomWeights<HttpRouteLike & CustomObject>(HTTPROUTE, ns, routeName(target, 'httpRoute'), (r) => httpRouteWeights(r, svc), (r) => withHttpRouteWeights(r, svc, weights), weights);
    } else if (target.traffic?.router === 'istio') {
      await writeCustomWeights<VirtualServiceLike & CustomObject>(VIRTUALSERVICE, ns, routeName(target, 'virtualService'), (v) => virtualServiceWeights(v, svc), (v) => withVirtualServiceWeights(v, svc, weights), weights);
    }
  }

  const deploymentName = (target: ProductionTarget, color: Color): string => `${target.blueGreen.deploymentPrefix}-${color}`;

  // ---- the activities ------------------------------------------------------------------------
  return {
    async snapshotProduction(target) {
      const ns = target.namespace;
      const bg = target.blueGreen;
      const [blue, green] = await Promise.all([deploymentState(ns, deploymentName(target, 'blue')), deploymentState(ns, deploymentName(target, 'green'))]);
      for (const d of [blue, green]) {
        if (!d.exists) throw ApplicationFailure.nonRetryable(`Deployment ${ns}/${d.name} not found: blue-green needs both ${bg.deploymentPrefix}-blue and ${bg.deploymentPrefix}-green`, 'KubernetesNotFound');
      }
      const activeColor = await selectedColor(target);
      if (!activeColor) {
        throw ApplicationFailure.nonRetryable(
          `Service ${ns}/${bg.activeService} does not select ${bg.colorLabel}: blue or green, so the live color is unknown (an earlier release left it half-done? set the selector and retry)`,
          'KubernetesInvalid',
        );
      }
      const weights = await readWeights(target, activeColor);
      let previewColor: Color | undefined;
      if (bg.previewService) {
        const value = (await readService(ns, bg.previewService)).spec?.selector?.[bg.colorLabel];
        if (isColor(value)) previewColor = value;
      }
      let nginxCanaryState: ProductionSnapshot['nginxCanary'];
      if (target.traffic?.router === 'nginx') {
        const canary = await nginxCanary(target);
        const backend = canary && ingressBackend(canary as IngressLike);
        const color = (['blue', 'green'] as const).find((c) => backend === colorServiceName(bg.activeService, c));
        if (canary && color) nginxCanaryState = { color, weight: Number(canary.metadata?.annotations?.[NGINX_CANARY_WEIGHT] ?? 0), enabled: canary.metadata?.annotations?.[NGINX_CANARY] === 'true' };
      }
      return {
        service: target.service,
        namespace: ns,
        activeColor,
        deployments: { blue, green },
        ...(weights ? { weights } : {}),
        ...(previewColor ? { previewColor } : {}),
        ...(nginxCanaryState ? { nginxCanary: nginxCanaryState } : {}),
      };
    },

    async snapshotStaging({ namespace, deployment }): Promise<StagingSnapshot> {
      const state = await deploymentState(namespace, deployment);
      if (!state.exists) throw ApplicationFailure.nonRetryable(`staging Deployment ${namespace}/${deployment} not found`, 'KubernetesNotFound');
      return { namespace, deployment: state };
    },

    deployImage,

    async setCanaryWeight({ target, color, weight }) {
      const router = target.traffic?.router;
      if (router === 'gateway-api' || router === 'istio') return writeWeights(target, weightsFor(color, weight));
      if (router === 'nginx') return applyNginxCanary(target, color, weight);
      if (router === 'replicas') {
        const stable = await readDeployment(target.namespace, deploymentName(target, otherColor(color)));
        await setDeployment(target.namespace, deploymentName(target, color), { replicas: replicaCanaryCount(stable.spec?.replicas ?? 1, weight) });
        // the active Service selects both colors while the canary runs, one color otherwise
        await setSelectorColor(target.namespace, target.blueGreen.activeService, target.blueGreen.colorLabel, weight > 0 ? null : otherColor(color));
        return;
      }
      throw ApplicationFailure.nonRetryable(`${target.service} has no canary traffic router in the spec`, 'InvalidSpec');
    },

    async pointPreview({ target, color }) {
      if (!target.blueGreen.previewService) return;
      await setSelectorColor(target.namespace, target.blueGreen.previewService, target.blueGreen.colorLabel, color);
    },

    async switchActive({ target, color }) {
      const ns = target.namespace;
      const bg = target.blueGreen;
      if (target.traffic?.router === 'replicas') {
        // the new color takes all traffic: give it the stable color's capacity first
        const stable = await readDeployment(ns, deploymentName(target, otherColor(color)));
        const fresh = await readDeployment(ns, deploymentName(target, color));
        const image = fresh.spec?.template?.spec?.containers?.[0]?.image ?? '';
        const want = Math.max(stable.spec?.replicas ?? 1, fresh.spec?.replicas ?? 0);
        await deployImage({ namespace: ns, deployment: deploymentName(target, color), image, replicas: want, timeoutMs: 90_000 });
      }
      await writeWeights(target, weightsFor(color, 100));
      await setSelectorColor(ns, bg.activeService, bg.colorLabel, color);
      if (target.traffic?.router === 'nginx') await deleteNginxCanary(target);
    },

    async scaleDeployment({ namespace, deployment, replicas }) {
      await setDeployment(namespace, deployment, { replicas });
    },

    async restoreTraffic({ target, snapshot }) {
      const ns = target.namespace;
      const bg = target.blueGreen;
      // traffic first: the router, then the Services
      if (snapshot.weights) await writeWeights(target, snapshot.weights);
      if (target.traffic?.router === 'nginx') {
        const c = snapshot.nginxCanary;
        if (c?.enabled) await applyNginxCanary(target, c.color, c.weight);
        else await deleteNginxCanary(target);
      }
      await setSelectorColor(ns, bg.activeService, bg.colorLabel, snapshot.activeColor);
      if (bg.previewService && snapshot.previewColor) await setSelectorColor(ns, bg.previewService, bg.colorLabel, snapshot.previewColor);
    },

    async restoreWorkloads({ target, snapshot, spare = [] }) {
      for (const color of ['blue', 'green'] as const) {
        const d = snapshot.deployments[color];
        if (!d.exists || spare.includes(color)) continue;
        await setDeployment(target.namespace, d.name, { ...(d.image ? { image: d.image } : {}), replicas: d.replicas });
      }
    },

    async observeTraffic(target): Promise<TrafficState> {
      const ns = target.namespace;
      const value = (await readService(ns, target.blueGreen.activeService)).spec?.selector?.[target.blueGreen.colorLabel];
      const selected = isColor(value) ? value : null;
      const [blue, green] = await Promise.all([deploymentState(ns, deploymentName(target, 'blue')), deploymentState(ns, deploymentName(target, 'green'))]);
      const router = target.traffic?.router;
      let weights: Weights | undefined;
      if (router === 'gateway-api' || router === 'istio') {
        // a route changed to send to neither color is drift to report, not an error of this read
        weights = await readWeights(target, selected ?? 'blue').catch((err: unknown) => {
          if (err instanceof ApplicationFailure && err.type === 'KubernetesInvalid') return { blue: 0, green: 0 };
          throw err;
        });
      } else if (router === 'nginx' && selected) {
        weights = await readWeights(target, selected);
      }
      return { selected, ...(weights ? { weights } : {}), replicas: { blue: blue.replicas, green: green.replicas } };
    },

    async restoreStaging({ snapshot }) {
      const d = snapshot.deployment;
      if (!d.exists) return;
      await setDeployment(snapshot.namespace, d.name, { ...(d.image ? { image: d.image } : {}), replicas: d.replicas });
    },
  };
}
