// Drift: the cluster's traffic no longer where this release left it, because someone or something
// else (a GitOps sync, a reset script, a person with kubectl) changed the route or the selector.
// Acting on a stale picture is how a release tool causes an outage: scaling down the color that
// serves again, or "restoring" traffic over a deliberate change. So before every step that moves
// traffic or takes capacity away, the workflow reads where traffic goes now and compares it with
// what it expects; these pure functions say what it expects and whether the two differ.
import type { Color, ProductionSnapshot } from './snapshot.js';
import type { TrafficSpec } from './release-spec.js';
import { COLORS, weightsFor, type Weights } from './traffic.js';

/** Where a service's production traffic goes, as read from the cluster. Payload-safe. */
export interface TrafficState {
  /** The color the active Service selects; null when it selects neither label value (the replicas router's canary selects both). */
  selected: Color | null;
  /** The router's split in percent; absent without a weighted router (none, or `replicas`). {0, 0}: it routes to neither color. */
  weights?: Weights;
  /** Desired replicas per color. */
  replicas: Record<Color, number>;
}

/** What the release left in place: the part of TrafficState that it sets and others may change. */
export interface ExpectedTraffic {
  selected: Color | null;
  weights?: Weights;
}

type Router = TrafficSpec['router'] | undefined;

/** Routers whose split is read from a routing object (the others have no weights to compare). */
const weighted = (router: Router): boolean => router === 'gateway-api' || router === 'istio' || router === 'nginx';

/**
 * Traffic as the snapshot found it, before the release changed anything.
 *
 *   snapshot {active blue, weights {blue 100, green 0}}, gateway-api → {selected blue, weights {100, 0}}
 *   snapshot {active blue}, replicas                                → {selected blue}
 */
export function expectedFromSnapshot(snapshot: Pick<ProductionSnapshot, 'activeColor' | 'weights'>, router: Router): ExpectedTraffic {
  return { selected: snapshot.activeColor, ...(weighted(router) && snapshot.weights ? { weights: { ...snapshot.weights } } : {}) };
}

/**
 * Traffic after the release sent `weight` percent to `color` while `stable` stays live.
 *
 *   green 10 over blue, gateway-api → {selected blue, weights {blue 90, green 10}}
 *   green 10 over blue, replicas    → {selected null}  (the Service selects both colors' pods)
 *   green 0 over blue, replicas     → {selected blue}
 */
export function expectedAfterWeight(router: Router, stable: Color, color: Color, weight: number): ExpectedTraffic {
  if (router === 'replicas') return { selected: weight > 0 ? null : stable };
  return { selected: stable, ...(weighted(router) ? { weights: weightsFor(color, weight) } : {}) };
}

/** Traffic after the switch made `color` live. */
export function expectedAfterSwitch(router: Router, color: Color): ExpectedTraffic {
  return { selected: color, ...(weighted(router) ? { weights: weightsFor(color, 100) } : {}) };
}

const selectorText = (c: Color | null): string => (c === null ? 'both colors' : c);
const weightsText = (w: Weights): string => (w.blue + w.green === 0 ? 'neither color' : `blue ${w.blue}% / green ${w.green}%`);

/**
 * How the traffic read now differs from what the release expects, or undefined when it does not.
 *
 *   expected {selected green, weights {0, 100}}, observed {selected blue, weights {100, 0}}
 *     → 'the active Service selects blue (expected green); the router sends blue 100% / green 0% (expected blue 0% / green 100%)'
 */
export function trafficDrift(expected: ExpectedTraffic, observed: TrafficState): string | undefined {
  const differences: string[] = [];
  if (expected.selected !== observed.selected) {
    differences.push(`the active Service selects ${selectorText(observed.selected)} (expected ${selectorText(expected.selected)})`);
  }
  if (expected.weights) {
    const seen = observed.weights;
    if (!seen || seen.blue !== expected.weights.blue || seen.green !== expected.weights.green) {
      differences.push(`the router sends ${seen ? weightsText(seen) : 'nothing it can read'} (expected ${weightsText(expected.weights)})`);
    }
  }
  return differences.length > 0 ? differences.join('; ') : undefined;
}

/**
 * The colors that take production traffic now: a share of the router's split, or the active
 * Service's selection (in-cluster callers use the Service directly); with a selector over both
 * colors, every color that has replicas. Scaling one of these down is an outage.
 *
 *   {selected blue, weights {blue 0, green 100}}          → [blue, green]
 *   {selected null, replicas {blue 3, green 1}}            → [blue, green]
 *   {selected green, weights {blue 0, green 100}}          → [green]
 */
export function servingColors(observed: TrafficState): Color[] {
  return COLORS.filter((c) => (observed.weights?.[c] ?? 0) > 0 || observed.selected === c || (observed.selected === null && observed.replicas[c] > 0));
}

/**
 * Whether traffic is where this release's own doing can have put it: where the release left it, back
 * as before, or half-way back — the router's split as before, the active Service's selection not yet
 * (a traffic undo puts the router back first, then the Services). Anything else — a split nobody of
 * this release set, or the Service moved back with the router not — is someone else's doing. (The
 * monitor's watch runs the traffic undo and, retried after a lost worker or a failed call, must
 * finish its own half-done undo, not leave it alone; so must the rollback after it.)
 *
 *   left {green, 0/100}, before {blue, 100/0}: observed {green, 0/100}  → true  (as left)
 *                                              observed {green, 100/0}  → true  (the router back, the Service not yet)
 *                                              observed {blue, 100/0}   → true  (all back)
 *                                              observed {blue, 0/100}   → false (the Service moved back by hand)
 *                                              observed {green, 30/70}  → false (someone split it)
 *   left {green}, before {blue} (no router):   observed {null}          → false (the Service selects both colors)
 */
export function ownTraffic(left: ExpectedTraffic, before: ExpectedTraffic, observed: TrafficState): boolean {
  const halfBack: ExpectedTraffic = { selected: left.selected, ...(before.weights ? { weights: before.weights } : {}) };
  return [left, before, halfBack].some((e) => trafficDrift(e, observed) === undefined);
}

/** Whether the traffic now is as the snapshot had it (nothing left for a traffic rollback to do). */
export function matchesSnapshot(snapshot: Pick<ProductionSnapshot, 'activeColor' | 'weights'>, router: Router, observed: TrafficState): boolean {
  return trafficDrift(expectedFromSnapshot(snapshot, router), observed) === undefined;
}
