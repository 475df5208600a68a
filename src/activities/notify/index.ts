// Sends a release's notifications to the sinks configured on the worker: a Slack-compatible
// incoming webhook and a generic JSON webhook. The URLs (which carry tokens) and the signing secret
// stay in the worker's environment; the workflow passes only the event. Every request carries the
// event's key as Idempotency-Key, so when an attempt is retried (a sink was down, the worker died
// mid-send) the receiver can drop the repeat; sinks an attempt delivered to are kept in its heartbeat
// details, so the next attempt does not send to them again.
import { createHmac } from 'node:crypto';
import { failure } from '../../core/failures.js';
import { slackBody, webhookBody, type NotificationEvent } from '../../core/notifications.js';
import { activityContext } from '../context.js';
import type { NotifyActivities, NotifyResult } from '../types.js';

export type SinkKind = 'slack' | 'webhook';

export interface NotificationSink {
  kind: SinkKind;
  /** Secret: never logged, never in a result or a failure message. */
  url: string;
  /** The generic webhook: an HMAC-SHA256 of the body with this secret goes in X-Tidegate-Signature. */
  secret?: string;
}

export interface NotifyConfig {
  sinks: NotificationSink[];
  /** The release's page in the Temporal UI, when the worker knows the UI's address. */
  releaseUrl?: (releaseId: string) => string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

const ENV_NAME: Record<SinkKind, string> = { slack: 'TIDEGATE_SLACK_WEBHOOK_URL', webhook: 'TIDEGATE_WEBHOOK_URL' };

/** The sinks the worker's environment configures; a URL that is not http(s) is an error naming the variable (never the value). */
export function sinksFromEnv(env: NodeJS.ProcessEnv): NotificationSink[] {
  const sinks: NotificationSink[] = [];
  for (const kind of ['slack', 'webhook'] as const) {
    const url = env[ENV_NAME[kind]];
    if (!url) continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`${ENV_NAME[kind]} is not a URL`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`${ENV_NAME[kind]} must be an http(s) URL (got ${parsed.protocol})`);
    sinks.push({ kind, url, ...(kind === 'webhook' && env.TIDEGATE_WEBHOOK_SECRET ? { secret: env.TIDEGATE_WEBHOOK_SECRET } : {}) });
  }
  if (env.TIDEGATE_WEBHOOK_SECRET && !env.TIDEGATE_WEBHOOK_URL) throw new Error('TIDEGATE_WEBHOOK_SECRET is set without TIDEGATE_WEBHOOK_URL');
  return sinks;
}

/** The X-Tidegate-Signature header of a body: `sha256=<hex HMAC>`, as a receiver recomputes it. */
export function signatureHeader(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

type Outcome = { kind: 'delivered' } | { kind: 'retry'; why: string } | { kind: 'refused'; why: string };

async function send(sink: NotificationSink, event: NotificationEvent, link: string | undefined, timeoutMs: number): Promise<Outcome> {
  const body = JSON.stringify(sink.kind === 'slack' ? slackBody(event, link) : webhookBody(event, link));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'idempotency-key': event.key,
    'x-tidegate-event': event.kind,
    'user-agent': 'tidegate',
  };
  if (sink.secret) headers['x-tidegate-signature'] = signatureHeader(sink.secret, body);
  let res: Response;
  try {
    res = await fetch(sink.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    // the error's text may hold the URL: only its code goes out
    const e = err as { name?: string; cause?: { code?: string } };
    const code = e.cause?.code ?? (e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : 'the connection failed');
    return { kind: 'retry', why: `${ENV_NAME[sink.kind]} did not answer (${code})` };
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.ok) return { kind: 'delivered' };
  const why = `${ENV_NAME[sink.kind]} answered HTTP ${res.status}`;
  return res.status >= 500 || res.status === 408 || res.status === 429 ? { kind: 'retry', why } : { kind: 'refused', why };
}

export function createNotifyActivities(config: NotifyConfig = { sinks: [] }): NotifyActivities {
  const timeoutMs = config.timeoutMs ?? 10_000;
  return {
    async notify(event): Promise<NotifyResult> {
      if (config.sinks.length === 0) return { delivered: [], none: true };
      const ctx = activityContext();
      const earlier = ctx?.info.heartbeatDetails as { delivered?: unknown } | undefined;
      const delivered = new Set(Array.isArray(earlier?.delivered) ? earlier.delivered.filter((s): s is string => typeof s === 'string') : []);
      const link = config.releaseUrl?.(event.releaseId);
      const retry: string[] = [];
      const refused: string[] = [];
      for (const sink of config.sinks) {
        if (delivered.has(sink.kind)) continue;
        const outcome = await send(sink, event, link, timeoutMs);
        if (outcome.kind === 'delivered') {
          delivered.add(sink.kind);
          ctx?.heartbeat({ delivered: [...delivered] });
        } else (outcome.kind === 'retry' ? retry : refused).push(outcome.why);
      }
      // a sink that can come back is tried again (with the same key); one that refused is not
      if (retry.length > 0) throw failure('NotificationUnavailable', `notification ${event.kind} not delivered yet: ${[...retry, ...refused].join('; ')}; it is sent again with the same Idempotency-Key`);
      if (refused.length > 0) throw failure('NotificationRefused', `notification ${event.kind} refused: ${refused.join('; ')}; check the sink's URL and what it accepts`);
      return { delivered: [...delivered] };
    },
  };
}
