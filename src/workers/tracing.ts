// The worker's half of tracing (src/temporal/tracing.ts): the workflow interceptor module every
// workflow bundle includes (src/workflows/tracing-interceptors.ts: the OpenTelemetry workflow
// interceptors behind the patch `otel-tracing`), the `exporter` sink that carries the workflows'
// spans out of their sandbox — to the process's span processor with tracing on, nowhere with it off —
// and the activity interceptors (a RunActivity span under the workflow's StartActivity span). The
// workflow code is the same whether tracing is on or off, so a release can move between workers of
// either setting.
import { fileURLToPath } from 'node:url';
import { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import type { Tracing } from '../temporal/tracing.js';

/** The workflow interceptor modules of every bundle (.ts from source, .js from dist/, like workflowsPath). */
export const WORKFLOW_INTERCEPTOR_MODULES: readonly string[] = [
  fileURLToPath(new URL(`../workflows/tracing-interceptors.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url)),
];

export type TracingSinks = InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;

/**
 * The sink the workflow interceptors export spans through: to `tracing`, or dropped when it is off.
 * A workflow task that ran again — not as a replay, e.g. the last one of a release, refused by the
 * server because the lock's completion arrived meanwhile — ends its spans again under the same ids
 * (the sandbox's ids are deterministic): each span id is exported once per worker process.
 */
export function tracingSinks(tracing: Tracing | undefined): TracingSinks {
  if (!tracing) return { exporter: { export: { fn: (): void => undefined } } };
  const sink = makeWorkflowExporter(tracing.processor, tracing.resource);
  const seen = new Set<string>();
  return {
    exporter: {
      export: {
        ...sink.export,
        fn: (info, spans) => {
          const fresh = spans.filter((span) => {
            const id = `${span.spanContext.traceId}/${span.spanContext.spanId}`;
            if (seen.has(id)) return false;
            seen.add(id);
            // bounded: a few hundred thousand ids, far more than the spans of the releases a worker holds
            if (seen.size > 200_000) seen.delete(seen.values().next().value ?? id);
            return true;
          });
          if (fresh.length > 0) sink.export.fn(info, fresh);
        },
      },
    },
  };
}

/** Worker options that trace workflows and activities into `tracing` (off: the sink drops the workflows' spans). */
export function tracingWorkerOptions(tracing: Tracing | undefined): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES],
      ...(tracing
        ? { activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })] }
        : {}),
    },
    sinks: tracingSinks(tracing),
  };
}
