// The release plan: which stages run for which service, in which order, and the canary step chain
// with the traffic weight in force at each step. Pure: the workflow follows it, `status` shows it.
import type { ApprovalSpec, CanaryStep, ProductionSpec, ReleaseSpec, ServiceSpec, StagingSpec } from './release-spec.js';

export const STAGES = ['build', 'staging', 'canary', 'approval', 'switch', 'monitor'] as const;
export type Stage = (typeof STAGES)[number];

export interface PlannedStep {
  index: number;
  step: CanaryStep;
  /** Canary weight (percent of traffic on the new color) in force while this step runs. */
  weight: number;
  /** For the status view: "setWeight 10", "pause 2m", "pause until promoted", "analysis success-rate". */
  label: string;
}

export interface ServicePlan {
  service: string;
  /** Stages of this service that run; the rest are recorded as skipped. */
  stages: Stage[];
  steps: PlannedStep[];
}

export interface ReleasePlan {
  build: boolean;
  /** Services in release order (dependsOn respected, otherwise spec order). */
  services: ServicePlan[];
}

function label(step: CanaryStep): string {
  switch (step.kind) {
    case 'setWeight':
      return `setWeight ${step.weight}`;
    case 'pause':
      return step.durationMs === undefined ? 'pause until promoted' : `pause ${Math.round(step.durationMs / 1000)}s`;
    case 'analysis':
      return `analysis ${step.analyses.join(', ')}`;
  }
}

/**
 * Weights in force at each step: a setWeight changes it, pauses and analyses keep it.
 *
 *   [setWeight 10, pause 2m, analysis, setWeight 50, pause] → weights [10, 10, 10, 50, 50]
 */
export function planSteps(steps: CanaryStep[]): PlannedStep[] {
  let weight = 0;
  return steps.map((step, index) => {
    if (step.kind === 'setWeight') weight = step.weight;
    return { index, step, weight, label: label(step) };
  });
}

/**
 * The weights a run of setWeight steps sets, from step `from` until the first step that is not a
 * weight: what one workflow task may set before anything is recorded (each weight is a local
 * activity), so traffic found at one of them before step `from` is the release's own doing. A
 * weight of 0 is left out: 0% on the new color is also how traffic was before the release, which is
 * what someone putting it back by hand leaves too (that must stay drift).
 *
 *   [setWeight 10, pause 2m, setWeight 30, setWeight 50, analysis], from 2 → [30, 50]
 *   the same, from 0                                                        → [10]
 *   [setWeight 0, setWeight 20], from 0                                     → [20]
 */
export function ownWeightsAhead(steps: readonly PlannedStep[], from: number): number[] {
  const out: number[] = [];
  for (const planned of steps.slice(from)) {
    if (planned.step.kind !== 'setWeight') break;
    if (planned.step.weight > 0) out.push(planned.step.weight);
  }
  return out;
}

/** Services ordered so each comes after those it dependsOn; ties keep spec order. */
export function releaseOrder(services: ServiceSpec[]): ServiceSpec[] {
  const done = new Set<string>();
  const out: ServiceSpec[] = [];
  const pending = [...services];
  while (pending.length > 0) {
    const i = pending.findIndex((s) => s.dependsOn.every((d) => done.has(d)));
    // The schema rejects cycles; if one slipped through, keep spec order rather than loop forever.
    const [next] = pending.splice(i === -1 ? 0 : i, 1);
    if (!next) break;
    done.add(next.service);
    out.push(next);
  }
  return out;
}

/** The stages each service goes through, in order (the build stage is release-wide). */
export type ServiceStage = Exclude<Stage, 'build'>;

/**
 * A service's stage as the workflow runs it: with the part of the spec it acts on, so that a stage
 * never checks the spec again, or skipped because the spec leaves it out.
 */
export type PlannedStage =
  | { stage: 'staging'; staging: StagingSpec }
  | { stage: 'canary'; canary: NonNullable<ProductionSpec['canary']>; steps: PlannedStep[] }
  | { stage: 'approval'; approval: ApprovalSpec }
  | { stage: 'switch' }
  | { stage: 'monitor'; monitor: NonNullable<ProductionSpec['monitor']> }
  | { stage: ServiceStage; skipped: true };

/**
 * Every stage of a service in release order, each planned or skipped; the switch always runs.
 *
 *   staging, canary, monitor in the spec → staging, canary (its steps), approval skipped, switch, monitor
 */
export function planStages(svc: ServiceSpec): PlannedStage[] {
  const { staging } = svc;
  const { canary, approval, monitor } = svc.production;
  return [
    staging ? { stage: 'staging', staging } : { stage: 'staging', skipped: true },
    canary ? { stage: 'canary', canary, steps: planSteps(canary.steps) } : { stage: 'canary', skipped: true },
    approval ? { stage: 'approval', approval } : { stage: 'approval', skipped: true },
    { stage: 'switch' },
    monitor ? { stage: 'monitor', monitor } : { stage: 'monitor', skipped: true },
  ];
}

export function planService(svc: ServiceSpec): ServicePlan {
  const stages: Stage[] = planStages(svc)
    .filter((p) => !('skipped' in p))
    .map((p) => p.stage);
  return { service: svc.service, stages, steps: planSteps(svc.production.canary?.steps ?? []) };
}

export function planRelease(spec: ReleaseSpec): ReleasePlan {
  return { build: spec.build !== undefined && spec.source !== undefined, services: releaseOrder(spec.services).map(planService) };
}

/**
 * Monitor windows are measured in batches, one range query per batch, so a release's history grows
 * with the number of batches rather than of measurements: window/100 clamped to 1–5 minutes, and
 * never shorter than the analysis interval. Detection inside the window lags by up to one batch.
 *
 *   monitorBatchMs(30m, 30s) = 1m   (30 batches)
 *   monitorBatchMs(24h, 30s) = 5m   (288 batches)
 *   monitorBatchMs(1h, 10m)  = 10m  (the interval wins)
 */
export function monitorBatchMs(windowMs: number, intervalMs: number): number {
  return Math.max(intervalMs, Math.min(300_000, Math.max(60_000, Math.round(windowMs / 100))));
}
