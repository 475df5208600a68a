// The module system is ESM throughout. This pins that every runtime dependency loads in
// jest (ESM mode), in plain Node running the compiled worker code, and that workflow code importing
// zod bundles for the workflow sandbox.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { Octokit } from '@octokit/rest';
import { z } from 'zod';
import { preflight, RUNTIME_DEPENDENCIES } from '../../src/workers/preflight.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';

const run = promisify(execFile);
const workflowsPath = fileURLToPath(new URL('./workflows/approval-timer.ts', import.meta.url));

test('jest loads the Kubernetes client, Octokit and zod, and they work', () => {
  const kc = new KubeConfig();
  kc.loadFromString(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [{ name: 'dev', user: { token: 'x' } }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: 'dev' } }],
      'current-context': 'local',
    }),
  );
  expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  const octokit = new Octokit({ baseUrl: 'http://127.0.0.1:1' });
  expect(typeof octokit.rest.repos.createDeployment).toBe('function');
  expect(z.object({ weight: z.number().min(0).max(100) }).safeParse({ weight: 101 }).success).toBe(false);
});

test('in jest, the preflight loads every runtime dependency and bundles workflow code with zod', async () => {
  const report = await preflight(workflowsPath);
  expect(Object.keys(report.modules).sort()).toEqual(Object.keys(RUNTIME_DEPENDENCIES).sort());
  expect(report.workflowBundleBytes).toBeGreaterThan(100_000);
});

test('plain Node running the compiled worker code loads every runtime dependency', async () => {
  // Compiled beside node_modules (so packages resolve) but not into dist/: bin/tidegate.js prefers
  // dist/, and processes of other test files must keep running the sources they test.
  const outDir = join(repoRoot, 'node_modules', '.cache', 'tidegate-compiled-check');
  await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: repoRoot });
  const { stdout } = await run(process.execPath, [join(outDir, 'workers/preflight.js'), workflowsPath], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const report = JSON.parse(stdout) as { node: string; modules: Record<string, string>; workflowBundleBytes: number };
  expect(report.node).toBe(process.version);
  expect(report.modules).toEqual(Object.fromEntries(Object.keys(RUNTIME_DEPENDENCIES).map((m) => [m, 'ok'])));
  expect(report.workflowBundleBytes).toBeGreaterThan(100_000);
});
