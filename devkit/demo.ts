// `npm run demo`: the whole product on this machine in a few minutes. It installs
// the servers first if this machine lacks them (devkit/toolchain/setup.sh), brings up the local stack (or uses
// the one already up), runs a worker, releases the sample service through every stage with live
// progress — approvals by you through the CLI, or by the listed demo approvers with --auto-approve —
// then releases a version that breaks under production traffic and shows the automatic rollback,
// prints a summary table, and stops everything it started. Every run releases versions of its own
// (1.1.0 and 1.2.0, then 1.1.0-demo.2 and 1.2.0-demo.2, …): the stack's Temporal history outlives
// the stack, and a release id that already ran would only show its old outcome.
import { AesGcmCodec } from '../src/temporal/codec.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TASK_QUEUE, releaseId as makeReleaseId } from '../src/core/ids.js';
import { exitCodeFor, type ReleaseResult, type ReleaseStatus } from '../src/core/status.js';
import { parseSpec, formatProblem } from '../src/spec/index.js';
import { ensureTools } from './toolchain/setup.js';
import { defaultStackDir, stackClusters, stackDown, stackEnv, stackReset, stackStatus, stackUp } from './stack/stack.js';
import { waveStatusLines } from '../src/core/waves.js';
import { repoRoot } from './toolchain/tools.js';
import { adaptersFromEnv, createWorker } from '../src/workers/main.js';
import { installWorkerRuntimeOrWarn } from '../src/workers/runtime.js';
import type { CliIO } from '../src/client/cli.js';
import { connectClient, temporalSettings } from '../src/temporal/connection.js';
import { Releases } from '../src/client/releases.js';
import { summarizeAnalyses } from '../src/client/render.js';
import { attest, renderAttestation } from '../src/client/verify.js';
import { sshKeygenSigner } from '../src/signing/sign.js';

export interface DemoOptions {
  autoApprove: boolean;
  /** Leave the stack running at the end (it is stopped only if the demo started it). */
  keep: boolean;
  /** 3: a stack of three clusters, and the releases across them in two waves (examples/checkout/release-waves.yaml). */
  clusters?: number;
}

const SPEC = join(repoRoot, 'examples', 'checkout', 'release.yaml');
/** The release across three clusters in two waves, for a stack of three (`--clusters 3`). */
const WAVES_SPEC = join(repoRoot, 'examples', 'checkout', 'release-waves.yaml');
const SERVICE = 'checkout';

interface Version {
  version: string;
  image: string;
}

/**
 * This run's healthy and broken versions: the first pair of 1.1.0 / 1.2.0 (with a `-demo.<n>`
 * suffix from the second run on) that no release on this Temporal server has used. Images are
 * registry.local/checkout:<version>; the simulator treats images it does not list as healthy, and
 * the demo makes the broken one fail through its admin API once it is in production.
 */
export async function demoVersions(client: Client, releases: Releases): Promise<{ good: Version; broken: Version }> {
  // The list (visibility) may lag a release that just ended; describe() of each candidate does not.
  const used = new Set((await releases.list({ service: SERVICE }, 1_000)).map((r) => r.version));
  const exists = async (version: string): Promise<boolean> => {
    try {
      await client.workflow.getHandle(makeReleaseId(SERVICE, version)).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  };
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? '' : `-demo.${n}`;
    const [good, broken] = [`1.1.0${suffix}`, `1.2.0${suffix}`];
    if (used.has(good) || used.has(broken) || (await exists(good)) || (await exists(broken))) continue;
    return { good: { version: good, image: `registry.local/checkout:${good}` }, broken: { version: broken, image: `registry.local/checkout:${broken}` } };
  }
}

interface Row {
  release: string;
  outcome: string;
  exit: number;
  seconds: number;
  analyses: string;
  note: string;
}

const fmtSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** The demo approvers, and who starts the demo's releases (each signs with a key of its own). */
const APPROVERS = ['alice', 'bob'];
const INITIATOR = 'demo-ci';

/**
 * SSH keys for the demo approvers and initiator (made once with ssh-keygen, kept in the stack's directory) and
 * the allowed signers file listing them, which the demo's worker trusts.
 */
export function demoKeys(dir: string): { keyOf: (who: string) => string; allowedSigners: string } {
  const keys = join(dir, 'demo-keys');
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  const keyOf = (who: string): string => join(keys, who);
  const lines = [...APPROVERS, INITIATOR].map((who) => {
    if (!existsSync(keyOf(who))) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${who} (tidegate demo)`, '-f', keyOf(who)]);
    return `${who} ${readFileSync(`${keyOf(who)}.pub`, 'utf8').trim()}`;
  });
  const allowedSigners = join(keys, 'allowed_signers');
  writeFileSync(allowedSigners, `# the demo approvers' keys (npm run demo)\n${lines.join('\n')}\n`);
  return { keyOf, allowedSigners };
}

export async function runDemo(io: Pick<CliIO, 'stdout' | 'stderr' | 'env'>, options: DemoOptions): Promise<number> {
  const say = (line = ''): void => io.stdout(`${line}\n`);
  await ensureTools((line) => io.stderr(`${line}\n`));
  const dir = defaultStackDir();
  mkdirSync(dir, { recursive: true });
  const wasUp = (await stackStatus(dir)).every((s) => s.up);
  say(wasUp ? `Using the local stack already up (${dir}).` : 'Bringing up the local stack: Temporal + Web UI, Kubernetes control plane, traffic simulator, Prometheus, GitHub fake…');
  // What the demo starts it also stops (unless --keep), so it must not outlive a killed demo either.
  const waves = (options.clusters ?? 1) > 1;
  const state = await stackUp({ dir, log: (l) => io.stderr(`  ${l}\n`), guard: !options.keep, ...(waves ? { clusters: options.clusters } : {}) });
  const specFile = waves ? WAVES_SPEC : SPEC;
  const env = { ...io.env, ...stackEnv(state) };
  // before the worker's connection: the stack's Prometheus scrapes this worker at TIDEGATE_METRICS_ADDRESS
  installWorkerRuntimeOrWarn(env, 'WARN', (line) => io.stderr(`${line}\n`));
  await stackReset(dir);
  const settings = temporalSettings(env);
  const taskQueue = env.TIDEGATE_TASK_QUEUE || TASK_QUEUE;
  const { adapters, configured } = adaptersFromEnv(env);
  const keys = demoKeys(dir);
  adapters.signing = { allowedSignersFile: keys.allowedSigners, requireSigned: false };
  configured.push(`allowed signers (${keys.allowedSigners})`);
  const { worker, close } = await createWorker({ temporal: settings, taskQueue, adapters });
  const running = worker.run();
  const { client, close: closeClient } = await connectClient(settings);
  const releases = new Releases(client, taskQueue);
  const simulator = env.TIDEGATE_SIM_URL ?? '';
  // across clusters, the broken version fails only in the last cluster (its own simulator): the last wave's
  const lastCluster = waves ? (env.TIDEGATE_SIM_URLS ?? '').split(',').at(-1)?.split('=') : undefined;
  const faulty = lastCluster?.[1] ?? simulator;
  const clearFault = (image: string): Promise<unknown> => fetch(`${faulty}/images/${encodeURIComponent(image)}`, { method: 'DELETE' }).catch(() => undefined);
  const rows: Row[] = [];
  const expected: number[] = [];
  let broken: Version | undefined;
  try {
    const versions = await demoVersions(client, releases);
    broken = versions.broken;
    say('');
    say(`Temporal Web UI    ${state.temporal?.uiUrl ?? '?'}`);
    say(`worker adapters    ${configured.join(', ')}`);
    say(`sample service     examples/checkout (blue live on registry.local/checkout:1.0.0)${waves ? ` in ${options.clusters ?? 3} clusters (contexts ${stackClusters(state).map((c) => c.context).join(', ')})` : ''}`);
    say(`this run releases  ${versions.good.version} (healthy) and ${versions.broken.version} (breaks in production)`);
    say('');
    // 1. a healthy release through every stage
    expected.push(0);
    rows.push(await release(versions.good, 'a healthy release'));
    // 2. a release that works in staging and breaks under production traffic
    expected.push(10);
    rows.push(await release(versions.broken, waves ? `a release that fails 25% of production requests in ${lastCluster?.[0] ?? 'the last cluster'} only (the last wave)` : 'a release that fails 25% of production requests', true));
  } finally {
    const width = Math.max(17, ...rows.map((r) => r.release.length));
    say('');
    say(`${'release'.padEnd(width)}  outcome       exit  duration  analyses`);
    say(`${'-'.repeat(width)}  ------------  ----  --------  ------------------------------------------`);
    for (const r of rows) say(`${r.release.padEnd(width)}  ${r.outcome.padEnd(12)}  ${String(r.exit).padEnd(4)}  ${fmtSeconds(r.seconds * 1000).padStart(8)}  ${r.analyses}`);
    for (const r of rows.filter((x) => x.note)) say(`  ${r.release}: ${r.note}`);
    say('');
    say(`Every stage, measurement, approval and undo is in the Temporal UI: ${state.temporal?.uiUrl ?? ''}`);
    if (broken) await clearFault(broken.image);
    worker.shutdown();
    await running;
    await close();
    await closeClient();
    if (!wasUp && !options.keep) {
      io.stderr('stopping the local stack it started…\n');
      await stackDown(dir);
    } else {
      io.stderr(`the stack keeps running: npm run stack -- down stops it\n`);
    }
  }
  return rows.length === expected.length && rows.every((r, i) => r.exit === expected[i]) ? 0 : 1;

  async function release(which: Version, title: string, breakInProduction = false): Promise<Row> {
    const parsed = parseSpec(readFileSync(specFile, 'utf8'), which);
    const shown_ = specFile.slice(repoRoot.length + 1);
    if (!parsed.ok) throw new Error(`${shown_} is invalid: ${parsed.problems.map(formatProblem).join('; ')}`);
    say(`== ${title}: tidegate start -f ${shown_} --version ${which.version} --image ${which.image}`);
    const started = Date.now();
    const { releaseId, created } = await releases.start(parsed.spec, { initiator: INITIATOR, signer: sshKeygenSigner(keys.keyOf(INITIATOR)) });
    if (!created) throw new Error(`${releaseId} already ran on this Temporal server; the demo releases versions of its own`);
    let shown = 0;
    let injected = false;
    let approvalsAsked = false;
    for (;;) {
      const s: ReleaseStatus = await releases.status(releaseId);
      for (const t of s.timeline.slice(shown)) say(`  +${fmtSeconds(Date.parse(t.at) - Date.parse(s.startedAt)).padStart(6)}  ${t.stage ? `[${t.stage}] ` : ''}${t.event}`);
      shown = s.timeline.length;
      if (s.outcome) break;
      if (breakInProduction && !injected && (s.stage === 'canary' || (waves && s.stage !== 'lock'))) {
        injected = true;
        await fetch(`${faulty}/images/${encodeURIComponent(which.image)}`, { method: 'PUT', body: JSON.stringify({ errorRate: 0.25, latencyMs: { p50: 45, p95: 300 } }) });
        say(
          waves
            ? `  (simulator of ${lastCluster?.[0] ?? 'the last cluster'}: ${which.image} fails 25% of its requests there — healthy in the other clusters)`
            : `  (simulator: ${which.image} now fails 25% of its requests — it passed staging, production traffic breaks it)`,
        );
      }
      if (s.stage === 'approval' && !approvalsAsked) {
        approvalsAsked = true;
        if (options.autoApprove) {
          for (const who of APPROVERS) {
            await releases.approve(releaseId, who, 'approved by the demo (--auto-approve)', sshKeygenSigner(keys.keyOf(who)));
          }
        } else {
          say('');
          say('  Waiting for 2 approvals, signed with the demo approvers\' SSH keys. In another shell:');
          say(`    eval "$(npm run -s stack -- env)"`);
          say(`    ./bin/tidegate.js approve ${releaseId} --as alice --key ${keys.keyOf('alice')} --comment "canary looks good"`);
          say(`    ./bin/tidegate.js approve ${releaseId} --as bob --key ${keys.keyOf('bob')}`);
          say(`  (or reject: ./bin/tidegate.js reject ${releaseId} --as bob --key ${keys.keyOf('bob')} --reason "…")`);
          say('');
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const result: ReleaseResult = await releases.result(releaseId);
    let note = '';
    const failedRun = result.status.analyses.find((a) => a.phase === 'Failed');
    const back = result.status.timeline.find((t) => t.code === 'rollback-step' && t.undo === 'restoreTraffic');
    if (failedRun?.endedAt && back) note = `${failedRun.analysis} failed at ${failedRun.stage}; traffic back on the stable color ${fmtSeconds(Date.parse(back.at) - Date.parse(failedRun.endedAt))} after the verdict`;
    // across clusters the analyses ran in each cluster's release: the note is the rollback's order
    if (result.status.waves) note = waveStatusLines(result.status.waves).find((l) => l.startsWith('rollback, newest first: ')) ?? '';
    say(`== ${releaseId}: ${result.outcome}${result.reason ? ` — ${result.reason}` : ''}`);
    if (result.status.waves) for (const line of waveStatusLines(result.status.waves)) say(`  ${line}`);
    if (result.status.services.some((svc) => svc.approvals.length > 0)) {
      // what an auditor runs: tidegate verify <release> --allowed-signers <file>
      say(`  tidegate verify ${releaseId} --allowed-signers ${keys.allowedSigners}:`);
      // the stack encrypts payloads: the auditor reads the history with the same keys
      const codec = settings.payloadKeys ? new AesGcmCodec(settings.payloadKeys) : undefined;
      const attestation = await attest(await client.workflow.getHandle(releaseId).fetchHistory(), readFileSync(keys.allowedSigners, 'utf8'), releaseId, codec ? { codec } : {});
      for (const line of renderAttestation(attestation).split('\n')) say(`    ${line}`);
    }
    say('');
    return { release: releaseId, outcome: result.outcome, exit: exitCodeFor(result), seconds: (Date.now() - started) / 1000, analyses: summarizeAnalyses(result.status.analyses, 60), note };
  }
}
