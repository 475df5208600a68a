// What the judge-accuracy benchmark records and where its runs fall, pure. Simulated services come
// in three kinds, each at one canary weight (the canary is green, the stable baseline blue):
//   aa   both colors run healthy images: every analysis on them is an A/A run;
//   bad  the canary's image is faulty for the whole recording: a bad version from its first request;
//   mid  the canary turns faulty at known times and healthy again: a fault that starts mid-run.
// Runs on the same service never read overlapping stretches of time, so each run reads requests no
// other run of its row reads; different services are independent.
import type { BenchConfig } from './configs.js';
import { firstAtOf, spanOf, type StepShape } from './replay.js';
import { seededRandom as seeded } from '../../devkit/simulator/requests.js';

export type Kind = 'aa' | 'bad' | 'mid';

/** How a faulty canary behaves (the simulator's behaviour fields); the rest stays healthy. */
export const FAULTS = {
  'errors 25%': { errorRate: 0.25 },
  'errors 5%': { errorRate: 0.05 },
  'p95 ×2': { latencyMs: { p50: 20, p95: 120 } },
  'p95 +20%': { latencyMs: { p50: 20, p95: 72 } },
} as const;
export type FaultName = keyof typeof FAULTS;
export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

/** Slack around every fault switch: a scrape (1 s), a simulator tick, and some. */
export const MARGIN_MS = 3_000;
/** Between two runs on the same service. */
const GAP_MS = 1_000;

export interface PlannedService {
  service: string;
  kind: Kind;
  weight: number;
  fault?: FaultName;
  /** mid: the fault-period group (healthy lead, fault length) of the configs whose steps it serves. */
  group?: string;
  /** mid: when each fault starts and ends, ms after the recording's start. */
  faults?: { on: number; off: number }[];
}

export interface PlanOptions {
  recordingMs: number;
  /** Nothing is measured before this (Prometheus's first scrapes). */
  warmupMs: number;
  /** Runs wanted per row: A/A, bad from the start, fault mid-run. */
  targets: { aa: number; bad: number; mid: number };
}

export interface Plan {
  services: PlannedService[];
  options: PlanOptions;
  /** `<config>@<weight>` → the mid-run service group its steps at that weight use. */
  groups: Record<string, string>;
}

/** The analysis a mid-run fault is timed against: the step's fastest threshold analysis (its guard), else its first. */
export function referenceOf(step: StepShape): StepShape['analyses'][number] {
  const thresholds = step.analyses.filter((a) => a.spec.kind === 'threshold').sort((a, b) => a.spec.interval - b.spec.interval);
  const ref = thresholds[0] ?? step.analyses[0];
  if (!ref) throw new Error('a step without analyses');
  return ref;
}

/** Step runs of `span` that fit one after another in a recording. */
export function tilesPerService(step: StepShape, o: PlanOptions): number {
  const { from, to } = spanOf(step);
  return Math.max(0, Math.floor((o.recordingMs - o.warmupMs + GAP_MS) / (to - from + GAP_MS)));
}

/**
 * A mid-run fault period for a step: the healthy lead a run needs before the fault (its windows
 * must hold only healthy traffic up to the fault, which falls up to one reference interval after
 * the first measurement) and how long the fault must last (until the run's last possible
 * measurement when the fault falls right at its first one).
 */
export function faultPeriod(step: StepShape): { healthyMs: number; faultyMs: number } {
  const { from, to } = spanOf(step);
  const ref = referenceOf(step);
  const first = firstAtOf(step, ref.spec);
  return { healthyMs: first + ref.spec.interval - from + MARGIN_MS, faultyMs: to - first + MARGIN_MS };
}

function stepsAt(configs: readonly BenchConfig[], weight: number): StepShape[] {
  return configs.flatMap((c) => c.steps.filter((s) => s.weight === weight));
}

const pad = (n: number): string => String(n).padStart(3, '0');
const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export function makePlan(configs: readonly BenchConfig[], options: PlanOptions): Plan {
  const weights = [...new Set(configs.flatMap((c) => c.steps.map((s) => s.weight)))].sort((a, b) => a - b);
  const services: PlannedService[] = [];
  const groups: Record<string, string> = {};
  const made = new Set<string>();
  for (const weight of weights) {
    const steps = stepsAt(configs, weight);
    const tiles = Math.min(...steps.map((s) => tilesPerService(s, options)));
    if (tiles < 1) throw new Error(`a ${weight}% step does not fit in a ${options.recordingMs / 60_000}-minute recording`);
    const aa = Math.ceil(options.targets.aa / tiles);
    for (let i = 0; i < aa; i++) services.push({ service: `aa-w${weight}-${pad(i)}`, kind: 'aa', weight });
    const bad = Math.ceil(options.targets.bad / tiles);
    for (const fault of FAULT_NAMES) for (let i = 0; i < bad; i++) services.push({ service: `bad-w${weight}-${slug(fault)}-${pad(i)}`, kind: 'bad', weight, fault });
    for (const config of configs) {
      const own = config.steps.filter((s) => s.weight === weight);
      if (own.length === 0) continue;
      const periods = own.map(faultPeriod);
      const healthyMs = Math.max(...periods.map((p) => p.healthyMs));
      const faultyMs = Math.max(...periods.map((p) => p.faultyMs));
      // configs whose steps at this weight need the same fault periods share their mid-run services
      const group = `${healthyMs / 1000}s-${faultyMs / 1000}s`;
      groups[`${config.name}@${weight}`] = group;
      if (made.has(`${weight}/${group}`)) continue;
      made.add(`${weight}/${group}`);
      const faults: { on: number; off: number }[] = [];
      for (let on = options.warmupMs + healthyMs; on + faultyMs <= options.recordingMs; on += healthyMs + faultyMs) faults.push({ on, off: on + faultyMs });
      if (faults.length === 0) throw new Error(`${config.name}: a ${weight}% fault period does not fit in the recording`);
      const n = Math.ceil(options.targets.mid / faults.length);
      for (const fault of FAULT_NAMES) {
        for (let i = 0; i < n; i++) services.push({ service: `mid-${slug(group)}-w${weight}-${slug(fault)}-${pad(i)}`, kind: 'mid', weight, fault, group, faults });
      }
    }
  }
  return { services, options, groups };
}

/** A step run to replay: on which service, with its traffic change at `changedAt`, and its fault. */
export interface PlacedRun {
  service: string;
  kind: Kind;
  fault?: FaultName;
  changedAt: number;
  /** When the canary turned faulty: at the traffic change (bad), or mid-run (mid). */
  faultAt?: number;
  /** mid: where the fault fell in the reference analysis's first interval (0..1). */
  u?: number;
}

/** Actual fault switches, as the simulator applied them (ms since the epoch). */
export type FaultLog = Map<string, { on: number; off: number }[]>;

/**
 * Where the runs of one step fall, once the recording is done: back to back on the aa and bad
 * services of its weight, and one per fault on the mid services of its config's group, with the fault at
 * a seeded-random point of the reference analysis's first interval.
 */
export function placeRuns(plan: Plan, config: string, step: StepShape, t0: number, faultLog: FaultLog): PlacedRun[] {
  const o = plan.options;
  const { from, to } = spanOf(step);
  const runs: PlacedRun[] = [];
  const tiles = tilesPerService(step, o);
  for (const s of plan.services.filter((x) => x.weight === step.weight && (x.kind === 'aa' || x.kind === 'bad'))) {
    for (let k = 0; k < tiles; k++) {
      const changedAt = t0 + o.warmupMs - from + k * (to - from + GAP_MS);
      runs.push({ service: s.service, kind: s.kind, ...(s.fault ? { fault: s.fault, faultAt: changedAt } : {}), changedAt });
    }
  }
  const ref = referenceOf(step);
  const first = firstAtOf(step, ref.spec);
  const group = plan.groups[`${config}@${step.weight}`];
  for (const s of plan.services.filter((x) => x.weight === step.weight && x.kind === 'mid' && x.group === group)) {
    const log = faultLog.get(s.service) ?? [];
    const random = seeded(hash(`${s.service}/${step.weight}/${step.pauseMs}`));
    log.forEach((f, k) => {
      const u = random();
      const changedAt = f.on - u * ref.spec.interval - first;
      const clearedBefore = k === 0 ? t0 : (log[k - 1]?.off ?? t0);
      if (changedAt + from < clearedBefore + MARGIN_MS / 2 || changedAt + to > f.off - MARGIN_MS / 2) {
        throw new Error(`${s.service}: a run around the fault at ${new Date(f.on).toISOString()} does not fit its period`);
      }
      runs.push({ service: s.service, kind: 'mid', ...(s.fault ? { fault: s.fault } : {}), changedAt, faultAt: f.on, u });
    });
  }
  return runs;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
