// The Kubernetes activities: snapshot, deploy and wait, canary weights, the blue-green switch,
// scale-down and exact restore, built by a factory from injected API clients. They own the
// Deployments and the Services and the order of writes; everything router-specific is behind
// routers/router.ts, and the object operations (each kind's write, skipped when already so) are
// in objects.ts.
import { isColor } from '../../core/traffic.js';
import type { Color, ProductionSnapshot, ProductionTarget, StagingSnapshot } from '../../core/snapshot.js';
import type { KubernetesActivities, TrafficState } from '../types.js';
import { deploymentName, kubeObjects, type KubeApis, type KubeObjectOptions } from './objects.js';
import { routerFor } from './routers/router.js';
import { failure } from '../../core/failures.js';

export { kubeApis, type KubeApis } from './objects.js';
export type KubernetesAdapterOptions = KubeObjectOptions;

export function createKubernetesActivities(apis: KubeApis, options: KubernetesAdapterOptions = {}): KubernetesActivities {
  const objects = kubeObjects(apis, options);

  const bothColors = (target: ProductionTarget) =>
    Promise.all([objects.deploymentState(target.namespace, deploymentName(target, 'blue')), objects.deploymentState(target.namespace, deploymentName(target, 'green'))]);

  async function selectorColor(namespace: string, service: string, label: string): Promise<Color | undefined> {
    const value = (await objects.readService(namespace, service)).spec?.selector?.[label];
    return isColor(value) ? value : undefined;
  }

  return {
    async snapshotProduction(target): Promise<ProductionSnapshot> {
      const ns = target.namespace;
      const bg = target.blueGreen;
      const [blue, green] = await bothColors(target);
      for (const d of [blue, green]) {
        if (!d.exists) throw failure('KubernetesNotFound', `Deployment ${ns}/${d.name} not found: blue-green needs both ${bg.deploymentPrefix}-blue and ${bg.deploymentPrefix}-green`);
      }
      const activeColor = await selectorColor(ns, bg.activeService, bg.colorLabel);
      if (!activeColor) {
        throw failure(
          'KubernetesInvalid',
          `Service ${ns}/${bg.activeService} does not select ${bg.colorLabel}: blue or green, so the live color is unknown (an earlier release left it half-done? set the selector and retry)`,
        );
      }
      const { weights, nginxCanary } = await routerFor(target, objects).snapshot(activeColor);
      const previewColor = bg.previewService ? await selectorColor(ns, bg.previewService, bg.colorLabel) : undefined;
      return {
        service: target.service,
        namespace: ns,
        activeColor,
        deployments: { blue, green },
        ...(weights ? { weights } : {}),
        ...(previewColor ? { previewColor } : {}),
        ...(nginxCanary ? { nginxCanary } : {}),
      };
    },

    async snapshotStaging({ namespace, deployment, cluster }): Promise<StagingSnapshot> {
      const state = await objects.deploymentState(namespace, deployment);
      if (!state.exists) throw failure('KubernetesNotFound', `staging Deployment ${namespace}/${deployment} not found`);
      return { namespace, deployment: state, ...(cluster !== undefined ? { cluster } : {}) };
    },

    deployImage: (request) => objects.rollOut(request),

    async setCanaryWeight({ target, color, weight }) {
      await routerFor(target, objects).setCanaryWeight(color, weight);
    },

    async pointPreview({ target, color }) {
      if (!target.blueGreen.previewService) return;
      await objects.setSelectorColor(target.namespace, target.blueGreen.previewService, target.blueGreen.colorLabel, color);
    },

    async switchActive({ target, color }) {
      const router = routerFor(target, objects);
      await router.beforeSwitch(color);
      await objects.setSelectorColor(target.namespace, target.blueGreen.activeService, target.blueGreen.colorLabel, color);
      await router.afterSwitch(color);
    },

    async scaleDeployment({ namespace, deployment, replicas }) {
      await objects.setDeployment(namespace, deployment, { replicas });
    },

    async restoreTraffic({ target, snapshot }) {
      const ns = target.namespace;
      const bg = target.blueGreen;
      // traffic first: the router, then the Services
      await routerFor(target, objects).restore(snapshot);
      await objects.setSelectorColor(ns, bg.activeService, bg.colorLabel, snapshot.activeColor);
      if (bg.previewService && snapshot.previewColor) await objects.setSelectorColor(ns, bg.previewService, bg.colorLabel, snapshot.previewColor);
    },

    async restoreWorkloads({ target, snapshot, spare = [] }) {
      for (const color of ['blue', 'green'] as const) {
        const d = snapshot.deployments[color];
        if (!d.exists || spare.includes(color)) continue;
        await objects.setDeployment(target.namespace, d.name, { ...(d.image ? { image: d.image } : {}), replicas: d.replicas });
      }
    },

    async observeTraffic(target): Promise<TrafficState> {
      const selected = (await selectorColor(target.namespace, target.blueGreen.activeService, target.blueGreen.colorLabel)) ?? null;
      const [blue, green] = await bothColors(target);
      const weights = await routerFor(target, objects).observe(selected);
      return { selected, ...(weights ? { weights } : {}), replicas: { blue: blue.replicas, green: green.replicas } };
    },

    async restoreStaging({ snapshot }) {
      const d = snapshot.deployment;
      if (!d.exists) return;
      await objects.setDeployment(snapshot.namespace, d.name, { ...(d.image ? { image: d.image } : {}), replicas: d.replicas });
    },
  };
}
