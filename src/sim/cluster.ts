// Reads, from the real API server, where each simulated service's requests go: the router's
// weights between the colors, each color's image and ready replicas, and the staging image. The
// simulator follows whatever the cluster says, as a real gateway would.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, NetworkingV1Api, type V1Deployment } from '@kubernetes/client-node';
import type { Color } from '../core/snapshot.js';
import {
  COLORS,
  httpRouteWeights,
  ingressBackend,
  isColor,
  nginxWeights,
  replicaWeights,
  virtualServiceWeights,
  colorServiceName,
  type HttpRouteLike,
  type IngressLike,
  type VirtualServiceLike,
  type Weights,
} from '../core/traffic.js';
import type { SimulatedService } from './config.js';

export interface Backend {
  image?: string;
  readyReplicas: number;
}

export interface RoutingView {
  /** Percent of production requests per color. */
  weights: Weights;
  /** What the weights were read from, e.g. "HTTPRoute prod/checkout". */
  from: string;
  colors: Record<Color, Backend>;
  staging?: Backend;
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

function backendOf(d: V1Deployment | undefined): Backend {
  const image = d?.spec?.template?.spec?.containers?.[0]?.image;
  return { ...(image ? { image } : {}), readyReplicas: d?.status?.readyReplicas ?? 0 };
}

export class ClusterReader {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly networking: NetworkingV1Api;

  constructor(kc: KubeConfig) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.networking = kc.makeApiClient(NetworkingV1Api);
  }

  private async deployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
    try {
      return await this.apps.readNamespacedDeployment({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async custom404<T>(read: () => Promise<unknown>): Promise<T | undefined> {
    try {
      return (await read()) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async read(svc: SimulatedService): Promise<RoutingView> {
    const prod = svc.production;
    const ns = prod.namespace;
    const [blue, green, active, staging] = await Promise.all([
      this.deployment(ns, `${prod.deploymentPrefix}-blue`),
      this.deployment(ns, `${prod.deploymentPrefix}-green`),
      this.core.readNamespacedService({ namespace: ns, name: prod.activeService }).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      }),
      svc.staging ? this.deployment(svc.staging.namespace, svc.staging.deployment) : Promise.resolve(undefined),
    ]);
    const colors: Record<Color, Backend> = { blue: backendOf(blue), green: backendOf(green) };
    const selected = active?.spec?.selector?.[prod.colorLabel];
    const selectedColor = isColor(selected) ? selected : undefined;
    const view = (weights: Weights, from: string): RoutingView => ({
      weights,
      from,
      colors,
      ...(svc.staging ? { staging: backendOf(staging) } : {}),
    });

    const traffic = prod.traffic;
    if (traffic?.router === 'gateway-api' && traffic.httpRoute) {
      const name = traffic.httpRoute;
      const route = await this.custom404<HttpRouteLike>(() =>
        this.custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'httproutes', name }),
      );
      const w = route && httpRouteWeights(route, prod.activeService);
      if (w) return view(w, `HTTPRoute ${ns}/${name}`);
    }
    if (traffic?.router === 'istio' && traffic.virtualService) {
      const name = traffic.virtualService;
      const vs = await this.custom404<VirtualServiceLike>(() =>
        this.custom.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: ns, plural: 'virtualservices', name }),
      );
      const w = vs && virtualServiceWeights(vs, prod.activeService);
      if (w) return view(w, `VirtualService ${ns}/${name}`);
    }
    if (traffic?.router === 'nginx' && traffic.ingress) {
      const [stable, canary] = await Promise.all(
        [traffic.ingress, `${traffic.ingress}-canary`].map((name) =>
          this.networking.readNamespacedIngress({ namespace: ns, name }).catch((err: unknown) => {
            if (isNotFound(err)) return undefined;
            throw err;
          }),
        ),
      );
      const stableBackend = stable && ingressBackend(stable as IngressLike);
      const stableColor = COLORS.find((c) => stableBackend === colorServiceName(prod.activeService, c)) ?? selectedColor;
      if (stableColor) return view(nginxWeights(stableColor, canary as IngressLike | undefined, prod.activeService), `Ingress ${ns}/${traffic.ingress}`);
    }
    if (selectedColor) {
      return view(selectedColor === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 }, `Service ${ns}/${prod.activeService} selector`);
    }
    if (active) {
      // The active Service selects both colors (replicas router): each ready pod takes a share.
      return view(replicaWeights({ blue: colors.blue.readyReplicas, green: colors.green.readyReplicas }), `Service ${ns}/${prod.activeService} over ready pods`);
    }
    return view({ blue: 0, green: 0 }, `nothing routes to ${svc.service}`);
  }
}
