// The worker process's Temporal Runtime: its logger and, when TIDEGATE_METRICS_ADDRESS is set
// (host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464 in a pod), a Prometheus endpoint at
// http://<address>/metrics serving the SDK's metrics (temporal_*) and tidegate's (tidegate_*,
// src/core/metrics.ts) together. The Runtime is a process-wide singleton that the first
// NativeConnection creates with defaults, so it is installed before any connection. Also the
// worker's end of the release workflow's metrics sink (src/workflows/release-metrics.ts).
import { DefaultLogger, Runtime, type InjectedSinks, type LogLevel, type RuntimeOptions } from '@temporalio/worker';
import { histogramBuckets, METRICS } from '../core/metrics.js';
import type { ReleaseMetricsSinks } from '../workflows/release-metrics.js';

/** The runtime options a worker's environment asks for; `metrics` is undefined when the endpoint is off. */
export function runtimeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, logLevel?: LogLevel): RuntimeOptions & { metricsAddress?: string } {
  const address = env.TIDEGATE_METRICS_ADDRESS?.trim();
  if (address && !/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address)) {
    throw new Error(`TIDEGATE_METRICS_ADDRESS must be host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464 (got "${address}")`);
  }
  return {
    ...(logLevel ? { logger: new DefaultLogger(logLevel) } : {}),
    ...(address
      ? {
          metricsAddress: address,
          telemetryOptions: { metrics: { prometheus: { bindAddress: address, histogramBucketOverrides: histogramBuckets() } } },
        }
      : {}),
  };
}

/**
 * Installs the Runtime for this process (once, before any NativeConnection); returns the metrics
 * endpoint's URL, if there is one. A taken address fails here, naming the variable.
 */
export function installWorkerRuntime(env: NodeJS.ProcessEnv = process.env, logLevel?: LogLevel): { metricsUrl?: string } {
  const { metricsAddress, ...options } = runtimeOptionsFromEnv(env, logLevel);
  try {
    Runtime.install(options);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(metricsAddress ? `cannot serve metrics on TIDEGATE_METRICS_ADDRESS=${metricsAddress}: ${message}` : message, { cause: err });
  }
  return metricsAddress ? { metricsUrl: `http://${metricsAddress}/metrics` } : {};
}

/**
 * For processes that run a worker beside other work (`npm run dev`, the demo): the metrics endpoint
 * when its address is free, otherwise a warning and none (another worker of the stack serves it).
 */
export function installWorkerRuntimeOrWarn(env: NodeJS.ProcessEnv, logLevel: LogLevel, warn: (line: string) => void): { metricsUrl?: string } {
  try {
    return installWorkerRuntime(env, logLevel);
  } catch (err) {
    if (!env.TIDEGATE_METRICS_ADDRESS) throw err;
    warn(`${err instanceof Error ? err.message : String(err)}; this worker serves no metrics`);
    return installWorkerRuntime({ ...env, TIDEGATE_METRICS_ADDRESS: '' }, logLevel);
  }
}

/** Runs whose end this process counted (bounded: the newest ones). */
const endedRuns = new Set<string>();
const REMEMBERED_RUNS = 10_000;

/**
 * The `tidegateMetrics` sink: a release's end, counted once per run even when the workflow task
 * that completes it runs again (see src/workflows/release-metrics.ts), on the Runtime's metric meter
 * with the labels the SDK gives workflow metrics (namespace, taskQueue, workflowType).
 */
export function releaseMetricsSinks(): InjectedSinks<ReleaseMetricsSinks> {
  return {
    tidegateMetrics: {
      releaseEnded: {
        callDuringReplay: false,
        fn(info, services, outcome, cause, seconds) {
          if (endedRuns.has(info.runId)) return;
          endedRuns.add(info.runId);
          if (endedRuns.size > REMEMBERED_RUNS) endedRuns.delete(endedRuns.values().next().value ?? '');
          const meter = Runtime.instance().metricMeter.withTags({ namespace: info.namespace, taskQueue: info.taskQueue, workflowType: info.workflowType });
          const ended = meter.createCounter('tidegate_releases_ended', undefined, METRICS.tidegate_releases_ended.description);
          for (const service of services) ended.add(1, { service, outcome, cause });
          meter.createHistogram('tidegate_release_duration_seconds', 'float', 's', METRICS.tidegate_release_duration_seconds.description).record(seconds, { outcome });
        },
      },
    },
  };
}
