// What more than one router needs: the routing object's name from the spec, and the router built on
// a custom object that carries both colors' weights (Gateway API's HTTPRoute, Istio's VirtualService),
// which differ only in how the weights are read from and written into the object.
import { ApplicationFailure } from '@temporalio/common';
import type { ProductionTarget } from '../../../core/snapshot.js';
import { weightsFor, type Weights } from '../../../core/traffic.js';
import type { CustomKind, CustomObject, KubeObjects } from '../objects.js';
import type { Router } from './router.js';
import { failure } from '../../../core/failures.js';

/** The routing object the spec names for the router; InvalidSpec when it names none. */
export function routeName(target: ProductionTarget, field: 'httpRoute' | 'virtualService' | 'ingress'): string {
  const name = target.traffic?.[field];
  if (!name) throw failure('InvalidSpec', `router ${target.traffic?.router ?? 'none'} of ${target.service} needs traffic.${field} in the spec`);
  return name;
}

/** A custom object that holds the split between `<activeService>-blue` and `-green`. */
export interface WeightedRoute<T extends CustomObject> {
  router: 'gateway-api' | 'istio';
  kind: CustomKind;
  /** The spec field naming the object. */
  field: 'httpRoute' | 'virtualService';
  /** The object's weights; undefined when it routes to neither color. */
  weightsOf(obj: T, activeService: string): Weights | undefined;
  withWeights(obj: T, activeService: string, weights: Weights): T;
  /** The message for an object that routes to neither color: which object, what it should route to. */
  neither(object: string, activeService: string): string;
}

export function weightedRouter<T extends CustomObject>(route: WeightedRoute<T>, target: ProductionTarget, objects: KubeObjects): Router {
  const ns = target.namespace;
  const svc = target.blueGreen.activeService;
  const invalid = (name: string) => failure('KubernetesInvalid', route.neither(`${route.kind.kind} ${ns}/${name}`, svc));

  async function read(): Promise<Weights> {
    const name = routeName(target, route.field);
    const weights = route.weightsOf(await objects.readCustom<T>(route.kind, ns, name), svc);
    if (!weights) throw invalid(name);
    return weights;
  }

  /** Read-modify-replace; no write when the object already has the weights. */
  async function write(weights: Weights): Promise<void> {
    const name = routeName(target, route.field);
    await objects.replaceCustom<T>(route.kind, ns, name, (obj) => {
      const now = route.weightsOf(obj, svc);
      if (!now) throw invalid(name);
      if (now.blue === weights.blue && now.green === weights.green) return undefined;
      return route.withWeights(obj, svc, weights);
    });
  }

  return {
    name: route.router,
    snapshot: async () => ({ weights: await read() }),
    // a route changed to send to neither color is drift to report, not an error of this read
    observe: () =>
      read().catch((err: unknown) => {
        if (err instanceof ApplicationFailure && err.type === 'KubernetesInvalid') return { blue: 0, green: 0 };
        throw err;
      }),
    setCanaryWeight: (color, weight) => write(weightsFor(color, weight)),
    // the route sends the new color everything before the active Service's selector moves
    beforeSwitch: (color) => write(weightsFor(color, 100)),
    afterSwitch: async () => undefined,
    restore: async (snapshot) => {
      if (snapshot.weights) await write(snapshot.weights);
    },
  };
}
