// Given deploy/Dockerfile, when its build stage's COPY and RUN lines run as written in an empty
// directory (there is no container engine on CI machines, so the test plays the engine's part for
// these two instructions) and the final stage's files are assembled from it, then the image's own
// command — `node bin/tidegate.js worker --check` — loads every runtime dependency from the pruned
// tree and bundles the workflows. A file the build needs that the Dockerfile does not copy, a
// dependency the worker needs that `npm prune --omit=dev` removes, or a build that reaches outside
// what it copies fails here instead of in someone's `docker build`.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import { tempDir } from '../../devkit/testing/servers.js';

const run = promisify(execFile);

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  name?: string;
  /** The stage's last WORKDIR (where COPY --from=<stage> paths point into). */
  workdir?: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const as = /\s+AS\s+(\S+)$/i.exec(args);
      stages.push({ ...(as?.[1] ? { name: as[1] } : {}), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (op.toUpperCase() === 'WORKDIR' && stage) stage.workdir = args;
      stage?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

/**
 * COPY semantics for what this Dockerfile uses: files into a directory (dest ending in /), a
 * directory's contents into a directory. `stageWorkdir` maps absolute paths of a --from stage.
 */
function copy(args: string, fromDir: string, workdir: string, stageWorkdir?: string): string[] {
  const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
  const dest = parts.pop() ?? '';
  const copied: string[] = [];
  for (const path of parts) {
    const source = stageWorkdir && path.startsWith(`${stageWorkdir}/`) ? path.slice(stageWorkdir.length + 1) : path;
    const from = join(fromDir, source);
    if (!existsSync(from)) throw new Error(`COPY ${args}: ${source} does not exist in ${fromDir}`);
    const intoDir = dest.endsWith('/') || parts.length > 1;
    const to = statSync(from).isDirectory() ? join(workdir, dest) : intoDir ? join(workdir, dest, source.split('/').pop() ?? source) : join(workdir, dest);
    mkdirSync(statSync(from).isDirectory() ? to : dirname(to), { recursive: true });
    cpSync(from, to, { recursive: true });
    copied.push(source);
  }
  return copied;
}

const env = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env };
  delete e.NODE_OPTIONS;
  return e;
};

// about 800 MB of node_modules: never left in /tmp
const cleanup: string[] = [];
afterAll(() => cleanup.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

test('the worker image builds from what deploy/Dockerfile copies, and its command passes worker --check', async () => {
  const stages = parseDockerfile(readFileSync(join(repoRoot, 'deploy', 'Dockerfile'), 'utf8'));
  const [build, final] = [stages.find((s) => s.name === 'build'), stages.at(-1)];
  if (!build || !final || build === final) throw new Error('deploy/Dockerfile: expected a stage "AS build" and a final stage');
  const root = tempDir('image');
  cleanup.push(root);
  const buildDir = join(root, 'build');
  const imageDir = join(root, 'image');
  mkdirSync(buildDir);
  mkdirSync(imageDir);

  // the build stage, as written
  const ran: string[] = [];
  for (const { op, args } of build.instructions) {
    if (op === 'COPY') ran.push(`COPY ${copy(args, repoRoot, buildDir).join(' ')}`);
    else if (op === 'RUN') {
      await run('sh', ['-c', args], { cwd: buildDir, env: env(), timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`RUN ${args} failed in the build stage:\n${(err.stderr || err.stdout || err.message).slice(-4000)}`);
      });
      ran.push(`RUN ${args}`);
    } else if (op !== 'WORKDIR') throw new Error(`the build stage uses ${op}, which this test does not reproduce yet`);
  }
  expect(ran.some((r) => r.startsWith('RUN npm run build'))).toBe(true);

  // the final stage: its files, its environment, its command
  let entrypoint: string[] = [];
  const imageEnv: NodeJS.ProcessEnv = { ...env() };
  for (const { op, args } of final.instructions) {
    if (op === 'COPY') {
      if (/--from=build\b/.test(args)) copy(args, buildDir, imageDir, build.workdir);
      else copy(args, repoRoot, imageDir);
    }
    else if (op === 'ENV') {
      const [key = '', value = ''] = args.split(/[=\s]/, 2);
      imageEnv[key] = value;
    } else if (op === 'ENTRYPOINT') entrypoint = JSON.parse(args) as string[];
  }
  expect(entrypoint[0]).toBe('node');
  // devDependencies are gone: the image runs dist/, not the sources through tsx
  expect(existsSync(join(imageDir, 'node_modules', 'tsx'))).toBe(false);
  expect(existsSync(join(imageDir, 'src'))).toBe(false);
  expect(existsSync(join(imageDir, 'dist', 'workflow-bundle.js'))).toBe(true);
  // only what ships: the development kit (local stack, simulator, GitHub fake, dev, demo) is not in dist/
  expect(readdirSync(join(imageDir, 'dist')).sort()).toEqual(['activities', 'client', 'core', 'signing', 'spec', 'temporal', 'workers', 'workflow-bundle.js', 'workflows']);

  const { stdout } = await run(process.execPath, [...entrypoint.slice(1), 'worker', '--check'], { cwd: imageDir, env: imageEnv, timeout: 300_000 });
  const report = JSON.parse(stdout) as { modules: Record<string, string>; workflowBundleBytes: number };
  expect(Object.values(report.modules).every((v) => v === 'ok')).toBe(true);
  expect(Object.keys(report.modules)).toContain('@temporalio/worker');
  expect(report.workflowBundleBytes).toBeGreaterThan(100_000);

  // the installed CLI names where `dev` lives instead of failing to load it
  const dev = await run(process.execPath, [...entrypoint.slice(1), 'dev'], { cwd: imageDir, env: imageEnv }).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr ?? '' }),
  );
  expect(dev.code).toBe(2);
  expect(dev.stderr).toContain('npm run dev');
}, 900_000);
