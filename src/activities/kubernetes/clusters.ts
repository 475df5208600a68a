// A release across clusters reaches each one through a kubeconfig context the worker holds: a call
// names the context (its target, request or staging snapshot; a hook's Job), the worker keeps the
// credentials. These pick the clients and the activities for the context each call names; a call
// that names none acts on the worker's current context, as every release before waves did.
import { KubeConfig } from '@kubernetes/client-node';
import { failure } from '../../core/failures.js';
import type { KubernetesActivities } from '../types.js';
import { createKubernetesActivities, type KubernetesAdapterOptions } from './index.js';
import { kubeApis } from './objects.js';

/**
 * The kubeconfig of each context in `kc`, made once per context; `undefined` is `kc` itself (its
 * current context). A context this worker does not hold (or whose cluster or user is missing) fails
 * the call as unavailable, naming the contexts it has: retried, the call may reach a worker that
 * holds it (every worker of the queue should hold every context its releases name).
 */
export function kubeConfigs(kc: KubeConfig): (context: string | undefined) => KubeConfig {
  const made = new Map<string, KubeConfig>();
  return (context) => {
    if (context === undefined) return kc;
    let config = made.get(context);
    if (!config) {
      const entry = kc.getContextObject(context);
      if (!entry || !kc.getCluster(entry.cluster) || !kc.getUser(entry.user)) {
        const has = kc.getContexts().map((c) => c.name);
        const what = entry ? `a context "${context}" without its ${kc.getCluster(entry.cluster) ? `user "${entry.user}"` : `cluster "${entry.cluster}"`}` : `no context "${context}"`;
        throw failure('KubernetesUnavailable', `this worker's kubeconfig has ${what} (its contexts: ${has.join(', ') || 'none'}); every worker must hold each context the releases' clusters name`);
      }
      config = new KubeConfig();
      config.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: context });
      made.set(context, config);
    }
    return config;
  };
}

/**
 * Something made once per context from its kubeconfig (API clients, activities). The current
 * context's is made at once, so that a worker whose kubeconfig is unusable fails when it starts.
 */
export function perContext<T>(kc: KubeConfig, make: (config: KubeConfig) => T): (context: string | undefined) => T {
  const configFor = kubeConfigs(kc);
  const made = new Map<string | undefined, T>([[undefined, make(kc)]]);
  return (context) => {
    if (!made.has(context)) made.set(context, make(configFor(context)));
    return made.get(context) as T;
  };
}

/** The context a call names: on its target, its request, or the snapshot it restores. */
type Cluster = { cluster?: string | undefined };

/**
 * The Kubernetes activities, each call run by the activities of the context it names
 * (`forContext(undefined)`: the worker's current context).
 */
export function routeByCluster(forContext: (context: string | undefined) => KubernetesActivities): KubernetesActivities {
  const on = ({ cluster }: Cluster): KubernetesActivities => forContext(cluster);
  return {
    snapshotProduction: async (target) => on(target).snapshotProduction(target),
    snapshotStaging: async (input) => on(input).snapshotStaging(input),
    deployImage: async (input) => on(input).deployImage(input),
    setCanaryWeight: async (input) => on(input.target).setCanaryWeight(input),
    pointPreview: async (input) => on(input.target).pointPreview(input),
    switchActive: async (input) => on(input.target).switchActive(input),
    scaleDeployment: async (input) => on(input).scaleDeployment(input),
    restoreTraffic: async (input) => on(input.target).restoreTraffic(input),
    restoreWorkloads: async (input) => on(input.target).restoreWorkloads(input),
    observeTraffic: async (target) => on(target).observeTraffic(target),
    restoreStaging: async (input) => on(input.snapshot).restoreStaging(input),
  };
}

/** The Kubernetes activities of a worker holding `kc`: each context's made at its first call. */
export function createClusterKubernetesActivities(kc: KubeConfig, options: KubernetesAdapterOptions = {}): KubernetesActivities {
  return routeByCluster(perContext(kc, (config) => createKubernetesActivities(kubeApis(config), options)));
}
