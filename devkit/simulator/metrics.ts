// Request metrics in the Prometheus text exposition format (version 0.0.4): a counter
// http_requests_total{service,color,code} and a histogram http_request_duration_seconds{service,color}.
// Hand-written because two metric families need no client library.

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2.5, 5, 10];

interface Series {
  labels: Record<string, string>;
  /** The label pairs as exposed, without braces (`service="a",color="blue"`), built once. */
  text: string;
}

interface Histogram extends Series {
  /** Requests per bucket, not cumulative (cumulated when exposed); the last is (10 s, +Inf). */
  perBucket: number[];
  sum: number;
  count: number;
}

function pairsText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}

/** Index of the first bucket whose upper bound holds `seconds` (LATENCY_BUCKETS.length for +Inf). */
function bucketOf(seconds: number): number {
  let lo = 0;
  let hi = LATENCY_BUCKETS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seconds <= (LATENCY_BUCKETS[mid] ?? Infinity)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Counters and histograms kept per label set, keyed by plain strings: the simulator observes tens of
 * thousands of requests a second in benchmarks, and exposes every series each second.
 */
export class RequestMetrics {
  private readonly requests = new Map<string, Series & { value: number }>();
  private readonly durations = new Map<string, Histogram>();

  observe(labels: { service: string; color: string }, code: number, seconds: number): void {
    const hk = `${labels.service}\u0000${labels.color}`;
    const rk = `${hk}\u0000${code}`;
    let counter = this.requests.get(rk);
    if (!counter) {
      const reqLabels = { ...labels, code: String(code) };
      counter = { labels: reqLabels, text: pairsText(reqLabels), value: 0 };
      this.requests.set(rk, counter);
    }
    counter.value += 1;

    let h = this.durations.get(hk);
    if (!h) {
      const histLabels = { ...labels };
      h = { labels: histLabels, text: pairsText(histLabels), perBucket: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.durations.set(hk, h);
    }
    const b = bucketOf(seconds);
    h.perBucket[b] = (h.perBucket[b] ?? 0) + 1;
    h.sum += seconds;
    h.count += 1;
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
    for (const s of this.requests.values()) lines.push(`http_requests_total{${s.text}} ${s.value}`);
    lines.push('# HELP http_request_duration_seconds Request latency, by service and color.', '# TYPE http_request_duration_seconds histogram');
    const sep = (text: string): string => (text === '' ? '' : ',');
    for (const h of this.durations.values()) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += h.perBucket[i] ?? 0;
        lines.push(`http_request_duration_seconds_bucket{${h.text}${sep(h.text)}le="${le}"} ${cumulative}`);
      });
      lines.push(`http_request_duration_seconds_bucket{${h.text}${sep(h.text)}le="+Inf"} ${h.count}`);
      lines.push(`http_request_duration_seconds_sum{${h.text}} ${h.sum}`);
      lines.push(`http_request_duration_seconds_count{${h.text}} ${h.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
