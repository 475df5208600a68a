// The CLI against the real Temporal dev server and a real worker (the production createWorker, with
// the in-memory cluster as its Kubernetes/metrics adapters): exit codes and messages.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { runCli } from '../../src/client/cli.js';
import { repoRoot, toolPath } from '../../devkit/toolchain/tools.js';
import { createWorker } from '../../src/workers/main.js';
import type { DevServer } from '../../devkit/stack/temporal.js';
import { startTestDevServer, tempDir } from '../../devkit/testing/servers.js';
import { FakeWorld } from '../../devkit/testing/harness.js';

const run = promisify(execFile);
let server: DevServer & { dir: string };
let connection: Connection;
let world: FakeWorld;
let worker: Worker;
let running: Promise<void>;
let closeWorker: () => Promise<void>;
const dir = tempDir('cli');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI's IO against the test's server, as carol, writing to `stdout` / `stderr` as it goes. */
function cliIO(stdout: (t: string) => void, stderr: (t: string) => void): Parameters<typeof runCli>[1] {
  return {
    stdout,
    stderr,
    env: { TEMPORAL_ADDRESS: server.address, TIDEGATE_USER: 'carol' },
    connect: async () => ({ client: new Client({ connection, namespace: server.namespace }), close: async () => undefined }),
    pollMs: 200,
  };
}

async function cli(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, cliIO((t) => void (stdout += t), (t) => void (stderr += t)));
  return { code, stdout, stderr };
}

function specFile(name: string, doc: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

/** A quick spec: staging verify (1s interval), approval, switch; the old color scaled down after 1s. */
function quickSpec(service: string, version: string): string {
  return specFile(`${service}-${version}`, {
    service,
    version,
    image: `registry.local/${service}:${version}`,
    staging: { namespace: 'staging', deployment: service, verify: ['errors'] },
    production: {
      namespace: 'prod',
      blueGreen: { activeService: service, deploymentPrefix: service, scaleDownDelay: '1s' },
      approval: { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, timeout: '24h' },
    },
    analyses: { errors: { query: 'ok{service="{{service}}",color="{{color}}"}', successCondition: '>= 0.99', interval: '1s', count: 2 } },
  });
}

async function untilStage(id: string, stage: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { stdout } = await cli('status', id, '--json');
    if ((JSON.parse(stdout) as { stage: string }).stage === stage) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${id} never reached ${stage}`);
}

/** The test's worker, on the world's in-memory adapters (started again after a test stops it). */
async function startWorker(): Promise<void> {
  const { measure, watch, awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags, runHook, ...kubernetes } = world.activities();
  ({ worker, close: closeWorker } = await createWorker({
    temporal: { address: server.address, namespace: server.namespace },
    taskQueue: 'tidegate',
    adapters: { kubernetes, metrics: { measure, watch }, github: { awaitChecks, dispatchWorkflow, createDeployment, setDeploymentStatus, setCommitStatus, listTags }, hooks: { runHook } },
  }));
  running = worker.run();
}

beforeAll(async () => {
  server = await startTestDevServer();
  connection = await Connection.connect({ address: server.address });
  world = new FakeWorld();
  await startWorker();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await closeWorker?.();
  await connection?.close();
  await server?.stop();
});

test('validate: exit 0 for a valid spec, 2 naming the field for an invalid one (the real bin)', async () => {
  const bin = join(repoRoot, 'bin/tidegate.js');
  const ok = await run(process.execPath, [bin, 'validate', '-f', join(repoRoot, 'test/fixtures/specs/checkout.yaml')], { env: { ...process.env, NODE_OPTIONS: '' } });
  expect(ok.stdout).toContain('valid — checkout@1.4.2');
  const bad = await run(process.execPath, [bin, 'validate', '-f', join(repoRoot, 'test/fixtures/specs/invalid-weight.yaml')], {
    env: { ...process.env, NODE_OPTIONS: '' },
  }).catch((err: { code: number; stderr: string }) => err);
  expect(bad).toMatchObject({ code: 2 });
  expect((bad as { stderr: string }).stderr).toContain('production.canary.steps[2].setWeight: must be 0..100');
});

test('an invalid spec exits 2 and starts nothing', async () => {
  const path = specFile('invalid', { service: 'Not_A_Label', version: '1', image: 'x', production: {} });
  const r = await cli('start', '-f', path);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('nothing was started');
  expect(r.stderr).toContain('service: must be a DNS-1123 label');
  expect(r.stderr).toContain('production.namespace: must be a string');
  const client = new Client({ connection, namespace: server.namespace });
  await expect(client.workflow.getHandle('Not_A_Label@1').describe()).rejects.toThrow();
});

test('bad arguments exit 2 with the reason', async () => {
  expect(await cli('approve')).toMatchObject({ code: 2, stderr: 'error: approve needs a release id, like checkout@1.4.2\n' });
  expect(await cli('reject', 'x@1', '--as', 'bob')).toMatchObject({ code: 2, stderr: 'error: reject needs --reason TEXT\n' });
  expect((await cli('start', '-f', 'x.yaml', '--bogus')).code).toBe(2);
  expect(await cli('status', 'ghost@9.9.9')).toMatchObject({ code: 2 });
  expect(await cli('deploy')).toMatchObject({ code: 2, stderr: expect.stringContaining('error: unknown command "deploy"') });
  // the installed CLI has no dev or demo (they need the development kit), and says where they are
  expect(await cli('demo', '--auto-approve')).toMatchObject({ code: 2, stderr: expect.stringContaining('run `npm run demo` in a checkout of tidegate') });
  expect(await cli('dev')).toMatchObject({ code: 2, stderr: expect.stringContaining('run `npm run dev` in a checkout of tidegate') });
  // stop-the-line and freezes: the release id or --all, never both; a freeze must say why
  expect(await cli('abort', '--all')).toMatchObject({ code: 2, stderr: 'error: abort needs --reason TEXT\n' });
  expect(await cli('abort', 'x@1', '--all', '--reason', 'r')).toMatchObject({ code: 2, stderr: 'error: give a release id or --all, not both (got "x@1")\n' });
  expect(await cli('abort', 'x@1', '--service', 'x', '--reason', 'r')).toMatchObject({ code: 2, stderr: 'error: --service applies to abort --all; to abort one release, name it\n' });
  expect(await cli('list', '--all')).toMatchObject({ code: 2, stderr: 'error: --all applies to abort only\n' });
  expect(await cli('freeze', '--reason', '  ')).toMatchObject({ code: 2, stderr: 'error: freeze needs a non-empty --reason TEXT: it is shown to everyone whose release waits\n' });
});

test('approvals through the CLI: refusals exit 3 with the reason; a retried start is the same release', async () => {
  const file = quickSpec('cart', '1.1.0');
  const started = await cli('start', '-f', file, '--json');
  expect(started.code).toBe(0);
  expect(JSON.parse(started.stdout)).toEqual({ releaseId: 'cart@1.1.0', created: true });
  expect(await cli('start', '-f', file)).toMatchObject({ code: 0, stdout: 'cart@1.1.0 already running\n' });
  expect(await cli('start', '-f', quickSpec('cart', '1.2.0'))).toMatchObject({
    code: 3,
    stderr: 'refused: cart is being released by cart@1.1.0; wait for it, abort it, or start with --supersede\n',
  });

  await untilStage('cart@1.1.0', 'approval');
  expect(await cli('approve', 'cart@1.1.0')).toMatchObject({ code: 3, stderr: 'refused: carol started this release and self-approval is not allowed\n' });
  expect(await cli('approve', 'cart@1.1.0', '--as', 'mallory')).toMatchObject({
    code: 3,
    stderr: 'refused: mallory is not an approver of cart (approvers: alice, bob, carol)\n',
  });
  expect(await cli('approve', 'cart@1.1.0', '--as', 'alice', '--comment', 'lgtm')).toMatchObject({ code: 0 });
  const dup = await cli('approve', 'cart@1.1.0', '--as', 'alice');
  expect(dup.code).toBe(3);
  expect(dup.stderr).toMatch(/^refused: alice already approved at /);
  expect(await cli('promote', 'cart@1.1.0')).toMatchObject({ code: 3, stderr: 'refused: nothing to promote: the release is not paused (stage "approval")\n' });

  expect(await cli('approve', 'cart@1.1.0', '--as', 'bob')).toMatchObject({ code: 0 });
  const waited = await cli('status', 'cart@1.1.0', '--wait', '--json');
  expect(waited.code).toBe(0);
  expect(JSON.parse(waited.stdout)).toMatchObject({ outcome: 'released', status: { services: [{ approvals: [{ by: 'alice', comment: 'lgtm' }, { by: 'bob' }] }] } });
  expect(world.service('cart').active).toBe('green');
  expect((await cli('status', 'cart@1.1.0')).stdout).toContain('cart@1.1.0  released');
  expect(await cli('approve', 'cart@1.1.0', '--as', 'bob')).toMatchObject({ code: 3, stderr: 'refused: cart@1.1.0 has already ended (released)\n' });
});

test('start --wait exits 10 when analysis rolls the release back', async () => {
  world.setMetric('basket', 'staging', 0.5);
  const r = await cli('start', '-f', quickSpec('basket', '2.0.0'), '--wait');
  expect(r.code).toBe(10);
  expect(r.stdout).toContain('rolled-back: analysis errors failed at staging of basket');
});

test('a NaN that a worker sent as null: start --wait exits 10, status and status --json show the run and its value', async () => {
  world.setMetric('tally', 'staging', 'null');
  const spec = specFile('tally-1.0.0', {
    service: 'tally',
    version: '1.0.0',
    image: 'registry.local/tally:1.0.0',
    staging: { namespace: 'staging', deployment: 'tally', verify: ['errors'] },
    production: { namespace: 'prod', blueGreen: { activeService: 'tally', deploymentPrefix: 'tally' } },
    analyses: { errors: { query: 'ok{service="{{service}}",color="{{color}}"}', successCondition: '>= 0.99', interval: '1s', count: 2, onInconclusive: 'rollback' } },
  });
  const waited = await cli('start', '-f', spec, '--wait');
  expect(waited.code).toBe(10);
  expect(waited.stdout).toContain('tally@1.0.0  rolled-back: analysis errors inconclusive at staging of tally');
  const text = await cli('status', 'tally@1.0.0');
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/\? tally\/staging\/errors +Inconclusive +1 measurement \[NaN\] — 1 inconclusive measurements \(limit 0\)/);
  expect(text.stdout).toContain('outcome rolled-back, cause analysis (--wait exits 10)');
  const json = await cli('status', 'tally@1.0.0', '--json');
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject({ outcome: 'rolled-back', analyses: [{ id: 'tally/staging/errors', measurements: [{ value: 'NaN', phase: 'Inconclusive' }] }] });
});

test('analysis replay re-judges a finished release fetched from the server; a running one is refused (exit 3)', async () => {
  world.setMetric('receipts', 'staging', 0.5);
  const failed = await cli('start', '-f', quickSpec('receipts', '1.0.0'), '--wait');
  expect(failed.code).toBe(10);
  expect(failed.stdout).toContain('✗ receipts/staging/errors');
  expect(failed.stdout).toContain('[0.5] — 1 failed measurements (limit 0)');

  const looser = specFile('receipts-looser', {
    service: 'receipts',
    version: '1.0.0',
    image: 'registry.local/receipts:1.0.0',
    production: { namespace: 'prod', blueGreen: { activeService: 'receipts', deploymentPrefix: 'receipts' } },
    analyses: { errors: { query: 'ok{service="{{service}}",color="{{color}}"}', successCondition: '>= 0.4', interval: '1s', count: 1 } },
  });
  const r = await cli('analysis', 'replay', 'receipts@1.0.0', '-f', looser);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/^receipts\/staging\/errors +Failed +Failed +Successful$/m);
  expect(r.stdout).toContain('receipts-looser.json: Failed → Successful: 1 of 1 measurements: 1 successful (successCondition ">= 0.99" → ">= 0.4", count 2 → 1)');
  expect(r.stdout).toContain('receipts-looser.json: every recorded run passes (1)');
  const json = JSON.parse((await cli('analysis', 'replay', 'receipts@1.0.0', '--json')).stdout) as { runs: { asRecorded: { phase: string; reason: string } }[] };
  expect(json.runs[0]?.asRecorded).toMatchObject({ phase: 'Failed', reason: '1 failed measurements (limit 0)' });

  // offline: the history as the Temporal CLI exports it gives the same report
  const exported = await run(toolPath('temporal'), ['workflow', 'show', '--address', server.address, '--namespace', server.namespace, '-w', 'receipts@1.0.0', '-o', 'json']);
  const file = join(dir, 'receipts-history.json');
  writeFileSync(file, exported.stdout);
  expect(await cli('analysis', 'replay', '--history', file, '-f', looser)).toEqual(r);

  expect((await cli('start', '-f', quickSpec('ledger', '1.0.0'))).code).toBe(0);
  await untilStage('ledger@1.0.0', 'approval');
  expect(await cli('analysis', 'replay', 'ledger@1.0.0')).toMatchObject({
    code: 3,
    stderr: 'refused: ledger@1.0.0 is still running; replay re-judges finished releases (its runs may still be measuring) — see `tidegate status ledger@1.0.0`\n',
  });
  expect(await cli('analysis', 'replay', 'ghost@1.0.0')).toMatchObject({ code: 2 });
  expect((await cli('abort', 'ledger@1.0.0', '--reason', 'test over')).code).toBe(0);
  expect((await cli('status', 'ledger@1.0.0', '--wait')).code).toBe(12);
});

test('status --watch shows live progress and exits 12 after an abort', async () => {
  expect((await cli('start', '-f', quickSpec('wishlist', '1.0.0'))).code).toBe(0);
  await untilStage('wishlist@1.0.0', 'approval');
  const watching = cli('status', 'wishlist@1.0.0', '--watch');
  await new Promise((r) => setTimeout(r, 500));
  expect(await cli('abort', 'wishlist@1.0.0')).toMatchObject({ code: 2, stderr: 'error: abort needs --reason TEXT\n' });
  expect((await cli('abort', 'wishlist@1.0.0', '--reason', 'freeze')).code).toBe(0);
  const r = await watching;
  expect(r.code).toBe(12);
  expect(r.stdout).toContain('wishlist@1.0.0  stage approval (wishlist)');
  expect(r.stdout).toContain('approvals: none — 2 more needed');
  expect(r.stdout).toContain('wishlist@1.0.0  aborted: aborted by carol: freeze');
  expect((await cli('status', 'wishlist@1.0.0', '--wait')).code).toBe(12);
});

test('with no worker running, status --wait and --watch keep waiting (saying so) and end with the release once a worker is back', async () => {
  const id = 'outage@1.0.0';
  expect((await cli('start', '-f', quickSpec('outage', '1.0.0'))).code).toBe(0);
  await untilStage(id, 'approval');
  // the worker goes away (a rolling update, a crash): nothing answers the release's status query
  worker.shutdown();
  await running;
  await closeWorker();
  let watchErr = '';
  let watchOut = '';
  const waiting = cli('status', id, '--wait');
  const watching = runCli(['status', id, '--watch'], cliIO((t) => void (watchOut += t), (t) => void (watchErr += t)));
  for (let i = 0; i < 600 && !watchErr.includes('no worker answered'); i++) await new Promise((r) => setTimeout(r, 200));
  expect(watchErr).toMatch(new RegExp(`^tidegate: no worker answered for ${id}'s status \\(.+\\); still watching\\n`));
  await startWorker();
  expect((await cli('approve', id, '--as', 'alice')).code).toBe(0);
  expect((await cli('approve', id, '--as', 'bob')).code).toBe(0);
  await expect(watching).resolves.toBe(0);
  expect(watchOut).toContain(`${id}  released`);
  await expect(waiting).resolves.toMatchObject({ code: 0 });
  // an ended release's status needs no worker: it is not queried (it is not running) but read from its result
  worker.shutdown();
  await running;
  await closeWorker();
  try {
    const ended = await cli('status', id);
    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain(`${id}  released`);
    // and a release that does not exist is named as bad input
    const unknown = await cli('status', 'outage@9.9.9');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no release outage@9.9.9');
  } finally {
    await startWorker();
  }
}, 180_000);

test('list shows releases by service from the search attributes', async () => {
  let list: { releaseId: string }[] = [];
  for (let i = 0; i < 50 && list.length === 0; i++) {
    list = JSON.parse((await cli('list', '--service', 'cart', '--json')).stdout) as { releaseId: string }[];
    if (list.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(list.map((r) => r.releaseId)).toEqual(['cart@1.1.0']);
});

test('unfreeze lifts the freeze before it tells the releases, so a held release goes on at once; with no worker to end the freeze, it is terminated', async () => {
  expect((await cli('freeze', '--as', 'erin', '--reason', 'incident 7')).code).toBe(0);
  const id = 'thaw@1.0.0';
  expect((await cli('start', '-f', quickSpec('thaw', '1.0.0'))).code).toBe(0);
  for (let i = 0; i < 200; i++) {
    const s = JSON.parse((await cli('status', id, '--json')).stdout) as { waiting?: { source: string } };
    if (s.waiting) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const lifted = await cli('unfreeze', '--as', 'erin');
  expect(lifted.stdout).toMatch(/^unfrozen by erin \(frozen by erin since \S+: incident 7\); told 1 running release/);
  // the freeze is over when unfreeze returns: a release it told reads no freeze and goes on (told
  // before, it read the freeze as in force and waited an hour for its next check)
  expect((await cli('freeze')).stdout).toMatch(/^no freeze in force/);
  await untilStage(id, 'approval');

  // with no worker, nothing ends the freeze workflow on its signal: unfreeze terminates it
  expect((await cli('freeze', '--as', 'erin', '--reason', 'incident 8')).code).toBe(0);
  worker.shutdown();
  await running;
  await closeWorker();
  try {
    const alone = await cli('unfreeze', '--as', 'frank');
    expect(alone.code).toBe(0);
    expect(alone.stdout).toMatch(/^unfrozen by frank \(frozen by erin since \S+: incident 8\)/);
    expect((await cli('freeze')).stdout).toMatch(/^no freeze in force/);
    const ended = await new Client({ connection, namespace: server.namespace }).workflow.getHandle('tidegate-freeze').describe();
    expect(ended.status.name).toBe('TERMINATED');
  } finally {
    await startWorker();
  }
  expect((await cli('abort', id, '--reason', 'end of test')).code).toBe(0);
  expect((await cli('status', id, '--wait')).code).toBe(12);
}, 120_000);
