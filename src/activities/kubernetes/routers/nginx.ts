// The ingress-nginx router: beside the stable Ingress (which keeps sending to the active Service),
// tidegate applies `<ingress>-canary`, the same rules with every backend on `<activeService>-<color>`
// and the canary annotations carrying the weight. The switch deletes it once the active Service
// selects the new color; restore puts it back as the snapshot had it, or deletes it.
import type { V1Ingress } from '@kubernetes/client-node';
import type { Color, ProductionTarget } from '../../../core/snapshot.js';
import { COLORS, colorServiceName, ingressBackend, nginxWeights, NGINX_CANARY, NGINX_CANARY_WEIGHT, type IngressLike } from '../../../core/traffic.js';
import type { KubeObjects } from '../objects.js';
import type { Router, RouterSnapshot } from './router.js';
import { routeName } from './shared.js';

export function nginxRouter(target: ProductionTarget, objects: KubeObjects): Router {
  const ns = target.namespace;
  const svc = target.blueGreen.activeService;
  const canaryName = () => `${routeName(target, 'ingress')}-canary`;
  const readCanary = async (): Promise<IngressLike | undefined> => objects.findIngress(ns, canaryName()) as Promise<IngressLike | undefined>;

  /** The canary Ingress: the stable Ingress's rules with every backend on `<activeService>-<color>`; no write when already so. */
  async function applyCanary(color: Color, weight: number): Promise<void> {
    const stableName = routeName(target, 'ingress');
    const stable = await objects.readIngress(ns, stableName);
    const backend = colorServiceName(svc, color);
    const rules = structuredClone(stable.spec?.rules ?? []);
    for (const rule of rules) for (const path of rule.http?.paths ?? []) if (path.backend.service) path.backend.service.name = backend;
    const name = `${stableName}-canary`;
    const existing = await readCanary();
    const annotations = existing?.metadata?.annotations ?? {};
    if (annotations[NGINX_CANARY] === 'true' && annotations[NGINX_CANARY_WEIGHT] === String(weight) && existing && ingressBackend(existing) === backend) return;
    const body: V1Ingress & { metadata: { name: string; namespace: string } } = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name,
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'tidegate' },
        annotations: { [NGINX_CANARY]: 'true', [NGINX_CANARY_WEIGHT]: String(weight) },
      },
      spec: { ...(stable.spec?.ingressClassName ? { ingressClassName: stable.spec.ingressClassName } : {}), rules },
    };
    await objects.applyIngress(body);
  }

  const deleteCanary = () => objects.deleteIngress(ns, canaryName());

  return {
    name: 'nginx',
    async snapshot(active) {
      const canary = await readCanary();
      const state: RouterSnapshot = { weights: nginxWeights(active, canary, svc) };
      const backend = canary && ingressBackend(canary);
      const color = COLORS.find((c) => backend === colorServiceName(svc, c));
      const annotations = canary?.metadata?.annotations;
      if (canary && color) state.nginxCanary = { color, weight: Number(annotations?.[NGINX_CANARY_WEIGHT] ?? 0), enabled: annotations?.[NGINX_CANARY] === 'true' };
      return state;
    },
    // without one selected color there is no stable color to split against
    observe: async (selected) => (selected ? nginxWeights(selected, await readCanary(), svc) : undefined),
    setCanaryWeight: applyCanary,
    beforeSwitch: async () => undefined,
    afterSwitch: deleteCanary,
    async restore(snapshot) {
      const c = snapshot.nginxCanary;
      if (c?.enabled) await applyCanary(c.color, c.weight);
      else await deleteCanary();
    },
  };
}
