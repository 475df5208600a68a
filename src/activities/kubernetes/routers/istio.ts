// The Istio router: the VirtualService's route destinations (subset blue/green, or host
// `<activeService>-blue`/`-green`) carry the split (read and written by src/core/traffic.ts).
import type { ProductionTarget } from '../../../core/snapshot.js';
import { virtualServiceWeights, withVirtualServiceWeights, type VirtualServiceLike } from '../../../core/traffic.js';
import type { CustomObject, KubeObjects } from '../objects.js';
import type { Router } from './router.js';
import { weightedRouter } from './shared.js';

export const VIRTUALSERVICE = { kind: 'VirtualService', group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' } as const;

export function istioRouter(target: ProductionTarget, objects: KubeObjects): Router {
  return weightedRouter<VirtualServiceLike & CustomObject>(
    {
      router: 'istio',
      kind: VIRTUALSERVICE,
      field: 'virtualService',
      weightsOf: virtualServiceWeights,
      withWeights: withVirtualServiceWeights,
      neither: (object, svc) => `${object} routes to neither color (subset blue/green or host ${svc}-blue/-green)`,
    },
    target,
    objects,
  );
}
