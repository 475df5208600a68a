// Request metrics in the Prometheus text exposition format (version 0.0.4): a counter
// http_requests_total{service,color,code} and a histogram http_request_duration_seconds{service,color}.
// Hand-written because two metric families need no client library.

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2.5, 5, 10];

interface Series {
  labels: Record<string, string>;
}

interface Histogram extends Series {
  buckets: number[];
  sum: number;
  count: number;
}

function labelText(labels: Record<string, string>, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  return `{${pairs.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

function key(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort());
}

export class RequestMetrics {
  private readonly requests = new Map<string, Series & { value: number }>();
  private readonly durations = new Map<string, Histogram>();

  observe(labels: { service: string; color: string }, code: number, seconds: number): void {
    const reqLabels = { ...labels, code: String(code) };
    const rk = key(reqLabels);
    const counter = this.requests.get(rk) ?? { labels: reqLabels, value: 0 };
    counter.value += 1;
    this.requests.set(rk, counter);

    const hk = key(labels);
    const h = this.durations.get(hk) ?? { labels: { ...labels }, buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
    });
    h.sum += seconds;
    h.count += 1;
    this.durations.set(hk, h);
  }

  /** Total requests per label set so far (for `GET /state`). */
  totals(): { labels: Record<string, string>; value: number }[] {
    return [...this.requests.values()].map((s) => ({ labels: s.labels, value: s.value }));
  }

  exposition(): string {
    const lines: string[] = [
      '# HELP http_requests_total Requests served, by service, color and status code.',
      '# TYPE http_requests_total counter',
    ];
    for (const s of this.requests.values()) lines.push(`http_requests_total${labelText(s.labels)} ${s.value}`);
    lines.push('# HELP http_request_duration_seconds Request latency, by service and color.', '# TYPE http_request_duration_seconds histogram');
    for (const h of this.durations.values()) {
      LATENCY_BUCKETS.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket${labelText(h.labels, ['le', String(le)])} ${h.buckets[i] ?? 0}`));
      lines.push(`http_request_duration_seconds_bucket${labelText(h.labels, ['le', '+Inf'])} ${h.count}`);
      lines.push(`http_request_duration_seconds_sum${labelText(h.labels)} ${h.sum}`);
      lines.push(`http_request_duration_seconds_count${labelText(h.labels)} ${h.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
