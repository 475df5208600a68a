// What the cluster looked like before a release: the facts rollback restores. Plain data, written
// by the Kubernetes activities and kept in the workflow state.
import type { BlueGreenSpec, TrafficSpec } from './release-spec.js';

/** The production objects of one service that a release acts on. */
export interface ProductionTarget {
  service: string;
  namespace: string;
  blueGreen: BlueGreenSpec;
  traffic?: TrafficSpec;
  /**
   * The kubeconfig context of the cluster it lives in, for a release across clusters; absent: the
   * worker's current context (every release before waves, whose recorded inputs have no such field).
   */
  cluster?: string;
}

export type Color = 'blue' | 'green';

export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}

export interface DeploymentState {
  name: string;
  exists: boolean;
  image?: string;
  replicas: number;
}

export interface ProductionSnapshot {
  service: string;
  namespace: string;
  activeColor: Color;
  deployments: Record<Color, DeploymentState>;
  /** Router weights per color, percent; absent when no router is configured. */
  weights?: Record<Color, number>;
  /** Color the preview Service selected, if there is one. */
  previewColor?: Color;
  /** nginx router: the canary Ingress as it was, if it existed (absent: rollback deletes it). */
  nginxCanary?: { color: Color; weight: number; enabled: boolean };
}

export interface StagingSnapshot {
  namespace: string;
  deployment: DeploymentState;
  /** The kubeconfig context it was read in (absent: the worker's current one), so that its undo restores it there. */
  cluster?: string;
}
