// The metrics activity on Prometheus's HTTP API: instant and range queries whose
// results are facts, never judgements. Three outcomes stay distinct, because the judges treat
// them differently: a value (possibly 'NaN' or '±Inf', spelled out), no data (the query matched no series), and the backend
// failing (unreachable, timing out, 5xx) — an Error measurement, never a pass nor a fail. A query
// Prometheus rejects (HTTP 400/422, bad_data) is a mistake in the spec: non-retryable, with
// Prometheus's own message (classified by ../failures.ts).
import type { Observation } from '../../core/analysis.js';
import { toMetricValue, type MetricValue } from '../../core/values.js';
import type { MeasureRequest, MetricsActivities, TimedObservation } from '../types.js';
import { apiFailure, isPermanent, type PermanentStatuses } from '../failures.js';
import { activityContext } from '../context.js';
import { watchActivity } from '../watch.js';

/**
 * The answers that are failures (../failures.ts): a mistake in the spec or in the worker's
 * configuration. Every other failing answer is an Error measurement, never a throw.
 */
export const PROMETHEUS_PERMANENT: PermanentStatuses = {
  400: ['PrometheusBadQuery', 'Prometheus rejected the query; fix it in the release spec'],
  422: ['PrometheusBadQuery', 'Prometheus could not run the query; fix it in the release spec'],
  401: ['PrometheusUnauthorized', "Prometheus refused the worker's credentials; check PROMETHEUS_BEARER_TOKEN"],
  403: ['PrometheusUnauthorized', "Prometheus refused the worker's credentials; check PROMETHEUS_BEARER_TOKEN"],
};

export interface PrometheusOptions {
  /** Base URL, e.g. http://prometheus.monitoring.svc:9090 */
  url: string;
  /** Sent as `Authorization: Bearer …`; from the worker's environment only. */
  bearerToken?: string;
  /** Per-request timeout (default 10 s); a timeout is an Error measurement. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type Sample = [number, string];
interface ApiResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?:
    | { resultType: 'vector'; result: { metric: Record<string, string>; value: Sample }[] }
    | { resultType: 'matrix'; result: { metric: Record<string, string>; values: Sample[] }[] }
    | { resultType: 'scalar'; result: Sample }
    | { resultType: 'string'; result: Sample };
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();
/**
 * Prometheus sends values as strings, "NaN", "+Inf" and "-Inf" included; those stay spelled out so
 * that they cross Temporal's JSON payloads unchanged (a bare NaN would arrive as null).
 */
const parseValue = (text: string): MetricValue => toMetricValue(text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text));

/** What a successful API response says, as observations. Pure, for the tests. */
export function observationsOf(body: ApiResponse, at: string): TimedObservation[] {
  const data = body.data;
  if (!data) return [{ at, observation: { kind: 'error', message: 'Prometheus answered without data' } }];
  const series = (n: number): Observation => ({
    kind: 'error',
    message: `the query returned ${n} series; an analysis query must return one (aggregate it, e.g. with sum(...))`,
  });
  switch (data.resultType) {
    case 'scalar':
      return [{ at: iso(data.result[0]), observation: { kind: 'value', value: parseValue(data.result[1]) } }];
    case 'vector': {
      if (data.result.length === 0) return [{ at, observation: { kind: 'empty', message: 'no data: the query matched no series' } }];
      const only = data.result[0];
      if (data.result.length > 1 || !only) return [{ at, observation: series(data.result.length) }];
      return [{ at: iso(only.value[0]), observation: { kind: 'value', value: parseValue(only.value[1]) } }];
    }
    case 'matrix': {
      if (data.result.length === 0) return [{ at, observation: { kind: 'empty', message: 'no data in the window: the query matched no series' } }];
      const only = data.result[0];
      if (data.result.length > 1 || !only) return [{ at, observation: series(data.result.length) }];
      return only.values.map(([t, v]) => ({ at: iso(t), observation: { kind: 'value', value: parseValue(v) } }));
    }
    default:
      return [{ at, observation: { kind: 'error', message: `unexpected result type ${data.resultType}` } }];
  }
}

export function createPrometheusActivities(options: PrometheusOptions): MetricsActivities {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function measure(request: MeasureRequest): Promise<TimedObservation[]> {
    const now = new Date().toISOString();
    const params = new URLSearchParams({ query: request.query });
    let path = '/api/v1/query';
    if (request.range) {
      path = '/api/v1/query_range';
      params.set('start', String(Date.parse(request.range.start) / 1000));
      params.set('end', String(Date.parse(request.range.end) / 1000));
      params.set('step', `${Math.max(1, Math.round(request.range.stepMs / 1000))}s`);
    } else if (request.at) {
      params.set('time', String(Date.parse(request.at) / 1000));
    }
    const at = request.range?.end ?? request.at ?? now;
    const backendDown = (message: string): TimedObservation[] => [{ at, observation: { kind: 'error', message } }];
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(options.bearerToken ? { authorization: `Bearer ${options.bearerToken}` } : {}) },
        body: params.toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string }; message?: string };
      if (e.name === 'TimeoutError') return backendDown(`Prometheus did not answer within ${timeoutMs / 1000}s`);
      return backendDown(`Prometheus unreachable at ${base}: ${e.cause?.code ?? e.message ?? String(err)}`);
    }
    let body: ApiResponse | undefined;
    try {
      body = (await res.json()) as ApiResponse;
    } catch {
      body = undefined;
    }
    if (isPermanent(res.status, PROMETHEUS_PERMANENT)) {
      const message = body?.error ? `${body.errorType ? `${body.errorType}: ` : ''}${body.error}` : res.statusText || 'no message';
      throw apiFailure({ system: 'Prometheus', what: `query Prometheus for ${request.query}`, status: res.status, message, permanent: PROMETHEUS_PERMANENT });
    }
    if (!res.ok || !body || body.status !== 'success') {
      return backendDown(`Prometheus failed: HTTP ${res.status}${body?.error ? ` ${body.errorType ?? ''}: ${body.error}` : ''}`);
    }
    return observationsOf(body, at);
  }

  return { measure, watch: watchActivity(measure, activityContext) };
}
