// Given the notify activity and the local notification receiver on a free port… each event reaches
// each sink once with its key, a retried attempt sends the same key and skips the sinks an earlier
// attempt delivered to, a sink's refusal is permanent, and no URL (the secret part) ever appears in
// what the activity returns or throws.
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createNotifyActivities, sinksFromEnv } from '../../src/activities/notify/index.js';
import type { NotificationEvent } from '../../src/core/notifications.js';
import { startNotifyReceiver, type NotifyReceiver } from '../../devkit/notify-receiver/server.js';
import { roundTrip } from '../../devkit/testing/payloads.js';
import { freePort } from '../../devkit/stack/ports.js';

let receiver: NotifyReceiver;
const SECRET = 'test-webhook-secret';
beforeEach(async () => {
  receiver = await startNotifyReceiver({ secret: SECRET });
});
afterEach(async () => receiver?.stop());

const event = (kind: NotificationEvent['kind'], seq = 1): NotificationEvent => ({
  key: `checkout@3.0.0/run-1/${seq}-${kind}`,
  kind,
  releaseId: 'checkout@3.0.0',
  runId: 'run-1',
  at: '2026-12-03T10:00:00.000Z',
  name: 'checkout',
  version: '3.0.0',
  initiator: 'dave',
  services: [{ service: 'checkout', version: '3.0.0', image: 'registry.local/checkout:3.0.0' }],
  service: 'checkout',
  approval: { approvers: ['alice', 'bob'], minApprovals: 2, approvedBy: [], until: '2026-12-04T10:00:00.000Z', requireSigned: false },
});

const activities = () =>
  createNotifyActivities({
    sinks: sinksFromEnv({ TIDEGATE_SLACK_WEBHOOK_URL: `${receiver.url}/slack`, TIDEGATE_WEBHOOK_URL: `${receiver.url}/webhook`, TIDEGATE_WEBHOOK_SECRET: SECRET }),
    releaseUrl: (id) => `http://ui.local/namespaces/default/workflows/${encodeURIComponent(id)}`,
  });

test('one event reaches both sinks once, with its key, the UI link and a valid signature', async () => {
  const result = await new MockActivityEnvironment().run(activities().notify, event('approval-needed'));
  expect(roundTrip(result)).toEqual({ delivered: ['slack', 'webhook'] });
  const got = receiver.messages();
  expect(got.map((m) => `${m.sink} ${m.key} ${m.event ?? ''}`)).toEqual(['slack checkout@3.0.0/run-1/1-approval-needed approval-needed', 'webhook checkout@3.0.0/run-1/1-approval-needed approval-needed']);
  const slack = got[0]?.body as { text: string };
  expect(slack.text).toContain('checkout@3.0.0 needs approval of checkout: 2 of alice, bob (none yet)');
  expect(slack.text).toContain('<http://ui.local/namespaces/default/workflows/checkout%403.0.0|open in the Temporal UI>');
  expect(got[1]?.body).toMatchObject({ kind: 'approval-needed', releaseId: 'checkout@3.0.0', link: 'http://ui.local/namespaces/default/workflows/checkout%403.0.0' });
  // the receiver checked X-Tidegate-Signature against the body it got (a wrong secret is answered 401, below)
  expect(got[1]?.status).toBe(200);
});

test('a sink down: the attempt fails retryably; the retry skips the sink already delivered and repeats the key', async () => {
  const notify = activities().notify;
  // the Slack sink is answered, the webhook is not (503)
  await fetch(`${receiver.url}/_receiver/fail?count=1&status=503`, { method: 'POST' });
  const first = new MockActivityEnvironment();
  const beats: unknown[] = [];
  first.on('heartbeat', (d: unknown) => beats.push(d));
  // the first request is Slack's: it takes the 503; the webhook is delivered
  const err = await first.run(notify, event('released', 2)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(false);
  expect((err as ApplicationFailure).message).toBe('notification released not delivered yet: TIDEGATE_SLACK_WEBHOOK_URL answered HTTP 503; it is sent again with the same Idempotency-Key');
  expect(beats).toEqual([{ delivered: ['webhook'] }]);
  // the retry (its heartbeat details say what was delivered) sends to Slack only
  const retry = new MockActivityEnvironment({ heartbeatDetails: beats.at(-1) });
  expect(await retry.run(notify, event('released', 2))).toEqual({ delivered: ['webhook', 'slack'] });
  expect(receiver.received.map((r) => `${r.sink} ${r.status} ${r.key}`)).toEqual([
    'slack 503 checkout@3.0.0/run-1/2-released',
    'webhook 200 checkout@3.0.0/run-1/2-released',
    'slack 200 checkout@3.0.0/run-1/2-released',
  ]);
});

test('a repeat after a lost answer is sent with the same key, and the receiver counts it once', async () => {
  const notify = activities().notify;
  await new MockActivityEnvironment().run(notify, event('aborted', 3));
  await new MockActivityEnvironment().run(notify, event('aborted', 3));
  expect(receiver.received).toHaveLength(4);
  expect(receiver.messages()).toHaveLength(2);
});

test('a refusal (4xx) is permanent, and nothing the activity says holds the URL', async () => {
  const notify = createNotifyActivities({ sinks: sinksFromEnv({ TIDEGATE_WEBHOOK_URL: `${receiver.url}/webhook?token=s3cr3t`, TIDEGATE_WEBHOOK_SECRET: 'wrong-secret' }) }).notify;
  const err = (await new MockActivityEnvironment().run(notify, event('released')).catch((e: unknown) => e)) as ApplicationFailure;
  expect(err.nonRetryable).toBe(true);
  expect(err.type).toBe('NotificationRefused');
  expect(err.message).toBe("notification released refused: TIDEGATE_WEBHOOK_URL answered HTTP 401; check the sink's URL and what it accepts");
  // nothing listens on a free port
  const down = createNotifyActivities({ sinks: sinksFromEnv({ TIDEGATE_SLACK_WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/services/T000/B000/s3cr3t` }) }).notify;
  const unreachable = (await new MockActivityEnvironment().run(down, event('released')).catch((e: unknown) => e)) as ApplicationFailure;
  expect(unreachable.nonRetryable).toBe(false);
  expect(unreachable.message).toMatch(/^notification released not delivered yet: TIDEGATE_SLACK_WEBHOOK_URL did not answer \(ECONNREFUSED\)/);
  expect(`${err.message} ${unreachable.message}`).not.toContain('s3cr3t');
});

test('no sink configured: nothing is sent, at once', async () => {
  expect(await createNotifyActivities().notify(event('released'))).toEqual({ delivered: [], none: true });
});

test("the worker's environment: bad URLs are named by their variable, never echoed", () => {
  expect(() => sinksFromEnv({ TIDEGATE_SLACK_WEBHOOK_URL: 'not a url s3cr3t' })).toThrow(/^TIDEGATE_SLACK_WEBHOOK_URL is not a URL$/);
  expect(() => sinksFromEnv({ TIDEGATE_WEBHOOK_URL: 'ftp://host/s3cr3t' })).toThrow('TIDEGATE_WEBHOOK_URL must be an http(s) URL (got ftp:)');
  expect(() => sinksFromEnv({ TIDEGATE_WEBHOOK_SECRET: 'x' })).toThrow('TIDEGATE_WEBHOOK_SECRET is set without TIDEGATE_WEBHOOK_URL');
  expect(sinksFromEnv({})).toEqual([]);
});
