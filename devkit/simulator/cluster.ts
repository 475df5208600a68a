// Reads, from the real API server, where each simulated service's requests go: the router's
// weights between the colors, each color's image and ready replicas, and the staging image. The
// simulator follows whatever the cluster says, as a real gateway would.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, NetworkingV1Api, type V1Deployment } from '@kubernetes/client-node';
import type { Color } from '../../src/core/snapshot.js';
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
} from '../../src/core/traffic.js';
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

/** The object, or undefined when the API server says it does not exist; other errors propagate. */
async function unless404<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
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

  private deployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
    return unless404(this.apps.readNamespacedDeployment({ namespace, name }));
  }

  private customObject<T>(group: string, plural: string, namespace: string, name: string): Promise<T | undefined> {
    return unless404(this.custom.getNamespacedCustomObject({ group, version: 'v1', namespace, plural, name }) as Promise<T>);
  }

  async read(svc: SimulatedService): Promise<RoutingView> {
    const prod = svc.production;
    const ns = prod.namespace;
    const [blue, green, active, staging] = await Promise.all([
      this.deployment(ns, `${prod.deploymentPrefix}-blue`),
      this.deployment(ns, `${prod.deploymentPrefix}-green`),
      unless404(this.core.readNamespacedService({ namespace: ns, name: prod.activeService })),
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
      const route = await this.customObject<HttpRouteLike>('gateway.networking.k8s.io', 'httproutes', ns, name);
      const w = route && httpRouteWeights(route, prod.activeService);
      if (w) return view(w, `HTTPRoute ${ns}/${name}`);
    }
    if (traffic?.router === 'istio' && traffic.virtualService) {
      const name = traffic.virtualService;
      const vs = await this.customObject<VirtualServiceLike>('networking.istio.io', 'virtualservices', ns, name);
      const w = vs && virtualServiceWeights(vs, prod.activeService);
      if (w) return view(w, `VirtualService ${ns}/${name}`);
    }
    if (traffic?.router === 'nginx' && traffic.ingress) {
      const [stable, canary] = await Promise.all(
        [traffic.ingress, `${traffic.ingress}-canary`].map((name) => unless404(this.networking.readNamespacedIngress({ namespace: ns, name }))),
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
