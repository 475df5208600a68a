// The SDK's OpenTelemetry workflow interceptors behind the patch `otel-tracing`, in every worker's
// workflow bundle whether tracing is on or off. They add spans and headers, not commands, but their
// awaits around activities and updates change the order in which a handler and the main line resume
// in one activation — so the same release must run them on every worker, or on none. Releases started
// with the patch run them always (a worker with tracing off just drops the spans: its `exporter` sink
// is a no-op); releases started before it never do, so their histories replay as recorded.
//
// Queries and update validators are never traced. They run only when the workflow runs live, never
// when it replays, and a span's ids come from the workflow's seeded random numbers: a span made there
// shifted every later uuid4() — the approval gate's nonce — so that a replay (a worker restart, a
// cache eviction) computed another nonce, refused the signed approvals the run had accepted, failed
// with a nondeterminism error and left the release stuck. test/workflows/signed-approvals.test.ts
// replays a release queried and refused before its gate opened.
import { patched, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import { PATCHES } from './patches.js';

/** Whether this workflow traces: decided once, by the first handler or command that asks. */
class Gate {
  private on: boolean | undefined;

  /** Records the patch marker in a new workflow; in one started before the patch, false. Never from a read-only call. */
  decide(): boolean {
    this.on ??= patched(PATCHES.otelTracing.id);
    return this.on;
  }

  /** For read-only calls (log attributes): traced only once decided. */
  get decided(): boolean {
    return this.on === true;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const gate = new Gate();
  const inbound = new OpenTelemetryInboundInterceptor();
  const outbound = new OpenTelemetryOutboundInterceptor();
  const internals = new OpenTelemetryInternalsInterceptor();
  return {
    inbound: [
      {
        execute: (input, next) => (gate.decide() ? inbound.execute(input, next) : next(input)),
        handleSignal: (input, next) => (gate.decide() ? inbound.handleSignal(input, next) : next(input)),
        handleUpdate: (input, next) => (gate.decide() ? inbound.handleUpdate(input, next) : next(input)),
        // not traced: see the top of this file
        validateUpdate: (input, next) => next(input),
        handleQuery: (input, next) => next(input),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => (gate.decide() ? outbound.scheduleActivity(input, next) : next(input)),
        scheduleLocalActivity: (input, next) => (gate.decide() ? outbound.scheduleLocalActivity(input, next) : next(input)),
        startChildWorkflowExecution: (input, next) => (gate.decide() ? outbound.startChildWorkflowExecution(input, next) : next(input)),
        signalWorkflow: (input, next) => (gate.decide() ? outbound.signalWorkflow(input, next) : next(input)),
        continueAsNew: (input, next) => (gate.decide() ? outbound.continueAsNew(input, next) : next(input)),
        getLogAttributes: (input, next) => (gate.decided ? outbound.getLogAttributes(input, next) : next(input)),
      },
    ],
    // releases the sandbox's context manager when the workflow leaves the cache, traced or not
    internals: [{ dispose: (input, next) => internals.dispose(input, next) }],
  };
};
