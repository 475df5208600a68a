// `npm run demo` (`tidegate demo`): the whole product on this machine in a few minutes. It brings
// up the local stack (or uses the one already up), runs a worker, releases the sample service
// through every stage with live progress — approvals by you through the CLI, or by the listed demo
// approvers with --auto-approve — then releases a version that breaks under production traffic and
// shows the automatic rollback, prints a summary table, and stops everything it started.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { exitCodeFor, type ReleaseResult, type ReleaseStatus } from '../core/status.js';
import { parseSpec, formatProblem } from '../spec/index.js';
import { defaultStackDir, stackDown, stackEnv, stackReset, stackStatus, stackUp } from '../stack/stack.js';
import { repoRoot } from '../stack/tools.js';
import { adaptersFromEnv, createWorker } from '../workers/main.js';
import type { CliIO } from './cli.js';
import { Releases } from './releases.js';

export interface DemoOptions {
  autoApprove: boolean;
  /** Leave the stack running at the end (it is stopped only if the demo started it). */
  keep: boolean;
}

const SPEC = join(repoRoot, 'examples', 'checkout', 'release.yaml');
const GOOD = { version: '1.1.0', image: 'registry.local/checkout:1.1.0' };
const BROKEN = { version: '1.2.0', image: 'registry.local/checkout:1.2.0' };

interface Row {
  release: string;
  outcome: string;
  exit: number;
  seconds: number;
  analyses: string;
  note: string;
}

const fmtSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export async function runDemo(io: Pick<CliIO, 'stdout' | 'stderr' | 'env'>, options: DemoOptions): Promise<number> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const say = (line = ''): void => io.stdout(`${line}\n`);
  const dir = defaultStackDir();
  mkdirSync(dir, { recursive: true });
  const wasUp = (await stackStatus(dir)).every((s) => s.up);
  say(wasUp ? `Using the local stack already up (${dir}).` : 'Bringing up the local stack: Temporal + Web UI, Kubernetes control plane, traffic simulator, Prometheus, GitHub fake…');
  const state = await stackUp({ dir, log: (l) => io.stderr(`  ${l}\n`) });
  const env = { ...io.env, ...stackEnv(state) };
  await stackReset(dir);
  const { adapters, configured } = adaptersFromEnv(env);
  const { worker, close } = await createWorker({ temporal: { address: env.TEMPORAL_ADDRESS ?? '', namespace: env.TEMPORAL_NAMESPACE ?? 'default' }, taskQueue: env.TIDEGATE_TASK_QUEUE || 'tidegate', adapters });
  const running = worker.run();
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS ?? '' });
  const releases = new Releases(new Client({ connection, namespace: env.TEMPORAL_NAMESPACE ?? 'default' }), env.TIDEGATE_TASK_QUEUE || undefined);
  const rows: Row[] = [];
  say('');
  say(`Temporal Web UI    ${state.temporal?.uiUrl ?? '?'}`);
  say(`worker adapters    ${configured.join(', ')}`);
  say(`sample service     examples/checkout (blue live on registry.local/checkout:1.0.0)`);
  say('');
  try {
    // 1. a healthy release through every stage
    rows.push(await release(GOOD, 'a healthy release'));
    // 2. a release that works in staging and breaks under production traffic
    rows.push(await release(BROKEN, 'a release that fails 25% of production requests', true));
  } finally {
    say('');
    say('release            outcome       exit  duration  analyses                                  ');
    say('-----------------  ------------  ----  --------  ------------------------------------------');
    for (const r of rows) say(`${r.release.padEnd(17)}  ${r.outcome.padEnd(12)}  ${String(r.exit).padEnd(4)}  ${fmtSeconds(r.seconds * 1000).padStart(8)}  ${r.analyses}`);
    for (const r of rows.filter((x) => x.note)) say(`  ${r.release}: ${r.note}`);
    say('');
    say(`Every stage, measurement, approval and undo is in the Temporal UI: ${state.temporal?.uiUrl ?? ''}`);
    worker.shutdown();
    await running;
    await close();
    await connection.close();
    if (!wasUp && !options.keep) {
      io.stderr('stopping the local stack it started…\n');
      await stackDown(dir);
    } else {
      io.stderr(`the stack keeps running: npm run stack -- down stops it\n`);
    }
  }
  return rows.every((r) => r.exit === (r.release.endsWith(BROKEN.version) ? 10 : 0)) ? 0 : 1;

  async function release(which: { version: string; image: string }, title: string, breakInProduction = false): Promise<Row> {
    const parsed = parseSpec(readFileSync(SPEC, 'utf8'), which);
    if (!parsed.ok) throw new Error(`examples/checkout/release.yaml is invalid: ${parsed.problems.map(formatProblem).join('; ')}`);
    say(`== ${title}: tidegate start -f examples/checkout/release.yaml --version ${which.version} --image ${which.image}`);
    const started = Date.now();
    const { releaseId } = await releases.start(parsed.spec, { initiator: 'demo-ci' });
    let shown = 0;
    let injected = false;
    let approvalsAsked = false;
    for (;;) {
      const s: ReleaseStatus = await releases.status(releaseId);
      for (const t of s.timeline.slice(shown)) say(`  +${fmtSeconds(Date.parse(t.at) - Date.parse(s.startedAt)).padStart(6)}  ${t.stage ? `[${t.stage}] ` : ''}${t.event}`);
      shown = s.timeline.length;
      if (s.outcome) break;
      if (breakInProduction && !injected && s.stage === 'canary') {
        injected = true;
        await fetch(`${env.TIDEGATE_SIM_URL}/images/${encodeURIComponent(which.image)}`, { method: 'PUT', body: JSON.stringify({ errorRate: 0.25, latencyMs: { p50: 45, p95: 300 } }) });
        say(`  (simulator: ${which.image} now fails 25% of its requests — it passed staging, production traffic breaks it)`);
      }
      if (s.stage === 'approval' && !approvalsAsked) {
        approvalsAsked = true;
        if (options.autoApprove) {
          for (const who of ['alice', 'bob']) {
            await releases.approve(releaseId, who, 'approved by the demo (--auto-approve)');
          }
        } else {
          say('');
          say('  Waiting for 2 approvals. In another shell:');
          say(`    eval "$(npm run -s stack -- env)"`);
          say(`    ./bin/tidegate.js approve ${releaseId} --as alice --comment "canary looks good"`);
          say(`    ./bin/tidegate.js approve ${releaseId} --as bob`);
          say(`  (or reject: ./bin/tidegate.js reject ${releaseId} --as carol --reason "…")`);
          say('');
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const result: ReleaseResult = await releases.result(releaseId);
    const analyses = result.status.analyses.map((a) => `${a.analysis}@${a.stage}:${a.phase === 'Successful' ? 'ok' : a.phase}`).join(' ');
    let note = '';
    const failedRun = result.status.analyses.find((a) => a.phase === 'Failed');
    const back = result.status.timeline.find((t) => t.event.startsWith('rollback: return'));
    if (failedRun?.endedAt && back) note = `${failedRun.analysis} failed at ${failedRun.stage}; traffic back on the stable color ${fmtSeconds(Date.parse(back.at) - Date.parse(failedRun.endedAt))} after the verdict`;
    say(`== ${releaseId}: ${result.outcome}${result.reason ? ` — ${result.reason}` : ''}`);
    say('');
    return { release: releaseId, outcome: result.outcome, exit: exitCodeFor(result), seconds: (Date.now() - started) / 1000, analyses: analyses.slice(0, 60), note };
  }
}
