// Given no stack running, `npm run demo -- --auto-approve` (README command 1) brings one up, releases
// the sample service (released) and a version that breaks under production traffic (rolled back),
// prints the summary table, exits 0, and stops everything it started. Run again — on a stack that is
// up, whose Temporal history (kept across `stack down`) already holds the first run's releases — it
// releases versions of its own and does the same again, instead of showing the old outcomes.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { guard } from '../../devkit/stack/guardian.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import { guardStack, processesUsing } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('demo');
const env: NodeJS.ProcessEnv = { ...process.env, TIDEGATE_STACK_DIR: dir };
delete env.NODE_OPTIONS;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tidegate <args>` from the checkout as a user would, stopped with this test if it is killed. */
function tidegate(args: string[], entry = 'devkit/cli.ts'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, entry), ...args], { env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const release = child.pid === undefined ? () => undefined : guard(`tidegate ${args.join(' ')}`, { group: child.pid });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => void (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => void (stderr += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      release();
      resolve({ code, stdout, stderr });
    });
  });
}

const demo = async (...extra: string[]): Promise<string> => {
  const started = Date.now();
  const run = await tidegate(['demo', '--auto-approve', ...extra]);
  console.log(`demo exited ${run.code} after ${((Date.now() - started) / 1000).toFixed(0)} s:\n${run.stdout}`);
  if (run.code !== 0) throw new Error(`the demo exited ${run.code}:\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  return run.stdout;
};

/** The summary table's rows: release, outcome, exit code, seconds. */
const summary = (stdout: string): [string, string, number, number][] =>
  [...stdout.matchAll(/^(checkout@\S+) +(\S+) +(\d+) +([\d.]+)s /gm)].map((m) => [m[1] ?? '', m[2] ?? '', Number(m[3]), Number(m[4])]);

test('npm run demo -- --auto-approve releases, rolls back the broken version, and cleans up', async () => {
  const stdout = await demo();
  expect(stdout).toMatch(/Temporal Web UI {4}http:\/\/127\.0\.0\.1:\d+/);
  expect(summary(stdout).map(([release, outcome, exit]) => [release, outcome, exit])).toEqual([
    ['checkout@1.1.0', 'released', 0],
    ['checkout@1.2.0', 'rolled-back', 10],
  ]);
  expect(stdout).toMatch(/success-rate failed at canary; traffic back on the stable color [\d.]+s after the verdict/);
  // the demo approvers sign with SSH keys, and the auditor's check of the history agrees
  expect(stdout).toMatch(/approved by alice: approved by the demo \(--auto-approve\) \(1\/2; signed, ssh-ed25519 SHA256:\S+\)/);
  expect(stdout).toMatch(/approve +by bob +signed ssh-ed25519 SHA256:\S+: signature good, bound to this release, run and gate +→ accepted/);
  expect(stdout).toContain('every accepted signed decision verifies against your allowed signers');
  expect(stdout).toMatch(/started by demo-ci signed ssh-ed25519 SHA256:\S+: signature good/);
  expect(processesUsing(dir)).toEqual([]);
}, 600_000);

test('a second demo, on a stack that is up, releases and rolls back versions of its own', async () => {
  const up = await tidegate(['up'], 'devkit/stack/cli.ts');
  const releaseStack = guardStack(dir);
  try {
    expect(up.code).toBe(0);
    const stdout = await demo();
    expect(stdout).toContain(`Using the local stack already up (${dir})`);
    const rows = summary(stdout);
    expect(rows.map(([release, outcome, exit]) => [release, outcome, exit])).toEqual([
      ['checkout@1.1.0-demo.2', 'released', 0],
      ['checkout@1.2.0-demo.2', 'rolled-back', 10],
    ]);
    // they really ran: staging, canary, approval and a 30 s monitor window take more than 40 s
    expect(rows[0]?.[3]).toBeGreaterThan(40);
    expect(stdout).toMatch(/success-rate failed at canary; traffic back on the stable color [\d.]+s after the verdict/);
  } finally {
    await tidegate(['down'], 'devkit/stack/cli.ts');
    releaseStack();
  }
  expect(processesUsing(dir)).toEqual([]);
}, 600_000);

test('npm run demo -- --auto-approve --clusters 3 releases across three clusters in two waves, and a failure in the last wave rolls all three back', async () => {
  const stdout = await demo('--clusters', '3');
  expect(stdout).toMatch(/in 3 clusters \(contexts cluster-1, cluster-2, cluster-3\)/);
  // (versions of its own: after this file's other demos on the same stack's Temporal, 1.1.0-demo.3 and so on)
  const rows = summary(stdout);
  expect(rows.map(([release, outcome, exit]) => [release.replace(/-demo\.\d+$/, ''), outcome, exit])).toEqual([
    ['checkout@1.1.0', 'released', 0],
    ['checkout@1.2.0', 'rolled-back', 10],
  ]);
  // the healthy one released wave after wave; the broken one failed in cluster-3 and every cluster was put back, newest first
  expect(stdout).toMatch(/wave 1 first baking until /);
  expect(stdout).toMatch(/2 rest: released\n\s+✓ cluster-2\s+released\n\s+✓ cluster-3\s+released/);
  expect(stdout).toMatch(/== checkout@1\.2\.0(-demo\.\d+)?: rolled-back — cluster-3: analysis success-rate failed/);
  expect(stdout).toMatch(/rollback, newest first: cluster-3 rolled itself back, then cluster-2 undone, cluster-1 undone/);
  expect(processesUsing(dir)).toEqual([]);
}, 900_000);
