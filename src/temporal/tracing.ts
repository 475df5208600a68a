// OpenTelemetry tracing of releases, client → workflow → activities, through the Temporal SDK's
// interceptors (@temporalio/interceptors-opentelemetry): the client's StartWorkflow span travels in
// the workflow's headers, the workflow's RunWorkflow span is the parent of its StartActivity spans,
// and each RunActivity span is their child. Off unless the standard OTLP variables name a collector
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces; OTLP over HTTP
// with JSON, headers from OTEL_EXPORTER_OTLP_HEADERS; OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none turn it off). Spans never carry secrets: every exported span passes
// through a filter that keeps only plain attribute values and masks any value of the process's
// credentials (tokens, API keys, payload keys) wherever it appears.
import { context, propagation, trace, type Attributes, type AttributeValue, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import type { ClientInterceptors } from '@temporalio/client';

export interface Tracing {
  readonly tracer: Tracer;
  /** What ended spans go to (the worker hands workflow spans to it through the exporter sink). */
  readonly processor: SpanProcessor;
  readonly resource: Resource;
  /** Sends every span ended so far. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL the environment names, or undefined when tracing is off. */
export function tracesEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  if ((env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).includes('none')) return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

const SECRET_NAME = /TOKEN|SECRET|PASSWORD|API_KEY|PAYLOAD_KEYS|PRIVATE_KEY|OTEL_EXPORTER_OTLP(_TRACES)?_HEADERS/i;

/** The credentials in an environment, as the strings that must never appear in a span. */
export function secretsOf(env: NodeJS.ProcessEnv): string[] {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value || !SECRET_NAME.test(name)) continue;
    for (const piece of value.split(/[\s,;]+/)) {
      // payload keys are id:base64, OTLP headers name=value: the part after the separator is the secret
      for (const part of [piece, piece.slice(piece.indexOf(':') + 1), piece.slice(piece.indexOf('=') + 1)]) if (part.length >= 8) out.add(part);
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

function mask(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
  return out;
}

/** Attributes as OpenTelemetry defines them (primitives and arrays of them), with secrets masked; other values are dropped. */
export function cleanAttributes(attributes: Attributes, secrets: readonly string[]): Attributes {
  const out: Attributes = {};
  const clean = (v: unknown): string | number | boolean | undefined =>
    typeof v === 'string' ? mask(v, secrets) : typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
  for (const [key, value] of Object.entries(attributes)) {
    if (Array.isArray(value)) out[key] = value.map((v: unknown) => clean(v) ?? null) as AttributeValue;
    else {
      const v = clean(value);
      if (v !== undefined) out[key] = v;
    }
  }
  return out;
}

/** An exporter that hands `inner` each span with clean attributes, events and status (see cleanAttributes). */
export function redactingExporter(inner: SpanExporter, secrets: readonly string[]): SpanExporter {
  const redact = (span: ReadableSpan): ReadableSpan =>
    Object.create(span, {
      attributes: { value: cleanAttributes(span.attributes, secrets), enumerable: true },
      events: { value: span.events.map((e) => ({ ...e, ...(e.attributes ? { attributes: cleanAttributes(e.attributes, secrets) } : {}) })), enumerable: true },
      status: { value: span.status.message === undefined ? span.status : { ...span.status, message: mask(span.status.message, secrets) }, enumerable: true },
    }) as ReadableSpan;
  return {
    export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => inner.export(spans.map(redact), done),
    shutdown: () => inner.shutdown(),
    ...(inner.forceFlush ? { forceFlush: () => inner.forceFlush?.() ?? Promise.resolve() } : {}),
  };
}

export interface TracingOptions {
  serviceName: string;
  exporter: SpanExporter;
  /** Strings masked in every span (default: the process's credentials, secretsOf(process.env)). */
  secrets?: readonly string[];
  /** Export each span as it ends instead of in batches (tests). */
  immediate?: boolean;
}

/**
 * Starts tracing for this process: a tracer provider registered as the global one, with W3C trace
 * context propagation (what the interceptors put in Temporal headers) and async-local context.
 */
export function startTracing(options: TracingOptions): Tracing {
  const resource = Resource.default().merge(new Resource({ 'service.name': options.serviceName }));
  const exporter = redactingExporter(options.exporter, options.secrets ?? secretsOf(process.env));
  const processor = options.immediate ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable(), propagator: new W3CTraceContextPropagator() });
  return {
    tracer: provider.getTracer('tidegate'),
    processor,
    resource,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

let fromEnv: { key: string; tracing: Tracing | undefined } | undefined;

/** Tracing as the environment configures it, once per process (undefined: off). */
export function tracingFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const url = tracesEndpoint(env);
  if (fromEnv) {
    if (fromEnv.key !== `${url}`) throw new Error('tracing is already configured in this process for another endpoint');
    return fromEnv.tracing;
  }
  const tracing = url ? startTracing({ serviceName, exporter: new OTLPTraceExporter({ url }), secrets: secretsOf(env) }) : undefined;
  fromEnv = { key: `${url}`, tracing };
  return tracing;
}

/** The client interceptors that start a trace for every workflow call (none without tracing). */
export function tracingClientInterceptors(tracing: Tracing | undefined): ClientInterceptors {
  return tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] } : {};
}
