// No router in the spec: blue-green without a canary. The switch is the active Service's selector
// alone, the snapshot records no weights, and a canary weight is a mistake in the spec.
import type { ProductionTarget } from '../../../core/snapshot.js';
import type { Router } from './router.js';
import { failure } from '../../../core/failures.js';

export function noRouter(target: ProductionTarget): Router {
  return {
    name: 'none',
    snapshot: async () => ({}),
    observe: async () => undefined,
    setCanaryWeight: async () => {
      throw failure('InvalidSpec', `${target.service} has no canary traffic router in the spec (set traffic.router to weight a canary)`);
    },
    beforeSwitch: async () => undefined,
    afterSwitch: async () => undefined,
    restore: async () => undefined,
  };
}
