// `npm run bench -- judge-accuracy`: how often the threshold and compare judges roll back a healthy
// canary (A/A) and catch a faulty one (A/B), at the documented analysis configs, on the real stack
// pieces: a real Prometheus scraping the real traffic simulator every second. Live, 300 analyses of
// 9 minutes would take 45 hours, so the benchmark records once and replays offline: it runs the
// simulator with hundreds of services at fixed weights (healthy, faulty from the start, or faulty
// at known times) for ~46 minutes, then replays every canary analysis step of every config against
// that Prometheus with the real adapter, at the times the workflow would measure, judged by the
// real judges (replay.ts). Prints a table and writes bench/results/judge-accuracy.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrometheusActivities } from '../../src/activities/prometheus/index.js';
import type { MeasureRequest, TimedObservation } from '../../src/activities/types.js';
import { simulatorConfigSchema, completeBehaviour } from '../../devkit/simulator/config.js';
import { StaticRouting, staticView } from '../../devkit/simulator/routing.js';
import { startSimulator } from '../../devkit/simulator/simulator.js';
import { freePort } from '../../devkit/stack/ports.js';
import { startPrometheus } from '../../devkit/stack/prometheus.js';
import { documentedConfigs, type BenchConfig } from './configs.js';
import { FAULTS, makePlan, placeRuns, referenceOf, type FaultLog, type Plan, type PlacedRun } from './plan.js';
import { replayStep, type Measure, type StepOutcome, type StepShape, type Target } from './replay.js';
import { lowerBound, quantile, upperBound } from './stats.js';
import { variantConfigs } from './variants.js';

type Row = Record<string, string | number>;
export type Report = (name: string, what: string, rows: Row[], extra?: Record<string, unknown>) => void;

const minutes = Number(process.env.BENCH_JA_MINUTES ?? 46);
const scale = Number(process.env.BENCH_JA_SCALE ?? 1);
const OPTIONS = {
  recordingMs: minutes * 60_000,
  warmupMs: 30_000,
  targets: { aa: Math.ceil(600 * scale), bad: Math.ceil(100 * scale), mid: Math.ceil(100 * scale) },
};
/** Runs replayed per row at most (spread over the row's services). */
const MAX_RUNS = Number(process.env.BENCH_JA_MAX_RUNS ?? 1000);
const RPS = 100;
const SCRAPE_MS = 1_000;

const log = (line: string): void => console.log(`[judge-accuracy ${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The adapter's measure, retried on a backend error: offline, an error is the benchmark's problem, not a finding. */
function retrying(measure: Measure): Measure {
  return async (request: MeasureRequest): Promise<TimedObservation[]> => {
    for (let attempt = 0; ; attempt++) {
      const out = await measure(request);
      const failed = out.find((o) => o.observation.kind === 'error');
      if (!failed) return out;
      if (attempt >= 4) throw new Error(`Prometheus keeps failing: ${failed.observation.kind === 'error' ? failed.observation.message : ''}`);
      await sleep(1_000 * (attempt + 1));
    }
  };
}

async function record(plan: Plan, dir: string): Promise<{ t0: number; faultLog: FaultLog; prometheusUrl: string; stop: () => Promise<void>; rps: { nominal: number; measured: number } }> {
  const images: Record<string, { errorRate?: number; latencyMs?: { p50: number; p95: number } }> = {};
  for (const s of plan.services) if (s.kind === 'bad' && s.fault) images[`bench/${s.service}:canary`] = FAULTS[s.fault];
  const config = simulatorConfigSchema.parse({
    services: plan.services.map((s) => ({ service: s.service, requestsPerSecond: RPS, production: { namespace: 'prod', activeService: s.service, deploymentPrefix: s.service } })),
    images,
  });
  const routing = new StaticRouting(
    Object.fromEntries(plan.services.map((s) => [s.service, staticView({ blue: 100 - s.weight, green: s.weight }, { blue: `bench/${s.service}:stable`, green: `bench/${s.service}:canary` })])),
  );
  const port = await freePort();
  const sim = await startSimulator({ config, routing, port, pollMs: 5_000 });
  const prometheus = await startPrometheus({ dir, jobs: [{ job: 'simulator', targets: [`127.0.0.1:${port}`] }], scrapeInterval: `${SCRAPE_MS / 1000}s` });
  const t0 = Date.now();
  log(`recording ${plan.services.length} services (${plan.services.length * RPS} requests/s) for ${minutes} min into ${prometheus.url}`);
  const faultLog: FaultLog = new Map();
  const timers: NodeJS.Timeout[] = [];
  const switches = plan.services.flatMap((s) => (s.faults ?? []).map((f) => ({ s, f })));
  let switched = 0;
  for (const { s, f } of switches) {
    const image = encodeURIComponent(`bench/${s.service}:canary`);
    const entry = { on: NaN, off: NaN };
    faultLog.set(s.service, [...(faultLog.get(s.service) ?? []), entry]);
    const behaviour = completeBehaviour(FAULTS[s.fault ?? 'errors 25%']);
    timers.push(
      setTimeout(() => {
        void fetch(`${sim.url}/images/${image}`, { method: 'PUT', body: JSON.stringify(behaviour) }).then(() => {
          entry.on = Date.now();
          switched++;
        });
      }, t0 + f.on - Date.now()),
      setTimeout(() => {
        void fetch(`${sim.url}/images/${image}`, { method: 'DELETE' }).then(() => {
          // the fault ends when the override is gone: take the time the request was sent
          entry.off = Date.now();
        });
      }, t0 + f.off - Date.now()),
    );
  }
  const end = t0 + OPTIONS.recordingMs + 2 * SCRAPE_MS;
  while (Date.now() < end) {
    await sleep(Math.min(60_000, end - Date.now()));
    log(`recorded ${((Date.now() - t0) / 60_000).toFixed(1)} of ${minutes} min; ${switched} of ${switches.length} faults started`);
  }
  timers.forEach(clearTimeout);
  await sim.stop();
  const measured = await createPrometheusActivities({ url: prometheus.url }).measure({ query: `sum(increase(http_requests_total[${Math.floor((OPTIONS.recordingMs - OPTIONS.warmupMs) / 1000)}s]))` });
  const first = measured[0]?.observation;
  const total = first?.kind === 'value' ? Number(first.value) : NaN;
  return {
    t0,
    faultLog,
    prometheusUrl: prometheus.url,
    stop: () => prometheus.stop(),
    rps: { nominal: plan.services.length * RPS, measured: Math.round(total / ((OPTIONS.recordingMs - OPTIONS.warmupMs) / 1000)) },
  };
}

/** Runs of one row evenly over its services, at most `max`. */
function spread<T extends { service: string }>(runs: T[], max: number): T[] {
  if (runs.length <= max) return runs;
  const byService = new Map<string, T[]>();
  for (const r of runs) byService.set(r.service, [...(byService.get(r.service) ?? []), r]);
  const out: T[] = [];
  for (let k = 0; out.length < max; k++) {
    let any = false;
    for (const list of byService.values()) {
      const r = list[k];
      if (r && out.length < max) {
        out.push(r);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}

interface Replayed {
  config: string;
  step: string;
  shape: StepShape;
  run: PlacedRun;
  outcome: StepOutcome;
}

async function pool<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>, progress: (done: number) => void): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await work(items[i] as T);
        if (++done % 500 === 0) progress(done);
      }
    }),
  );
  return out;
}

/** The scenario a run belongs to: A/A, or a fault from the start / mid-run. */
function scenarioOf(run: PlacedRun): string {
  if (run.kind === 'aa') return 'A/A';
  return `${run.fault ?? '?'} ${run.kind === 'bad' ? 'from start' : 'mid-run'}`;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(x < 0.1 && x > 0 ? 2 : 1)}%` : '—');
const secs = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(1) : '—');

interface Unit {
  unit: string;
  judge: string;
  /** Interval of the target "2 intervals plus a scrape". */
  intervalMs: number;
  pick: (o: StepOutcome) => { verdict: string; at: number; phase: string };
}

function unitsOf(shape: StepShape): Unit[] {
  const analyses: Unit[] = shape.analyses.map((a, i) => ({
    unit: a.name,
    judge: a.spec.kind,
    intervalMs: a.spec.interval,
    pick: (o) => {
      const x = o.analyses[i];
      return { verdict: x?.verdict ?? '?', at: x?.at ?? NaN, phase: x?.phase ?? '?' };
    },
  }));
  if (shape.analyses.length < 2) return analyses;
  const ref = referenceOf(shape);
  return [...analyses, { unit: 'step', judge: 'step', intervalMs: ref.spec.interval, pick: (o) => ({ verdict: o.verdict, at: o.at, phase: o.verdict }) }];
}

function summarise(replayed: Replayed[]): { rows: Row[]; details: Record<string, unknown>[] } {
  const rows: Row[] = [];
  const details: Record<string, unknown>[] = [];
  const groups = new Map<string, Replayed[]>();
  for (const r of replayed) {
    const key = `${r.config}\u0000${r.step}\u0000${scenarioOf(r.run)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const list of groups.values()) {
    const first = list[0];
    if (!first) continue;
    const scenario = scenarioOf(first.run);
    for (const u of unitsOf(first.shape)) {
      const picked = list.map((r) => ({ r, ...u.pick(r.outcome) }));
      const n = picked.length;
      const rollbacks = picked.filter((p) => p.verdict === 'rollback');
      const pauses = picked.filter((p) => p.verdict === 'pause').length;
      const row: Row = { config: first.config, step: first.step, unit: u.unit, judge: u.judge, scenario, runs: n, rollbacks: rollbacks.length, rate: pct(rollbacks.length / n), bound95: '', paused: pct(pauses / n), in_target: '—', median_s: '—', p95_s: '—', mw_p_below_alpha: '—', median_ratio: '—' };
      const detail: Record<string, unknown> = { config: first.config, step: first.step, unit: u.unit, judge: u.judge, scenario, runs: n, rollbacks: rollbacks.length, paused: pauses, phases: countBy(picked.map((p) => p.phase)) };
      if (first.run.kind === 'aa') {
        row.bound95 = `≤ ${pct(upperBound(rollbacks.length, n))}`;
        detail.falseRollbackUpper95 = upperBound(rollbacks.length, n);
        detail.falseRollbacks = rollbacks.slice(0, 50).map((p) => ({ service: p.r.run.service, changedAt: new Date(p.r.run.changedAt).toISOString(), reasons: p.r.outcome.analyses.filter((a) => a.verdict === 'rollback').map((a) => `${a.name}: ${a.reason ?? ''}`) }));
      } else {
        const from = (p: (typeof picked)[number]): number => p.at - (p.r.run.faultAt ?? p.r.run.changedAt);
        const times = rollbacks.map(from);
        const early = rollbacks.filter((p) => from(p) < 0).length;
        const deadline = 2 * u.intervalMs + SCRAPE_MS;
        row.bound95 = `≥ ${pct(lowerBound(rollbacks.length, n))}`;
        if (first.run.kind === 'mid') {
          const inTarget = rollbacks.filter((p) => from(p) >= 0 && from(p) <= deadline).length;
          row.in_target = `${pct(inTarget / n)} ≤${secs(deadline)}s`;
          detail.inTarget = { deadlineSeconds: deadline / 1000, runs: inTarget };
        }
        row.median_s = secs(quantile(times, 0.5));
        row.p95_s = secs(quantile(times, 0.95));
        if (early > 0) {
          row.rate = `${row.rate} (${early} before the fault)`;
          detail.beforeFault = early;
        }
        detail.detectionLower95 = lowerBound(rollbacks.length, n);
        detail.misses = picked.filter((p) => p.verdict !== 'rollback').slice(0, 20).map((p) => ({ service: p.r.run.service, changedAt: new Date(p.r.run.changedAt).toISOString(), u: p.r.run.u, phases: p.r.outcome.analyses.map((a) => `${a.name}: ${a.phase}${a.reason ? ` (${a.reason})` : ''}`) }));
        detail.secondsToVerdict = { median: quantile(times, 0.5) / 1000, p95: quantile(times, 0.95) / 1000, max: times.length ? Math.max(...times) / 1000 : null };
      }
      if (u.judge === 'compare') {
        const seen = list.flatMap((r) => r.outcome.analyses.find((a) => a.name === u.unit)?.compare ?? []);
        const alpha = 1 - ((first.shape.analyses.find((a) => a.name === u.unit)?.spec as { confidence?: number }).confidence ?? 0.95);
        const ps = seen.map((s) => s.pValue).filter((p): p is number => p !== undefined);
        const ratios = seen.filter((s) => s.medians && s.medians.baseline > 0).map((s) => (s.medians?.canary ?? NaN) / (s.medians?.baseline ?? NaN));
        row.mw_p_below_alpha = pct(ps.filter((p) => p < alpha).length / Math.max(1, ps.length));
        row.median_ratio = quantile(ratios, 0.5).toFixed(3);
        detail.compare = {
          alpha,
          pBelowAlpha: ps.filter((p) => p < alpha).length,
          tested: ps.length,
          classifications: countBy(seen.map((s) => s.classification)),
          canaryOverBaselineMedian: { p5: quantile(ratios, 0.05), p50: quantile(ratios, 0.5), p95: quantile(ratios, 0.95) },
          samples: { canary: quantile(seen.map((s) => s.n.canary), 0.5), baseline: quantile(seen.map((s) => s.n.baseline), 0.5) },
        };
      }
      rows.push(row);
      details.push(detail);
    }
  }
  return { rows, details };
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export async function judgeAccuracy(report: Report): Promise<void> {
  const only = process.env.BENCH_JA_CONFIGS?.split(',');
  const configs: BenchConfig[] = [...documentedConfigs(), ...variantConfigs()].filter((c) => !only || only.includes(c.name));
  const plan = makePlan(configs, OPTIONS);
  for (const c of configs) for (const s of c.steps) log(`${c.name} ${s.label}: ${s.analyses.map((a) => `${a.name} (${a.spec.kind})`).join(', ')}; starts ${s.pauseMs / 1000}s after the weight change`);
  const dir = mkdtempSync(join(tmpdir(), 'tidegate-judge-accuracy-'));
  const recorded = await record(plan, dir);
  try {
    log(`recorded: ${recorded.rps.measured} requests/s measured in Prometheus (nominal ${recorded.rps.nominal})`);
    const measure = retrying(createPrometheusActivities({ url: recorded.prometheusUrl, timeoutMs: 60_000 }).measure);
    const work: { config: string; step: string; shape: StepShape; run: PlacedRun }[] = [];
    for (const c of configs) {
      for (const s of c.steps) {
        const runs = placeRuns(plan, c.name, s, recorded.t0, recorded.faultLog);
        const byScenario = new Map<string, PlacedRun[]>();
        for (const r of runs) byScenario.set(scenarioOf(r), [...(byScenario.get(scenarioOf(r)) ?? []), r]);
        for (const list of byScenario.values()) for (const run of spread(list, MAX_RUNS)) work.push({ config: c.name, step: s.label, shape: s, run });
      }
    }
    log(`replaying ${work.length} step runs against Prometheus`);
    const started = Date.now();
    const replayed = await pool(
      work,
      6,
      async (w): Promise<Replayed> => {
        const target: Target = { service: w.run.service, canary: 'green', baseline: 'blue', namespace: 'prod', version: '1.0.0' };
        return { ...w, outcome: await replayStep(measure, w.shape, target, w.run.changedAt) };
      },
      (done) => log(`replayed ${done} of ${work.length} (${((Date.now() - started) / 1000).toFixed(0)} s)`),
    );
    const { rows, details } = summarise(replayed);
    report(process.env.BENCH_JA_NAME ?? 'judge-accuracy', `canary analysis verdicts on recorded traffic (${RPS} requests/s per service, Prometheus scraping every ${SCRAPE_MS / 1000} s), replayed at the workflow's measurement times`, rows, {
      how: {
        recording: `${plan.services.length} simulated services for ${minutes} min (first ${OPTIONS.warmupMs / 1000} s unused), ${RPS} requests/s each, canary green at the step's weight, baseline blue; measured ${recorded.rps.measured} requests/s`,
        runs: 'offline replay (bench/judge-accuracy/replay.ts) with the real Prometheus adapter and src/core judges at the times the workflow measures; runs on one service never read overlapping time',
        aa: 'both colors run healthy images (0.05% errors, p50 20 ms, p95 60 ms)',
        fromStart: 'the canary image is faulty for the whole recording; time to verdict is from the traffic change',
        midRun: "the canary turns faulty at a seeded-random point of the reference analysis's first interval (the step's fastest threshold analysis); time to verdict is from the fault; in_target = rolled back within 2 intervals + a scrape of it",
        faults: FAULTS,
        verdicts: 'rollback = Failed, or Inconclusive under onInconclusive: rollback; paused = Inconclusive under pause (counted apart, not a rollback); the step rolls back at the first rollback of any of its analyses',
        plan: { ...OPTIONS, maxRunsPerRow: MAX_RUNS, services: countBy(plan.services.map((s) => `${s.kind} ${s.weight}%`)) },
      },
      configs: configs.map((c) => ({ name: c.name, source: c.source, note: c.note, steps: c.steps.map((s) => ({ label: s.label, weight: s.weight, startsAfterMs: s.pauseMs, analyses: s.analyses.map((a) => ({ name: a.name, ...a.spec })) })) })),
      details,
    });
  } finally {
    await recorded.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
