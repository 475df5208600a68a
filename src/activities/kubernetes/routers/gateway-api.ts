// The Gateway API router: the HTTPRoute's backendRefs to `<activeService>-blue` and `-green`
// carry the split (read and written by src/core/traffic.ts).
import type { ProductionTarget } from '../../../core/snapshot.js';
import { colorServiceName, httpRouteWeights, withHttpRouteWeights, type HttpRouteLike } from '../../../core/traffic.js';
import type { CustomObject, KubeObjects } from '../objects.js';
import type { Router } from './router.js';
import { weightedRouter } from './shared.js';

export const HTTPROUTE = { kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' } as const;

export function gatewayApiRouter(target: ProductionTarget, objects: KubeObjects): Router {
  return weightedRouter<HttpRouteLike & CustomObject>(
    {
      router: 'gateway-api',
      kind: HTTPROUTE,
      field: 'httpRoute',
      weightsOf: httpRouteWeights,
      withWeights: withHttpRouteWeights,
      neither: (object, svc) =>
        `${object} routes to neither ${colorServiceName(svc, 'blue')} nor ${colorServiceName(svc, 'green')} (its first rule needs a backendRef to each color's Service)`,
    },
    target,
    objects,
  );
}
