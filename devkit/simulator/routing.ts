// Where the simulator's requests go when no cluster says so: fixed routing, per service, that the
// caller may change at run time. The local stack reads routing from the API server (ClusterReader);
// benchmarks that record many simulated services at known weights (bench/judge-accuracy) need no
// control plane, only "blue 90%, green 10%, these images".
import type { Color } from '../../src/core/snapshot.js';
import type { Weights } from '../../src/core/traffic.js';
import type { RoutingView } from './cluster.js';
import type { SimulatedService } from './config.js';

/** Anything that says where a service's requests go now: the cluster, or a fixed table. */
export interface RoutingSource {
  read(svc: SimulatedService): Promise<RoutingView>;
}

/**
 * Fixed routing views by service name. A service without a view gets no traffic (as a service
 * nothing routes to). `set` replaces a view; the simulator sees it at its next poll.
 *
 *   const routing = new StaticRouting({ shop: staticView({ blue: 90, green: 10 }, { blue: 'shop:1', green: 'shop:2' }) });
 */
export class StaticRouting implements RoutingSource {
  private readonly views = new Map<string, RoutingView>();

  constructor(views: Record<string, RoutingView> = {}) {
    for (const [service, view] of Object.entries(views)) this.views.set(service, view);
  }

  set(service: string, view: RoutingView): void {
    this.views.set(service, view);
  }

  read(svc: SimulatedService): Promise<RoutingView> {
    return Promise.resolve(this.views.get(svc.service) ?? { weights: { blue: 0, green: 0 }, from: `nothing routes to ${svc.service}`, colors: { blue: { readyReplicas: 0 }, green: { readyReplicas: 0 } } });
  }
}

/** A routing view with these weights and images, every color ready (one replica each). */
export function staticView(weights: Weights, images: Record<Color, string>, from = 'static routing'): RoutingView {
  return { weights, from, colors: { blue: { image: images.blue, readyReplicas: 1 }, green: { image: images.green, readyReplicas: 1 } } };
}
