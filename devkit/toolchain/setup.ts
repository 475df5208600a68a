// The front door on a fresh machine: `npm run demo` and `npm test` run devkit/toolchain/setup.sh themselves
// when a tool is missing or setup's inputs changed since it last completed, with its progress on
// stderr (a cold setup builds for 12–20 min on 2 cores), and skip it in a few milliseconds otherwise.
// `tsx devkit/toolchain/setup.ts` does exactly that (npm test's first step).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, toolPath, type ToolName } from './tools.js';

const TOOLS: ToolName[] = ['temporal', 'temporal-test-server', 'prometheus', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'etcd', 'kwok', 'kwokctl', 'chromium', 'temporal-server', 'temporal-sql-tool', 'temporal-ui-server', 'postgres', 'initdb'];

/** What setup.sh's result depends on; setup.sh writes their hash to .tools/.setup-stamp when it completes. */
const INPUTS = [
  'devkit/toolchain/setup.sh',
  'devkit/toolchain/versions.sh',
  'devkit/toolchain/kubernetes/go.mod',
  'devkit/toolchain/kubernetes/go.sum',
  'devkit/toolchain/etcd/go.mod',
  'devkit/toolchain/etcd/go.sum',
  'devkit/toolchain/etcd/main.go',
  'devkit/toolchain/test-server/pom.xml',
];
export const STAMP = join(repoRoot, '.tools', '.setup-stamp');

/** The same hash as setup.sh's `cat $inputs | sha256sum`. */
export function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of INPUTS) hash.update(readFileSync(join(repoRoot, file)));
  return hash.digest('hex');
}

/** Whether an executable of this name is on PATH. */
function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why setup must run, or undefined when every tool is there and setup's inputs are unchanged. */
export function setupNeeded(): string | undefined {
  const missing: string[] = TOOLS.filter((tool) => {
    try {
      toolPath(tool);
      return false;
    } catch {
      return true;
    }
  });
  if (!existsSync(join(repoRoot, '.tools', 'gateway-api-crds'))) missing.push('gateway-api-crds');
  // from the system's packages: signed approvals are made with the user's own ssh-keygen
  for (const program of ['ssh-keygen', 'ssh-agent']) if (!onPath(program)) missing.push(program);
  if (missing.length > 0) return `missing: ${missing.join(', ')}`;
  if (!existsSync(STAMP)) return 'setup has not completed in this checkout';
  const stamp = readFileSync(STAMP, 'utf8').trim();
  return stamp === inputsHash() ? undefined : 'devkit/toolchain/ changed since the last setup';
}

/** Runs `bash devkit/toolchain/setup.sh` (idempotent) if setupNeeded(); its output goes to this process's stderr. */
export async function ensureTools(log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): Promise<void> {
  const why = setupNeeded();
  if (!why) return;
  const cold = why.startsWith('missing') ? '; building what is missing from the registries takes up to 12–20 minutes on 2 cores' : '';
  log(`[setup] running devkit/toolchain/setup.sh (${why})${cold}`);
  const started = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'devkit', 'toolchain', 'setup.sh')], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`devkit/toolchain/setup.sh failed (exit ${code}); its output is above`);
  const still = setupNeeded();
  if (still) throw new Error(`devkit/toolchain/setup.sh completed but the tools are not ready (${still})`);
  log(`[setup] done in ${Math.round((Date.now() - started) / 1000)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureTools().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
