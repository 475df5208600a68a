// How traffic divides between the two colors, read off the routing objects each router uses.
// Pure: the Kubernetes activities use it to snapshot weights and to check what they
// wrote, and the traffic simulator uses it to send requests where a real gateway would.
// Objects are described by the few fields read here, so src/core needs no Kubernetes client.
import type { Color } from './snapshot.js';

export const COLORS: readonly Color[] = ['blue', 'green'];

/** Percent of requests per color; the two add up to 100, or to 0 when no backend takes traffic. */
export type Weights = Record<Color, number>;

/** The Service a router sends one color's traffic to: `<activeService>-<color>`. */
export function colorServiceName(activeService: string, color: Color): string {
  return `${activeService}-${color}`;
}

export function isColor(value: unknown): value is Color {
  return value === 'blue' || value === 'green';
}

/**
 * Raw backend weights to percent, rounded so that the two always add up to 100.
 *
 *   toPercent({blue: 9, green: 1})   → {blue: 90, green: 10}
 *   toPercent({blue: 1, green: 2})   → {blue: 33, green: 67}
 *   toPercent({blue: 0, green: 0})   → {blue: 0, green: 0}   (nothing takes traffic)
 */
export function toPercent(raw: Weights): Weights {
  const total = raw.blue + raw.green;
  if (total <= 0) return { blue: 0, green: 0 };
  const blue = Math.round((100 * raw.blue) / total);
  return { blue, green: 100 - blue };
}

export interface HttpRouteLike {
  spec?: { rules?: { backendRefs?: { name?: string; kind?: string; weight?: number }[] }[] };
}

/**
 * Weights of an HTTPRoute's first rule between the Services `<activeService>-blue` and `-green`
 * (Gateway API: a backendRef's weight defaults to 1; a color without a backendRef gets 0).
 * Undefined when the rule references neither color's Service.
 *
 *   backendRefs [checkout-blue 90, checkout-green 10] → {blue: 90, green: 10}
 *   backendRefs [checkout-blue]                        → {blue: 100, green: 0}
 */
export function httpRouteWeights(route: HttpRouteLike, activeService: string): Weights | undefined {
  const refs = route.spec?.rules?.[0]?.backendRefs ?? [];
  const raw: Weights = { blue: 0, green: 0 };
  let found = false;
  for (const color of COLORS) {
    for (const ref of refs) {
      if ((ref.kind ?? 'Service') !== 'Service' || ref.name !== colorServiceName(activeService, color)) continue;
      raw[color] += ref.weight ?? 1;
      found = true;
    }
  }
  return found ? toPercent(raw) : undefined;
}

export interface VirtualServiceLike {
  spec?: { http?: { route?: { destination?: { host?: string; subset?: string }; weight?: number }[] }[] };
}

/**
 * Weights of a VirtualService's first HTTP route. A destination is a color by its subset
 * (`subset: green`) or by its host (`checkout-green`). A single destination without a weight gets 100.
 *
 *   route [{subset blue, weight 80}, {subset green, weight 20}] → {blue: 80, green: 20}
 */
export function virtualServiceWeights(vs: VirtualServiceLike, activeService: string): Weights | undefined {
  const routes = vs.spec?.http?.[0]?.route ?? [];
  const raw: Weights = { blue: 0, green: 0 };
  let found = false;
  for (const r of routes) {
    const dest = r.destination ?? {};
    const color = COLORS.find((c) => dest.subset === c || dest.host === colorServiceName(activeService, c) || dest.host?.startsWith(`${colorServiceName(activeService, c)}.`));
    if (!color) continue;
    raw[color] += r.weight ?? (routes.length === 1 ? 100 : 0);
    found = true;
  }
  return found ? toPercent(raw) : undefined;
}

export const NGINX_CANARY = 'nginx.ingress.kubernetes.io/canary';
export const NGINX_CANARY_WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';
export const NGINX_CANARY_WEIGHT_TOTAL = 'nginx.ingress.kubernetes.io/canary-weight-total';

export interface IngressLike {
  metadata?: { annotations?: Record<string, string> };
  spec?: { rules?: { http?: { paths?: { backend?: { service?: { name?: string } } }[] } }[] };
}

/** The Service the first path of an Ingress sends to. */
export function ingressBackend(ingress: IngressLike): string | undefined {
  return ingress.spec?.rules?.[0]?.http?.paths?.[0]?.backend?.service?.name;
}

/**
 * ingress-nginx canary split: the canary Ingress (annotation canary "true") takes
 * canary-weight / canary-weight-total (default 100) of the requests to its backend's color; the
 * rest goes to the stable color. No canary Ingress, or one that is not enabled, sends everything
 * to the stable color.
 *
 *   stable blue, canary → checkout-green with weight 25 → {blue: 75, green: 25}
 */
export function nginxWeights(stableColor: Color, canary: IngressLike | undefined, activeService: string): Weights {
  const stable: Weights = stableColor === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
  const annotations = canary?.metadata?.annotations ?? {};
  if (!canary || annotations[NGINX_CANARY] !== 'true') return stable;
  const backend = ingressBackend(canary);
  const canaryColor = COLORS.find((c) => backend === colorServiceName(activeService, c));
  if (!canaryColor) return stable;
  const total = Number(annotations[NGINX_CANARY_WEIGHT_TOTAL] ?? 100);
  const weight = Math.min(Number(annotations[NGINX_CANARY_WEIGHT] ?? 0), total);
  if (!(total > 0) || !(weight >= 0)) return stable;
  if (canaryColor === stableColor) return stable;
  const pct = Math.round((100 * weight) / total);
  return canaryColor === 'blue' ? { blue: pct, green: 100 - pct } : { blue: 100 - pct, green: pct };
}

/**
 * Replica-ratio routing (no mesh): one Service over the ready pods of both colors; each pod takes
 * an equal share.
 *
 *   ready {blue: 3, green: 1} → {blue: 75, green: 25}
 */
export function replicaWeights(ready: Weights): Weights {
  return toPercent(ready);
}

/** `weight` percent to `color`, the rest to the other color. */
export function weightsFor(color: Color, weight: number): Weights {
  return color === 'blue' ? { blue: weight, green: 100 - weight } : { blue: 100 - weight, green: weight };
}

type BackendRef = NonNullable<NonNullable<NonNullable<HttpRouteLike['spec']>['rules']>[number]['backendRefs']>[number] & Record<string, unknown>;

/**
 * The HTTPRoute rules with each color's backendRef weight set (every rule that routes to either
 * color). A rule missing one color's backendRef gets it, with the other's port. Other backends and
 * every other field are kept as they are.
 *
 *   [checkout-blue 100, checkout-green 0], green 10% → [checkout-blue 90, checkout-green 10]
 */
export function withHttpRouteWeights<R extends HttpRouteLike>(route: R, activeService: string, weights: Weights): R {
  const copy = structuredClone(route);
  for (const rule of copy.spec?.rules ?? []) {
    const refs = (rule.backendRefs ?? []) as BackendRef[];
    const isColorRef = (ref: BackendRef, color: Color): boolean => (ref.kind ?? 'Service') === 'Service' && ref.name === colorServiceName(activeService, color);
    if (!refs.some((r) => COLORS.some((c) => isColorRef(r, c)))) continue;
    for (const color of COLORS) {
      const own = refs.filter((r) => isColorRef(r, color));
      if (own.length === 0) {
        const template = refs.find((r) => COLORS.some((c) => isColorRef(r, c)));
        refs.push({ ...(template ?? {}), name: colorServiceName(activeService, color), weight: weights[color] });
      } else {
        own.forEach((r, i) => (r.weight = i === 0 ? weights[color] : 0));
      }
    }
    rule.backendRefs = refs;
  }
  return copy;
}

/**
 * The VirtualService with each color's destination weight set in every HTTP route that sends to a
 * color (by subset or host). Istio requires a route's weights to add up to 100; they do.
 */
export function withVirtualServiceWeights<V extends VirtualServiceLike>(vs: V, activeService: string, weights: Weights): V {
  const copy = structuredClone(vs);
  for (const http of copy.spec?.http ?? []) {
    for (const r of http.route ?? []) {
      const dest = r.destination ?? {};
      const color = COLORS.find((c) => dest.subset === c || dest.host === colorServiceName(activeService, c) || dest.host?.startsWith(`${colorServiceName(activeService, c)}.`));
      if (color) r.weight = weights[color];
    }
  }
  return copy;
}

/**
 * Replica-ratio canary (no mesh): the stable color keeps its replicas, so capacity never drops, and
 * the canary gets c replicas so that c / (c + stable) is as close to the weight as whole pods allow;
 * any weight above 0 gets at least one pod.
 *
 *   stable 3, weight 10  → 1 (25%)      stable 9, weight 10 → 1 (10%)
 *   stable 3, weight 50  → 3 (50%)      stable 3, weight 0  → 0
 *   stable 4, weight 100 → 4 (the switch moves the rest)
 */
export function replicaCanaryCount(stable: number, weight: number): number {
  if (weight <= 0) return 0;
  if (weight >= 100 || stable === 0) return Math.max(stable, 1);
  return Math.max(1, Math.round((stable * weight) / (100 - weight)));
}
