// What a traffic router is to the Kubernetes activities: the few moments at which a release touches
// the router (snapshot, canary weight, the switch, restore, the drift read), so that the activities
// stay router-agnostic and adding a router means one new file here plus a line in routerFor.
// The activities own the Services and the order of writes around these calls:
//   switchActive    beforeSwitch → the active Service selects the new color → afterSwitch
//   restoreTraffic  restore → the active and preview Services
import type { Color, ProductionSnapshot, ProductionTarget } from '../../../core/snapshot.js';
import type { Weights } from '../../../core/traffic.js';
import type { KubeObjects } from '../objects.js';
import { gatewayApiRouter } from './gateway-api.js';
import { istioRouter } from './istio.js';
import { nginxRouter } from './nginx.js';
import { noRouter } from './none.js';
import { replicasRouter } from './replicas.js';

export type RouterName = NonNullable<ProductionTarget['traffic']>['router'] | 'none';

/** What a production snapshot records of the router. */
export type RouterSnapshot = Pick<ProductionSnapshot, 'weights' | 'nginxCanary'>;

export interface Router {
  readonly name: RouterName;
  /** The router's state for the snapshot, with `active` the color the active Service selects. */
  snapshot(active: Color): Promise<RouterSnapshot>;
  /**
   * The split the router sends now, for the drift read; undefined when it has none to report.
   * `selected` is the active Service's color, null when it selects both or neither.
   */
  observe(selected: Color | null): Promise<Weights | undefined>;
  /** `weight` percent to `color`, the rest to the other color. */
  setCanaryWeight(color: Color, weight: number): Promise<void>;
  /** The switch, before the active Service's selector moves to `color`. */
  beforeSwitch(color: Color): Promise<void>;
  /** The switch, after the active Service selects `color`. */
  afterSwitch(color: Color): Promise<void>;
  /** Puts the router back as the snapshot had it; runs before the Services are restored. */
  restore(snapshot: ProductionSnapshot): Promise<void>;
}

/** The router of the target's spec (traffic.router), acting through `objects`. */
export function routerFor(target: ProductionTarget, objects: KubeObjects): Router {
  switch (target.traffic?.router) {
    case 'gateway-api':
      return gatewayApiRouter(target, objects);
    case 'istio':
      return istioRouter(target, objects);
    case 'nginx':
      return nginxRouter(target, objects);
    case 'replicas':
      return replicasRouter(target, objects);
    case undefined:
      return noRouter(target);
  }
}
