// The replica-ratio router (no mesh): the canary color gets pods beside the stable color's, and the
// active Service selects both colors while the canary runs, so each ready pod takes an equal share.
// The switch first gives the new color the stable color's capacity and waits for it to roll out.
import type { ProductionTarget } from '../../../core/snapshot.js';
import { otherColor } from '../../../core/snapshot.js';
import { replicaCanaryCount, weightsFor } from '../../../core/traffic.js';
import { deploymentName, type KubeObjects } from '../objects.js';
import type { Router } from './router.js';

/** How long the switch waits for the new color to reach the stable color's capacity. */
const SWITCH_ROLLOUT_TIMEOUT_MS = 90_000;

export function replicasRouter(target: ProductionTarget, objects: KubeObjects): Router {
  const ns = target.namespace;
  const bg = target.blueGreen;
  return {
    name: 'replicas',
    // the snapshot was taken with one color selected, which takes everything
    snapshot: async (active) => ({ weights: weightsFor(active, 100) }),
    // the split is the ready pods per color, which observeTraffic reports already
    observe: async () => undefined,

    async setCanaryWeight(color, weight) {
      const stable = await objects.readDeployment(ns, deploymentName(target, otherColor(color)));
      await objects.setDeployment(ns, deploymentName(target, color), { replicas: replicaCanaryCount(stable.spec?.replicas ?? 1, weight) });
      // the active Service selects both colors while the canary runs, one color otherwise
      await objects.setSelectorColor(ns, bg.activeService, bg.colorLabel, weight > 0 ? null : otherColor(color));
    },

    async beforeSwitch(color) {
      // the new color takes all traffic: give it the stable color's capacity first
      const stable = await objects.readDeployment(ns, deploymentName(target, otherColor(color)));
      const fresh = await objects.readDeployment(ns, deploymentName(target, color));
      const image = fresh.spec?.template?.spec?.containers?.[0]?.image ?? '';
      const replicas = Math.max(stable.spec?.replicas ?? 1, fresh.spec?.replicas ?? 0);
      await objects.rollOut({ namespace: ns, deployment: deploymentName(target, color), image, replicas, timeoutMs: SWITCH_ROLLOUT_TIMEOUT_MS });
    },
    afterSwitch: async () => undefined,
    // the Services carry the split; restoreTraffic restores them
    restore: async () => undefined,
  };
}
