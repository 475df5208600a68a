// Runs a real Prometheus (Debian's package) with a generated config: a 1 s scrape interval over the
// given loopback targets, its TSDB in a directory of the caller's, on a free port.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { httpOk, ManagedProcess } from './process.js';
import { toolPath } from '../toolchain/tools.js';

/** A target with labels of its own, which Prometheus adds to every series scraped from it (e.g. `cluster`). */
export interface LabelledTarget {
  target: string;
  labels: Record<string, string>;
}

export interface ScrapeJob {
  job: string;
  /** host:port targets, loopback only; a labelled one gets a static config of its own. */
  targets: (string | LabelledTarget)[];
  metricsPath?: string;
}

/**
 * The job's static configs: its plain targets together (as ever, so a config without labels is
 * unchanged), then one per labelled target.
 *
 *   ['a:1', {target: 'b:2', labels: {cluster: 'cluster-2'}}]
 *     → [{targets: ['a:1']}, {targets: ['b:2'], labels: {cluster: 'cluster-2'}}]
 */
function staticConfigs(targets: ScrapeJob['targets']): { targets: string[]; labels?: Record<string, string> }[] {
  const plain = targets.filter((t): t is string => typeof t === 'string');
  const labelled = targets.filter((t): t is LabelledTarget => typeof t !== 'string');
  return [...(plain.length || !labelled.length ? [{ targets: plain }] : []), ...labelled.map((t) => ({ targets: [t.target], labels: t.labels }))];
}

export interface PrometheusOptions {
  dir: string;
  jobs: ScrapeJob[];
  port?: number;
  scrapeInterval?: string;
  /** Keep running after this process exits (the local stack). */
  detached?: boolean;
  /** Stopped by a guardian if this process dies first (default: unless detached; always in tests). */
  guard?: boolean;
}

export interface PrometheusServer {
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** The generated prometheus.yml (YAML is a superset of JSON, so JSON is written). */
export function prometheusConfig(jobs: ScrapeJob[], scrapeInterval = '1s'): string {
  return JSON.stringify(
    {
      global: { scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval, scrape_timeout: scrapeInterval },
      scrape_configs: jobs.map((j) => ({
        job_name: j.job,
        metrics_path: j.metricsPath ?? '/metrics',
        static_configs: staticConfigs(j.targets),
      })),
    },
    null,
    2,
  );
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  mkdirSync(join(options.dir, 'data'), { recursive: true });
  const configFile = join(options.dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(options.jobs, options.scrapeInterval));
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const proc = await ManagedProcess.start({
    name: 'prometheus',
    command: toolPath('prometheus'),
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(options.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ],
    logFile: join(options.dir, 'prometheus.log'),
    ready: () => httpOk(`${url}/-/ready`),
    detachFromParent: options.detached ?? false,
    ...(options.guard === undefined ? {} : { guard: options.guard }),
  });
  return { url, process: proc, stop: () => proc.stop() };
}
