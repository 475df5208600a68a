// Bundles the workflow code ahead of time into dist/workflow-bundle.js (part of `npm run build`),
// so that workers load it instead of running webpack at every start (see prebuiltBundle). Like every
// bundle a worker makes, it includes the workflow interceptors (src/workers/tracing.ts).
//   tsx scripts/bundle-workflows.ts [out-file]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

// Only the workflow sources and their dependencies: the image's build stage (deploy/Dockerfile) has
// nothing else of the repository.
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const out = process.argv[2] ?? join(repoRoot, 'dist', 'workflow-bundle.js');
const noop = (): void => undefined;
const { code } = await bundleWorkflowCode({
  workflowsPath: join(repoRoot, 'src', 'workflows', 'index.ts'),
  workflowInterceptorModules: [join(repoRoot, 'src', 'workflows', 'tracing-interceptors.ts')],
  logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop },
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.log(`workflow bundle: ${out} (${Math.round(code.length / 1024)} KiB)`);
