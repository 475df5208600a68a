// tidegate's benchmarks: each prints a table and writes bench/results/<name>.json.
//   npm run bench                      all of them
//   npm run bench -- approval-switch   one (approval-switch, detection-rollback, overhead, history-events, concurrent-paused, codec, waves)
//   npm run bench -- judge-accuracy    the judges' accuracy on a real Prometheus and the simulator (≈ 60 min; not in "all")
//   npm run bench -- start-throughput  1,000 starts (BENCH_STARTS) from the client library (≈ 30 s plus a server; not in "all")
//   npm run bench -- worker-throughput releases per minute of 1, 2 and 4 workers sharing one in-memory world (≈ 5 min; not in "all")
//   npm run bench -- monitor-detection a fault after the switch on the whole local stack, worker alive and killed (≈ 8 min; not in "all")
//   BENCH_TEMPORAL=cluster npm run bench -- …   the same on the production-shaped cluster (frontend, history,
//                                      matching and worker services on PostgreSQL); results as <name>-cluster.json
// They run against the real Temporal dev server (the time-skipping server for history sizes) with
// in-memory cluster and metrics adapters that answer at once, so the figures are the orchestration's
// own cost — tidegate's workflow plus Temporal — not a cluster's or Prometheus's speed.
import { AesGcmCodec, dataConverterFor, parsePayloadKeys, payloadKeysFromEnv, type PayloadKey } from '../src/temporal/codec.js';
import { randomBytes } from 'node:crypto';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import '../test/support/quiet-runtime.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { Releases } from '../src/client/releases.js';
import { statusQuery } from '../src/workflows/definitions.js';
import { historyPayloads } from '../src/client/analysis-replay.js';
import { ManagedProcess } from '../devkit/stack/process.js';
import { repoRoot } from '../devkit/toolchain/tools.js';
import { createWorker } from '../src/workers/main.js';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../src/workers/tracing.js';
import { validateSpec, type ReleaseSpec } from '../src/spec/index.js';
import type { ReleaseStatus } from '../src/core/status.js';
import { startTestDevServer, tempDir } from '../devkit/testing/servers.js';
import { startTemporalCluster } from '../devkit/stack/temporal-cluster.js';
import { FakeWorld, pausedAt, specFor, startHarness } from '../devkit/testing/harness.js';
import { judgeAccuracy } from './judge-accuracy/index.js';
import { stackDown, stackEnv, stackUp } from '../devkit/stack/stack.js';
import { clusterView, startWorkerProcess, userEnv } from '../devkit/testing/e2e.js';
import { monitorFault } from '../devkit/testing/monitor-fault.js';
import { serveWorld } from '../devkit/testing/world-server.js';
import { routeByCluster } from '../src/activities/kubernetes/clusters.js';

/** Benchmarks encrypt as the production worker would when TIDEGATE_PAYLOAD_KEYS is set (the figures then include the codec). */
const benchKeys = ((keys) => (keys ? { payloadKeys: keys } : {}))(payloadKeysFromEnv(process.env));

const results = join(repoRoot, 'bench', 'results');

/** Which Temporal the benchmarks run on: the dev server (one process, SQLite) or the cluster on PostgreSQL. */
const TEMPORAL: 'dev' | 'cluster' = process.env.BENCH_TEMPORAL === 'cluster' ? 'cluster' : 'dev';
if (process.env.BENCH_TEMPORAL && !['dev', 'cluster'].includes(process.env.BENCH_TEMPORAL)) {
  console.error(`BENCH_TEMPORAL is dev (the default) or cluster, not ${process.env.BENCH_TEMPORAL}`);
  process.exit(2);
}

async function benchServer(): Promise<{ address: string; namespace: string; stop(): Promise<void> }> {
  if (TEMPORAL === 'dev') return startTestDevServer({ headless: true });
  const cluster = await startTemporalCluster({ dir: tempDir('bench-cluster'), headless: true });
  return { address: cluster.address, namespace: cluster.namespace, stop: () => cluster.stop() };
}
type Row = Record<string, string | number>;
/** The machine a result was measured on. */
const machine = { node: process.version, cpus: (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm) ?? []).length };

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

function report(name: string, what: string, rows: Row[], extra: Record<string, unknown> = {}): void {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  // judge accuracy runs on the stack's dev server, history sizes on the time-skipping server: neither on the cluster
  const onCluster = TEMPORAL === 'cluster' && name !== 'judge-accuracy' && name !== 'history-events';
  console.log(`\n${name} (${onCluster ? 'Temporal cluster on PostgreSQL' : 'Temporal dev server'}): ${what}`);
  console.log(columns.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(columns.map((c, i) => String(r[c]).padEnd(widths[i] ?? 0)).join('  '));
  mkdirSync(results, { recursive: true });
  const file = onCluster ? `${name}-cluster` : name;
  writeFileSync(join(results, `${file}.json`), `${JSON.stringify({ name, what, temporal: onCluster ? 'cluster: frontend, history, matching, worker on PostgreSQL' : name === 'history-events' ? 'time-skipping test server' : 'dev server (SQLite)', at: new Date().toISOString(), machine, rows, ...extra }, null, 2)}\n`);
}

/** A dev server and a worker in this process whose adapters are the in-memory world, timed. */
async function devWorld(payloadKeys = benchKeys.payloadKeys): Promise<{ releases: Releases; client: Client; world: FakeWorld; stamps: Map<string, number[]>; stop: () => Promise<void> }> {
  const server = await benchServer();
  const connection = await Connection.connect({ address: server.address });
  const world = new FakeWorld();
  const stamps = new Map<string, number[]>();
  const inner = world.activities();
  // every activity records when it completed, per release id (from the target/service it acts on)
  const timed = Object.fromEntries(
    Object.entries(inner).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        const out: unknown = await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        const key = `${name}`;
        stamps.set(key, [...(stamps.get(key) ?? []), Date.now()]);
        return out;
      },
    ]),
  ) as unknown as typeof inner;
  const { measure, watch, awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags, runHook, ...kubernetes } = timed;
  const { worker, close } = await createWorker({
    temporal: { address: server.address, namespace: server.namespace, ...(payloadKeys ? { payloadKeys } : {}) },
    taskQueue: 'bench',
    adapters: { kubernetes, metrics: { measure, watch }, github: { awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags }, hooks: { runHook } },
  });
  const running = (worker as Worker).run();
  const client = new Client({ connection, namespace: server.namespace, dataConverter: dataConverterFor(payloadKeys) });
  return {
    releases: new Releases(client, 'bench'),
    client,
    world,
    stamps,
    stop: async () => {
      worker.shutdown();
      await running;
      await close();
      await connection.close();
      await server.stop();
    },
  };
}

function spec(doc: Record<string, unknown>): ReleaseSpec {
  const r = validateSpec(doc);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.spec;
}
const production = (service: string, extra: Record<string, unknown>) => ({
  namespace: 'prod',
  blueGreen: { activeService: service, deploymentPrefix: service, scaleDownDelay: '1s' },
  ...extra,
});
/** Releases the overhead benchmark runs (the first one cold: a fresh worker and server). */
const OVERHEAD_RELEASES = 10;
const OVERHEAD_CONFIGURED_MS = 2_000 + 1_000 + 2_000 + 2_000 + 1_000; // pause, analysis interval, pause, monitor, scale-down delay
const SUCCESS = { query: 'ok{service="{{service}}",color="{{color}}"}', successCondition: '>= 0.99', interval: '1s', count: 1 };

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, pollMs = 5): Promise<T> {
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

const benchmarks: Record<string, () => Promise<void>> = {
  waves: wavesBench,
  /** From the approval that completes the gate (the update returning to the approver) to the switch done. */
  async 'approval-switch'() {
    const { releases, stamps, stop } = await devWorld();
    const samples: number[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const service = `appr-${i}`;
        const { releaseId } = await releases.start(
          spec({ service, version: '1.0.0', image: `r/${service}:1`, production: production(service, { approval: { approvers: ['alice'], timeout: '1h' } }) }),
          { initiator: 'ci' },
        );
        await until(() => releases.status(releaseId), (s) => s.stage === 'approval');
        const switchesBefore = stamps.get('switchActive')?.length ?? 0;
        const sent = Date.now();
        await releases.approve(releaseId, 'alice');
        const switched = await until(async () => stamps.get('switchActive') ?? [], (l) => l.length > switchesBefore, 1);
        samples.push((switched.at(-1) ?? NaN) - sent);
        await releases.result(releaseId);
      }
    } finally {
      await stop();
    }
    report('approval-switch', 'approve (update sent) → switchActive completed, 40 releases, ms', [
      { releases: samples.length, p50: round(quantile(samples, 0.5)), p99: round(quantile(samples, 0.99)), max: round(Math.max(...samples)), target_p99: '< 300' },
    ], { samples });
  },

  /** From the measurement that fails the canary to traffic restored (restoreTraffic completed). */
  async 'detection-rollback'() {
    const { releases, world, stamps, stop } = await devWorld();
    const samples: number[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const service = `det-${i}`;
        world.setMetric(service, 'green', 0.5);
        const measuresBefore = stamps.get('measure')?.length ?? 0;
        const restoresBefore = stamps.get('restoreTraffic')?.length ?? 0;
        const { releaseId } = await releases.start(
          spec({
            service, version: '1.0.0', image: `r/${service}:1`,
            production: production(service, { canary: { traffic: { router: 'replicas' }, steps: [{ setWeight: 10 }, { analysis: { analyses: ['ok'] } }] } }),
            analyses: { ok: SUCCESS },
          }),
          { initiator: 'ci' },
        );
        await releases.result(releaseId);
        const measured = stamps.get('measure')?.[measuresBefore] ?? NaN;
        const restored = stamps.get('restoreTraffic')?.[restoresBefore] ?? NaN;
        samples.push(restored - measured);
      }
    } finally {
      await stop();
    }
    report('detection-rollback', 'failing measurement returned → traffic restored, 20 releases, ms', [
      { releases: samples.length, p50: round(quantile(samples, 0.5)), p99: round(quantile(samples, 0.99)), max: round(Math.max(...samples)) },
    ], { samples });
  },

  /** Wall time of a full release minus the pauses, intervals and delays its spec configures. */
  async overhead() {
    const shapes: HistoryShape[] = [];
    const samples = await overheadSamples(OVERHEAD_RELEASES, benchKeys.payloadKeys, shapes);
    const shape = shapes.at(-1);
    report('overhead', `full release (staging verify, 5 canary steps, switch, monitor, scale-down) wall time minus ${OVERHEAD_CONFIGURED_MS} ms configured, ${OVERHEAD_RELEASES} releases (the first cold), ms`, [
      {
        releases: samples.length,
        p50: round(quantile(samples, 0.5)),
        max: round(Math.max(...samples)),
        'workflow tasks': shape?.workflowTasks ?? NaN,
        activities: shape?.activities ?? NaN,
        'local activities': shape?.localActivities ?? NaN,
        target: 'p50 < 500, max < 1000',
      },
    ], { samples, configuredMs: OVERHEAD_CONFIGURED_MS, shapes });
  },

  /** History events of releases with a 1-hour monitor window (time-skipping server: real durations). */
  async 'history-events'() {
    const rows: Row[] = [];
    for (const [label, patch] of [
      ['happy path, 1h monitor (success-rate every 30s)', () => undefined],
      ['happy path, 1h monitor + compare latency', (doc: Parameters<Parameters<typeof specFor>[2] & object>[0]) => {
        doc.analyses.latency = { kind: 'compare', query: 'latency{service="{{service}}",color="{{color}}"}', interval: '30s', count: 8 };
        doc.production.monitor = { duration: '1h', analyses: ['success-rate', 'latency'] };
      }],
    ] as const) {
      const h = await startHarness();
      try {
        const s = specFor('hist', '1.0.0', (doc) => {
          doc.production.monitor = { duration: '1h', analyses: ['success-rate'] };
          patch(doc);
        });
        const { releaseId } = await h.releases.start(s, { initiator: 'dave' });
        await h.until(releaseId, pausedAt('awaiting-promote', 5), 10_000);
        await h.releases.promote(releaseId, 'dave');
        await h.until(releaseId, (st) => st.stage === 'approval');
        await h.releases.approve(releaseId, 'alice');
        await h.releases.approve(releaseId, 'bob');
        const result = await h.finish(releaseId);
        const history = await h.env.client.workflow.getHandle(releaseId).fetchHistory();
        rows.push({ release: label, outcome: result.outcome, events: history.events?.length ?? 0, limit: 'target ≤ 2000 (Temporal warns at 10240)' });
      } finally {
        await h.stop();
      }
    }
    report('history-events', 'history events per release', rows);
  },

  /** 1,000 releases paused at once on one worker process: its RSS, and `status` latency. */
  async 'concurrent-paused'() {
    const count = Number(process.env.BENCH_PAUSED ?? 1000);
    const row = await pausedReleases(count, benchKeys.payloadKeys);
    const heap = /--max-old-space-size=(\d+)/.exec(process.env.BENCH_WORKER_NODE_ARGS ?? '')?.[1];
    const semi = /--max-semi-space-size=(\d+)/.exec(process.env.BENCH_WORKER_NODE_ARGS ?? '')?.[1];
    report(
      `concurrent-paused${process.env.TIDEGATE_MAX_CACHED_WORKFLOWS ? `-cache-${process.env.TIDEGATE_MAX_CACHED_WORKFLOWS}` : ''}${heap ? `-heap-${heap}` : ''}${semi ? `-semi-${semi}` : ''}`,
      `${count} releases paused at once on one worker process (each also holds a lock workflow); workflow cache ${process.env.TIDEGATE_MAX_CACHED_WORKFLOWS ?? 'SDK default'}; V8 old space ${heap ? `${heap} MB` : 'unbounded'}${semi ? `, semi-space ${semi} MB` : ''}`,
      [{ ...row, worker_node_args: process.env.BENCH_WORKER_NODE_ARGS ?? '', target: 'RSS < 400, status p99 < 100' }],
    );
  },

  /**
   * What payload encryption costs: AES-256-GCM per payload (a recorded release's own payloads), and
   * the same releases with and without keys — orchestration overhead of a full release, and the RSS
   * and `status` latency of a worker holding paused releases.
   */
  async codec() {
    const keys = [{ id: 'bench', key: randomBytes(32) }];
    const codec = new AesGcmCodec(keys);
    // the payloads of a recorded release (start input, every activity input and result, the result), in plaintext
    const fixtures = join(repoRoot, 'test', 'fixtures', 'histories');
    const recorded = new AesGcmCodec(parsePayloadKeys(readFileSync(join(fixtures, 'payload-keys'), 'utf8')));
    const history = historyFromJSON(JSON.parse(readFileSync(join(fixtures, 'encrypted-released.json'), 'utf8')));
    const payloads = historyPayloads(history.events ?? []).map((p) => recorded.decryptSync(p));
    const plainBytes = payloads.reduce((n, p) => n + (p.data?.length ?? 0), 0);
    const encrypted = await codec.encode(payloads);
    const cipherBytes = encrypted.reduce((n, p) => n + (p.data?.length ?? 0), 0);
    const rounds = 200;
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) await codec.decode(await codec.encode(payloads));
    const perRelease = (performance.now() - t0) / rounds;
    const micro: Row[] = [{
      payloads_per_release: payloads.length,
      plain_kb: round(plainBytes / 1024),
      encrypted_kb: round(cipherBytes / 1024),
      encode_decode_ms_per_release: round(perRelease, 2),
      us_per_payload: round((perRelease * 1000) / payloads.length),
    }];
    console.log(`codec: payloads of the recorded release encrypted-released, encrypted and decrypted ${rounds} times`);
    console.table(micro);

    const paused = Number(process.env.BENCH_CODEC_PAUSED ?? 300);
    const rows: Row[] = [];
    for (const [label, k] of [['plaintext', undefined], ['AES-256-GCM', keys]] as const) {
      const overhead = await overheadSamples(5, k);
      const row = await pausedReleases(paused, k);
      rows.push({
        payloads: label,
        overhead_p50_ms: round(quantile(overhead, 0.5)),
        overhead_max_ms: round(Math.max(...overhead)),
        paused_releases: row.paused_releases ?? paused,
        worker_rss_mb: row.worker_rss_mb ?? NaN,
        status_p50_ms: row.status_p50_ms ?? NaN,
        status_p99_ms: row.status_p99_ms ?? NaN,
      });
    }
    report('codec', `payload encryption's cost: a full release's orchestration overhead (5 releases) and a worker holding ${paused} paused releases, without and with keys`, rows, { micro });
  },

  /** 1,000 releases of 1,000 services started from the client library, 50 starts in flight, one worker. */
  async 'start-throughput'() {
    const row = await startThroughput(Number(process.env.BENCH_STARTS ?? 1000), Number(process.env.BENCH_START_CONCURRENCY ?? 50));
    report('start-throughput', `${row.releases} releases of as many services started from the client library (startMany, ${row.in_flight} in flight), one worker; a start returns once its release holds its lock (taken by the client)`, [row]);
  },

  /**
   * Releases per minute one worker completes with in-memory adapters, and with 2 and 4 workers on the
   * same queue sharing one in-memory world (served over HTTP by this process, as real workers share
   * one cluster). Each release is a whole release — lock, snapshot, canary step, switch, a 1 s
   * scale-down delay — started from the client library 50 at a time; a fresh server per row.
   */
  async 'worker-throughput'() {
    const count = Number(process.env.BENCH_THROUGHPUT_RELEASES ?? 200);
    const rows: Row[] = [];
    for (const n of (process.env.BENCH_THROUGHPUT_WORKERS ?? '1,2,4').split(',').map(Number)) {
      const server = await benchServer();
      const world = await serveWorld(new FakeWorld());
      const { workers, rss, stop: stopWorkers } = await benchWorkers(server, n, benchKeys.payloadKeys, { BENCH_WORLD_URL: world.url });
      const connection = await Connection.connect({ address: server.address });
      const releases = new Releases(new Client({ connection, namespace: server.namespace, dataConverter: dataConverterFor(benchKeys.payloadKeys) }), 'bench');
      try {
        const services = Array.from({ length: count }, (_, i) => `tp${n}-${String(i).padStart(4, '0')}`);
        const t0 = Date.now();
        const ids = await pool(services, 50, async (service) =>
          (await releases.start(spec({ service, version: '1.0.0', image: `r/${service}:1`, production: production(service, { canary: { traffic: { router: 'replicas' }, steps: [{ setWeight: 50 }] } }) }), { initiator: 'ci' })).releaseId,
        );
        const startedS = (Date.now() - t0) / 1000;
        const results = await pool(ids, 200, (id) => releases.result(id));
        const wallS = (Date.now() - t0) / 1000;
        const notReleased = results.filter((r) => r.outcome !== 'released');
        if (notReleased.length > 0) throw new Error(`${notReleased.length} of ${count} did not release: ${notReleased[0]?.outcome} ${notReleased[0]?.reason ?? ''}`);
        rows.push({
          workers: n,
          releases: count,
          all_started_s: round(startedS),
          all_released_s: round(wallS),
          releases_per_min: round((count / wallS) * 60),
          rss_mb_per_worker: workers.map((w) => round(rss(w), 0)).join(' / '),
        });
        console.log(`[worker-throughput] ${n} worker(s): ${count} releases in ${round(wallS)} s`);
      } finally {
        await stopWorkers();
        await connection.close();
        await world.close();
        await server.stop();
      }
    }
    report('worker-throughput', `whole releases completed per minute by 1, 2 and 4 worker processes on one queue (in-memory adapters, one shared world), ${count} releases started 50 at a time; this machine has ${machine.cpus} cores for the server, the workers and the benchmark`, rows);
  },

  /**
   * Issue [13]'s monitor-window fault on the whole local stack (kube-apiserver, Prometheus scraping
   * the traffic simulator every second, a `tidegate worker` process): the new version starts failing
   * 25% of its requests 20 s after the switch; in one row the worker is SIGKILLed 10 s later and
   * started again at once. Fault → the Service back on the old color (≈ 1 min a run; only when named).
   */
  async 'monitor-detection'() {
    const runs = Number(process.env.BENCH_MONITOR_RUNS ?? 3);
    const intervalMs = Number(process.env.BENCH_MONITOR_INTERVAL_MS ?? 10_000);
    const dir = tempDir('bench-monitor');
    const state = await stackUp({ dir, ...(TEMPORAL === 'cluster' ? { temporal: 'cluster' as const } : {}) });
    const env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci' });
    const view = clusterView(state.kubernetes?.kubeconfig ?? '');
    let worker = await startWorkerProcess(env, join(dir, 'worker.log'));
    const rows: Row[] = [];
    const samples: Record<string, unknown>[] = [];
    try {
      for (const kill of [false, true]) {
        const faultToBack: number[] = [];
        const restarts: number[] = [];
        for (let i = 0; i < runs; i++) {
          const r = await monitorFault({
            dir, env, view, worker, version: `3.${kill ? 1 : 0}.${i}`, intervalMs, failureLimit: 0, errorRate: 0.25, faultAfterMs: 20_000,
            ...(kill ? { killAfterMs: 10_000 } : {}), simUrl: env.TIDEGATE_SIM_URL ?? '',
          });
          worker = r.worker;
          if (r.status.outcome !== 'rolled-back' || !Number.isFinite(r.trafficBackAt)) throw new Error(`run ${i}${kill ? ' (worker killed)' : ''}: ${r.status.outcome ?? 'no outcome'} ${r.status.reason ?? ''}, traffic back ${r.trafficBackAt}`);
          faultToBack.push(r.trafficBackAt - r.faultAt);
          if (r.killedAt !== undefined && r.workerBackAt !== undefined) restarts.push(r.workerBackAt - r.killedAt);
          samples.push({ kill, faultToBackMs: r.trafficBackAt - r.faultAt, restartMs: r.workerBackAt !== undefined && r.killedAt !== undefined ? r.workerBackAt - r.killedAt : undefined, measurements: r.status.analyses.find((a) => a.stage === 'monitor')?.measurements.length });
          console.log(`[monitor-detection] ${kill ? 'worker killed' : 'worker alive'} run ${i + 1}/${runs}: fault → traffic back ${r.trafficBackAt - r.faultAt} ms`);
        }
        const restart = restarts.length > 0 ? quantile(restarts, 0.5) : 0;
        rows.push({
          worker: kill ? 'SIGKILLed 10 s after the fault, restarted' : 'alive',
          runs,
          interval_s: intervalMs / 1000,
          fault_to_traffic_back_p50_s: round(quantile(faultToBack, 0.5) / 1000),
          max_s: round(Math.max(...faultToBack) / 1000),
          worker_restart_p50_s: kill ? round(restart / 1000) : '—',
          target_s: `${round((intervalMs + 1_000 + restart) / 1000)} (interval + scrape${kill ? ' + restart' : ''})`,
        });
      }
    } finally {
      await worker.stop();
      await stackDown(dir);
    }
    report('monitor-detection', `a 25%-error fault 20 s after the switch, caught in the monitor window on the local stack (Prometheus scraping every 1 s, ${intervalMs / 1000} s analysis interval and rate window, failureLimit 0); fault → Service back on the old color`, rows, { samples });
  },

  /** A/A false rollbacks and A/B detection of both judges at the documented configs (≈ 60 min; only when named). */
  'judge-accuracy': () => judgeAccuracy(report),
};

/**
 * A release across 20 in-memory clusters in 4 waves of 5 (each wave's clusters at once, a 1 s bake),
 * on the dev server with the production worker: wall time minus what the spec configures along the
 * critical path, and the history events of the parent and of each cluster's release.
 */
async function wavesBench(): Promise<void> {
  const clusters = Array.from({ length: WAVES_CLUSTERS }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
  const worlds = new Map(clusters.map((c) => [`ctx-${c}`, new FakeWorld()]));
  const byName = new Map(clusters.map((c) => [c, worlds.get(`ctx-${c}`) as FakeWorld]));
  const server = await benchServer();
  const connection = await Connection.connect({ address: server.address });
  const of = (context: string | undefined): ReturnType<FakeWorld['activities']> => {
    const world = context === undefined ? undefined : worlds.get(context);
    if (!world) throw new Error(`no cluster with context ${context ?? '(none)'}`);
    return world.activities();
  };
  const measured = (query: string): ReturnType<FakeWorld['activities']> => (byName.get(/cluster="([^"]+)"/.exec(query)?.[1] ?? '') ?? new FakeWorld()).activities();
  const { awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags, runHook } = new FakeWorld().activities();
  const { worker, close } = await createWorker({
    temporal: { address: server.address, namespace: server.namespace, ...benchKeys },
    taskQueue: 'bench',
    adapters: {
      kubernetes: routeByCluster(of),
      metrics: { measure: async (r) => measured(r.query).measure(r), watch: async (r) => measured(r.query).watch(r) },
      github: { awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags },
      hooks: { runHook },
    },
  });
  const running = (worker as Worker).run();
  const client = new Client({ connection, namespace: server.namespace, dataConverter: dataConverterFor(benchKeys.payloadKeys) });
  const releases = new Releases(client, 'bench');
  const rows: Row[] = [];
  try {
    for (let run = 0; run < 2; run++) {
      const version = `1.0.${run}`;
      const doc = {
        service: 'checkout',
        version,
        image: `r/checkout:${version}`,
        production: production('checkout', {
          canary: { traffic: { router: 'replicas' }, steps: [{ setWeight: 10 }, { pause: { duration: '1s' } }, { analysis: { analyses: ['ok'] } }, { setWeight: 50 }] },
          monitor: { duration: '2s', analyses: ['ok'] },
        }),
        analyses: { ok: { ...SUCCESS, query: 'ok{service="{{service}}",color="{{color}}",cluster="{{cluster}}"}' } },
        clusters: Object.fromEntries(clusters.map((c) => [c, { context: `ctx-${c}` }])),
        waves: Array.from({ length: WAVES_COUNT }, (_, w) => ({ name: `w${w + 1}`, clusters: clusters.slice(w * (WAVES_CLUSTERS / WAVES_COUNT), (w + 1) * (WAVES_CLUSTERS / WAVES_COUNT)), maxParallel: WAVES_CLUSTERS / WAVES_COUNT, bake: '1s' })),
      };
      const started = Date.now();
      const { releaseId } = await releases.start(spec(doc), { initiator: 'ci' });
      const result = await releases.result(releaseId);
      const wall = Date.now() - started;
      if (result.outcome !== 'released') throw new Error(`${releaseId} ended ${result.outcome}: ${result.reason ?? ''}`);
      const eventsOf = async (id: string): Promise<number> => (await client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0;
      const parts = await Promise.all(clusters.map((c) => eventsOf(`${releaseId}/${c}`)));
      rows.push({
        run: run === 0 ? '1 (cold)' : String(run + 1),
        clusters: WAVES_CLUSTERS,
        waves: WAVES_COUNT,
        'wall s': round(wall / 1_000, 1),
        'configured s': WAVES_CONFIGURED_MS / 1_000,
        'overhead s': round((wall - WAVES_CONFIGURED_MS) / 1_000, 1),
        'parent events': await eventsOf(releaseId),
        'cluster events p50': quantile(parts, 0.5),
        'cluster events max': Math.max(...parts),
      });
    }
  } finally {
    worker.shutdown();
    await running;
    await close();
    await connection.close();
    await server.stop();
  }
  report('waves', `a release across ${WAVES_CLUSTERS} in-memory clusters in ${WAVES_COUNT} waves of ${WAVES_CLUSTERS / WAVES_COUNT} at once (1 s bake each), wall time over the ${WAVES_CONFIGURED_MS / 1_000} s its spec configures along the critical path; history events`, rows);
}
const WAVES_CLUSTERS = 20;
const WAVES_COUNT = 4;
/** Per wave: canary pause 1 s + one analysis interval 1 s + monitor 2 s + bake 1 s; then the scale-down delay 1 s once. */
const WAVES_CONFIGURED_MS = WAVES_COUNT * (1_000 + 1_000 + 2_000 + 1_000) + 1_000;

/** Run only when named: they take long. */
const ONLY_WHEN_NAMED = new Set(['judge-accuracy', 'start-throughput', 'monitor-detection', 'worker-throughput']);

const only = process.argv.slice(2);
const unknown = only.filter((n) => !(n in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
for (const [name, bench] of Object.entries(benchmarks)) {
  if (only.length > 0 ? !only.includes(name) : ONLY_WHEN_NAMED.has(name)) continue;
  await bench();
}
process.exit(0);


/** What a release's history is made of: its events, workflow tasks, activities and local activities. */
interface HistoryShape {
  events: number;
  workflowTasks: number;
  activities: number;
  localActivities: number;
}

/** Wall times of `n` full releases minus what their specs configure (pauses, intervals, delays), ms; each one's history shape into `shapes`. */
async function overheadSamples(n: number, payloadKeys = benchKeys.payloadKeys, shapes: HistoryShape[] = []): Promise<number[]> {
  const { releases, client, stop } = await devWorld(payloadKeys);
  const samples: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const service = `ovh-${i}`;
      const started = Date.now();
      const { releaseId } = await releases.start(
        spec({
          service, version: '1.0.0', image: `r/${service}:1`,
          staging: { namespace: 'staging', deployment: service, verify: ['ok'] },
          production: production(service, {
            canary: { traffic: { router: 'gateway-api', httpRoute: service }, steps: [{ setWeight: 10 }, { pause: { duration: '2s' } }, { analysis: { analyses: ['ok2'] } }, { setWeight: 50 }, { pause: { duration: '2s' } }] },
            monitor: { duration: '2s' },
          }),
          analyses: { ok: SUCCESS, ok2: { ...SUCCESS, count: 2 } },
        }),
        { initiator: 'ci' },
      );
      const result = await releases.result(releaseId);
      if (result.outcome !== 'released') throw new Error(`${releaseId} ${result.outcome}: ${result.reason ?? ''}`);
      samples.push(Date.now() - started - OVERHEAD_CONFIGURED_MS);
      const events = (await client.workflow.getHandle(releaseId).fetchHistory()).events ?? [];
      shapes.push({
        events: events.length,
        workflowTasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length,
        activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
        localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
      });
    }
  } finally {
    await stop();
  }
  return samples;
}

/**
 * bench/worker.ts compiled to one JavaScript module run by plain `node`, as a built worker runs (no
 * tsx loader, no TypeScript compiled at start). Written under node_modules/.cache so that its
 * packages, left out of the bundle, resolve from the repository's node_modules.
 */
async function compiledBenchWorker(): Promise<string> {
  const outfile = join(repoRoot, 'node_modules', '.cache', 'tidegate-bench', 'worker.mjs');
  const { build } = await import('esbuild');
  await build({ entryPoints: [join(repoRoot, 'bench', 'worker.ts')], outfile, bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
  return outfile;
}

/** Bench worker processes (bench/worker.ts compiled: the production createWorker, in-memory adapters, a prebuilt workflow bundle, as `npm run build` makes) on task queue "bench". */
async function benchWorkers(server: { address: string }, n: number, payloadKeys: PayloadKey[] | undefined, extraEnv: Record<string, string> = {}): Promise<{ workers: ManagedProcess[]; rss: (w: ManagedProcess) => number; stop: () => Promise<void> }> {
  const dir = tempDir('bench-worker');
  const bundle = join(dir, 'workflow-bundle.js');
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  writeFileSync(bundle, (await bundleWorkflowCode({ workflowsPath: join(repoRoot, 'src', 'workflows', 'index.ts'), workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES], logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } })).code);
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, TEMPORAL_ADDRESS: server.address, TIDEGATE_WORKFLOW_BUNDLE: bundle };
  delete env.NODE_OPTIONS;
  delete env.TIDEGATE_PAYLOAD_KEYS_FILE;
  if (payloadKeys) env.TIDEGATE_PAYLOAD_KEYS = payloadKeys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
  else delete env.TIDEGATE_PAYLOAD_KEYS;
  const workers: ManagedProcess[] = [];
  const script = await compiledBenchWorker();
  for (let i = 0; i < n; i++) {
    const log = join(dir, `worker-${i}.log`);
    workers.push(await ManagedProcess.start({
      name: `bench worker ${i}`,
      command: process.execPath,
      // BENCH_WORKER_NODE_ARGS: node flags of the worker process, e.g. a heap bound (--max-old-space-size=MB)
      args: [...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), script],
      env,
      logFile: log,
      ready: async () => readFileSync(log, 'utf8').includes('bench worker ready'),
    }));
  }
  return {
    workers,
    rss: (w) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${w.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
async function pool<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await task(items[i] as T);
  }));
  return out;
}

/** A release that pauses at its canary's second step until promoted (or aborted). */
function pausedSpec(service: string): ReleaseSpec {
  return spec({ service, version: '1.0.0', image: `r/${service}:1`, production: production(service, { canary: { traffic: { router: 'replicas' }, steps: [{ setWeight: 10 }, { pause: {} }] } }) });
}

/** `count` releases paused at once on one worker process (the production worker, a prebuilt bundle): its RSS and `status` latency. */
async function pausedReleases(count: number, payloadKeys: PayloadKey[] | undefined): Promise<Row> {
  const server = await benchServer();
  const { workers, rss: rssOf, stop: stopWorkers } = await benchWorkers(server, 1, payloadKeys);
  const worker = workers[0] as ManagedProcess;
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace, dataConverter: dataConverterFor(payloadKeys) });
  const releases = new Releases(client, 'bench');
  const rss = (): number => rssOf(worker);
  const ids: string[] = [];
  try {
    const rssIdle = rss();
    const started = Date.now();
    const queued = await releases.startMany(Array.from({ length: count }, (_, i) => pausedSpec(`p${String(i).padStart(4, '0')}`)), { initiator: 'ci' }, 25);
    for (const q of queued) {
      if (!('releaseId' in q)) throw q.refused;
      ids.push(q.releaseId);
    }
    // every release paused at its canary step; a query sent while the worker still works through the
    // burst can wait out the server's deadline behind the queued workflow tasks ("query timed out
    // before a worker could process it", as `status --watch` reports and retries): asked again, counted
    let burstTimeouts = 0;
    const pausedStatus = async (id: string): Promise<ReleaseStatus | undefined> => {
      try {
        return await releases.status(id);
      } catch (err) {
        if (!/timed out|DEADLINE_EXCEEDED/i.test(`${String(err)} ${String((err as { cause?: unknown }).cause)}`)) throw err;
        burstTimeouts++;
        return undefined;
      }
    };
    for (const id of ids) await until(() => pausedStatus(id), (s) => Boolean(s?.pausedFor), 20);
    const startMs = Date.now() - started;
    const latencies: number[] = [];
    for (let i = 0; i < 300; i++) {
      const id = ids[Math.floor(Math.random() * ids.length)] ?? '';
      const t = performance.now();
      await releases.status(id);
      latencies.push(performance.now() - t);
    }
    // where a status's time goes: its two calls timed apart, on other random releases (describe is the
    // server alone; the query of a release the worker no longer caches is a replay of its history)
    const describeMs: number[] = [];
    const queryMs: number[] = [];
    for (let i = 0; i < 100; i++) {
      const handle = client.workflow.getHandle(ids[Math.floor(Math.random() * ids.length)] ?? '');
      const t = performance.now();
      await handle.describe();
      describeMs.push(performance.now() - t);
      const q = performance.now();
      await handle.query(statusQuery);
      queryMs.push(performance.now() - q);
    }
    return {
      paused_releases: ids.length,
      workflows: ids.length * 2,
      start_all_s: round(startMs / 1000),
      status_timeouts_in_burst: burstTimeouts,
      worker_rss_idle_mb: round(rssIdle),
      worker_rss_mb: round(rss()),
      status_p50_ms: round(quantile(latencies, 0.5)),
      status_p99_ms: round(quantile(latencies, 0.99)),
      status_slowest_ms: latencies.sort((a, b) => b - a).slice(0, 5).map((x) => Math.round(x)).join(' / '),
      describe_p50_p99_ms: `${round(quantile(describeMs, 0.5))} / ${round(quantile(describeMs, 0.99))}`,
      query_p50_p99_ms: `${round(quantile(queryMs, 0.5))} / ${round(quantile(queryMs, 0.99))}`,
      cached_workflows: process.env.TIDEGATE_MAX_CACHED_WORKFLOWS ?? 'default',
    };
  } finally {
    // the releases are not aborted: the server is thrown away with them
    await stopWorkers();
    await connection.close();
    await server.stop();
  }
}

/**
 * `count` releases of `count` services started from the client library with `concurrency` starts in
 * flight, on one worker: a start returns once its release holds its service lock, which the client
 * takes (startMany), so a start does not wait behind the worker's other releases.
 */
async function startThroughput(count: number, concurrency: number): Promise<Row> {
  const server = await benchServer();
  const { stop: stopWorkers } = await benchWorkers(server, 1, benchKeys.payloadKeys);
  const connection = await Connection.connect({ address: server.address });
  const releases = new Releases(new Client({ connection, namespace: server.namespace, dataConverter: dataConverterFor(benchKeys.payloadKeys) }), 'bench');
  const services = Array.from({ length: count }, (_, i) => `s${String(i).padStart(4, '0')}`);
  const latencies: number[] = [];
  try {
    const t0 = Date.now();
    await pool(services, concurrency, async (service) => {
      const t = performance.now();
      const [started] = await releases.startMany([pausedSpec(service)], { initiator: 'ci' });
      if (!started || !('queued' in started)) throw new Error(`${service} was not queued: ${JSON.stringify(started)}`);
      latencies.push(performance.now() - t);
    });
    const allMs = Date.now() - t0;
    return {
      releases: count,
      in_flight: concurrency,
      all_started_s: round(allMs / 1000),
      starts_per_s: round(count / (allMs / 1000)),
      start_p50_ms: round(quantile(latencies, 0.5)),
      start_p99_ms: round(quantile(latencies, 0.99)),
      target: 'all < 60 s',
    };
  } finally {
    // the releases are not aborted: the server is thrown away with them (aborting 1,000 took longer than starting them)
    await stopWorkers();
    await connection.close();
    await server.stop();
  }
}

