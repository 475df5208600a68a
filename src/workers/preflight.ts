// Worker preflight: proves, in the process that will run the worker, that every runtime dependency
// loads under this module system (ESM) and that the workflow code bundles. Used by
// `tidegate worker --check` (container health, CI) and by the tests that pin the module system.
import { pathToFileURL } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from './tracing.js';

/** Each runtime dependency with one export that must be a function (class or factory). */
export const RUNTIME_DEPENDENCIES = {
  '@temporalio/client': 'Client',
  '@temporalio/worker': 'Worker',
  '@temporalio/activity': 'Context',
  '@temporalio/common': 'ApplicationFailure',
  '@kubernetes/client-node': 'KubeConfig',
  '@octokit/rest': 'Octokit',
  '@temporalio/interceptors-opentelemetry': 'OpenTelemetryWorkflowClientInterceptor',
  '@opentelemetry/exporter-trace-otlp-http': 'OTLPTraceExporter',
  '@opentelemetry/sdk-trace-base': 'BasicTracerProvider',
  '@opentelemetry/context-async-hooks': 'AsyncLocalStorageContextManager',
  zod: 'object',
  yaml: 'parse',
} as const;

export interface PreflightReport {
  node: string;
  modules: Record<string, 'ok'>;
  workflowBundleBytes: number;
  workflowBundleMs: number;
}

export async function preflight(workflowsPath: string): Promise<PreflightReport> {
  const modules: Record<string, 'ok'> = {};
  for (const [name, exportName] of Object.entries(RUNTIME_DEPENDENCIES)) {
    const mod = (await import(name)) as Record<string, unknown>;
    if (typeof mod[exportName] !== 'function') {
      throw new Error(`dependency ${name} loaded but has no ${exportName}(): wrong version or module format`);
    }
    modules[name] = 'ok';
  }
  const started = performance.now();
  const bundle = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES], logger: quietLogger });
  return {
    node: process.version,
    modules,
    workflowBundleBytes: Buffer.byteLength(bundle.code),
    workflowBundleMs: Math.round(performance.now() - started),
  };
}

const noop = (): void => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

// `node dist/workers/preflight.js <workflowsPath>` prints the report as JSON.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2];
  if (!path) {
    console.error('usage: preflight <workflowsPath>');
    process.exit(2);
  }
  preflight(path).then(
    (report) => console.log(JSON.stringify(report)),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
