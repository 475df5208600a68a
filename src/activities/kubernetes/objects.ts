// The object operations the Kubernetes activities and the routers share, each with the write that
// fits its kind and skipped when the object already has the desired state:
//   Deployments       strategic merge patch (containers merge by name); a rollout is waited for
//   Services          merge patch of the selector map
//   custom objects    read-modify-replace with resourceVersion, retried on 409 (HTTPRoute and
//                     VirtualService route lists are atomic, so a patch would clobber concurrent edits)
//   Ingresses         server-side apply with tidegate's field manager (tidegate owns what it applies)
// Every failure is classified (./errors.ts) and names the object.
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
import type { Color, DeploymentState, ProductionTarget } from '../../core/snapshot.js';
import { pollUntil } from '../poll.js';
import type { DeployRequest } from '../types.js';
import { kube, kubeOptional, retryOnConflict } from './errors.js';
import { failure } from '../../core/failures.js';

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

export interface KubeObjectOptions {
  /** How often a rollout is re-read while waiting (default 1 s). */
  pollMs?: number;
  /** Field manager of tidegate's server-side applies (default "tidegate"). */
  fieldManager?: string;
}

/** A custom resource's API coordinates and its kind, for messages. */
export interface CustomKind {
  kind: string;
  group: string;
  version: string;
  plural: string;
}

export interface CustomObject {
  metadata?: { resourceVersion?: string };
}

export interface KubeObjects {
  readDeployment(namespace: string, name: string): Promise<V1Deployment>;
  /** The Deployment's image and replicas, or `exists: false`. */
  deploymentState(namespace: string, name: string): Promise<DeploymentState>;
  /** Sets the first container's image and/or the replica count; no write when already so. */
  setDeployment(namespace: string, name: string, want: { image?: string; replicas?: number }): Promise<V1Deployment>;
  /** setDeployment, then waits (heartbeating, cancellable) until the rollout is complete. */
  rollOut(request: DeployRequest): Promise<{ readyReplicas: number }>;
  readService(namespace: string, name: string): Promise<V1Service>;
  /** Sets (or, with null, removes) the color label of a Service's selector. */
  setSelectorColor(namespace: string, name: string, label: string, color: Color | null): Promise<void>;
  readCustom<T extends CustomObject>(kind: CustomKind, namespace: string, name: string): Promise<T>;
  /** Read-modify-replace retried on conflicts; `update` returns undefined when the object is already as wanted. */
  replaceCustom<T extends CustomObject>(kind: CustomKind, namespace: string, name: string, update: (obj: T) => T | undefined): Promise<void>;
  readIngress(namespace: string, name: string): Promise<V1Ingress>;
  /** The Ingress, or undefined when there is none. */
  findIngress(namespace: string, name: string): Promise<V1Ingress | undefined>;
  applyIngress(body: V1Ingress & { metadata: { name: string; namespace: string } }): Promise<void>;
  /** Deletes the Ingress; one that is already gone is fine. */
  deleteIngress(namespace: string, name: string): Promise<void>;
}

/** The Deployment of one color: `<deploymentPrefix>-<color>`. */
export const deploymentName = (target: ProductionTarget, color: Color): string => `${target.blueGreen.deploymentPrefix}-${color}`;

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

export function kubeObjects(apis: KubeApis, options: KubeObjectOptions = {}): KubeObjects {
  const { apps, core, custom, networking } = apis;
  const pollMs = options.pollMs ?? 1_000;
  const fieldManager = options.fieldManager ?? 'tidegate';

  const readDeployment = (namespace: string, name: string): Promise<V1Deployment> =>
    kube(`read Deployment ${namespace}/${name}`, () => apps.readNamespacedDeployment({ namespace, name }));

  async function setDeployment(namespace: string, name: string, want: { image?: string; replicas?: number }): Promise<V1Deployment> {
    const d = await readDeployment(namespace, name);
    const container = d.spec?.template?.spec?.containers?.[0];
    if (!container?.name) throw failure('KubernetesInvalid', `Deployment ${namespace}/${name} has no container to set the image of`);
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

  const readService = (namespace: string, name: string): Promise<V1Service> =>
    kube(`read Service ${namespace}/${name}`, () => core.readNamespacedService({ namespace, name }));

  async function readCustom<T extends CustomObject>(kind: CustomKind, namespace: string, name: string): Promise<T> {
    const { group, version, plural } = kind;
    return (await kube(`read ${kind.kind} ${namespace}/${name}`, () => custom.getNamespacedCustomObject({ group, version, plural, namespace, name }))) as T;
  }

  return {
    readDeployment,

    async deploymentState(namespace, name) {
      const d = await kubeOptional(`read Deployment ${namespace}/${name}`, () => apps.readNamespacedDeployment({ namespace, name }));
      if (!d) return { name, exists: false, replicas: 0 };
      const image = d.spec?.template?.spec?.containers?.[0]?.image;
      return { name, exists: true, ...(image ? { image } : {}), replicas: d.spec?.replicas ?? 1 };
    },

    setDeployment,

    async rollOut({ namespace, deployment, image, replicas, timeoutMs }) {
      await setDeployment(namespace, deployment, { image, ...(replicas !== undefined ? { replicas } : {}) });
      const outcome = await pollUntil({
        timeoutMs,
        pollMs,
        check: async () => {
          const d = await readDeployment(namespace, deployment);
          const state = rolloutState(d, await podsOf(d, namespace), image);
          if (state.phase === 'complete') return { done: true, value: { readyReplicas: state.ready } };
          if (state.phase === 'failed') {
            throw failure('RolloutFailed', `rollout of ${image} to Deployment ${namespace}/${deployment} failed: ${state.reason}`);
          }
          return { done: false, progress: { ready: state.ready, detail: state.detail } };
        },
        heartbeat: ({ ready, detail }) => ({ deployment: `${namespace}/${deployment}`, image, ready, detail }),
      });
      if (outcome.status === 'done') return outcome.value;
      throw failure('RolloutTimeout', `Deployment ${namespace}/${deployment} did not roll out ${image} within ${Math.round(timeoutMs / 1000)}s: ${outcome.last.detail}`);
    },

    readService,

    async setSelectorColor(namespace, name, label, color) {
      const svc = await readService(namespace, name);
      if ((svc.spec?.selector?.[label] ?? null) === color) return;
      await kube(`patch Service ${namespace}/${name}`, () => core.patchNamespacedService({ namespace, name, body: { spec: { selector: { [label]: color } } } }, MERGE));
    },

    readCustom,

    async replaceCustom<T extends CustomObject>(kind: CustomKind, namespace: string, name: string, update: (obj: T) => T | undefined) {
      const { group, version, plural } = kind;
      await retryOnConflict(async () => {
        const body = update(await readCustom<T>(kind, namespace, name));
        if (!body) return;
        await kube(`replace ${kind.kind} ${namespace}/${name}`, () => custom.replaceNamespacedCustomObject({ group, version, plural, namespace, name, body }));
      });
    },

    readIngress: (namespace, name) => kube(`read Ingress ${namespace}/${name}`, () => networking.readNamespacedIngress({ namespace, name })),

    findIngress: (namespace, name) => kubeOptional(`read Ingress ${namespace}/${name}`, () => networking.readNamespacedIngress({ namespace, name })),

    async applyIngress(body) {
      const { name, namespace } = body.metadata;
      await kube(`apply Ingress ${namespace}/${name}`, () => networking.patchNamespacedIngress({ namespace, name, body, fieldManager, force: true }, APPLY));
    },

    async deleteIngress(namespace, name) {
      await kubeOptional(`delete Ingress ${namespace}/${name}`, () => networking.deleteNamespacedIngress({ namespace, name }));
    },
  };
}
