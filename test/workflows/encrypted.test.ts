// A release whose client and worker share payload keys, on the time-skipping server: it runs as
// usual, while its history holds only ciphertext with a key id — the spec, the approvals, every
// activity's input and result — and its search attributes stay plaintext. With the key the CLI's
// readers (verify, analysis replay) read it; without it they say which variable to set.
import { randomBytes } from 'node:crypto';
import type { Harness } from '../../devkit/testing/harness.js';
import { approvalOnlySpec, startHarness } from '../../devkit/testing/harness.js';
import { historyPayloads, recordedRelease } from '../../src/client/analysis-replay.js';
import { InvalidInputError } from '../../src/client/errors.js';
import { attest } from '../../src/client/verify.js';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../src/temporal/codec.js';
import { SERVICE_KEY } from '../../src/workflows/search-attributes.js';

const keys = [{ id: 'test-2026-12', key: randomBytes(32) }];
let h: Harness;
beforeEach(async () => {
  h = await startHarness('tidegate-test', { payloadKeys: keys });
});
afterEach(async () => h?.stop());

test('an encrypted release runs, its history holds no plaintext payload, and only a reader with the key reads it', async () => {
  const spec = approvalOnlySpec('vault', '1.2.0');
  const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
  await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.approvalsNeeded === 2);
  await h.releases.approve(releaseId, 'alice', 'the secret migration plan');
  await h.releases.approve(releaseId, 'bob');
  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');

  const handle = h.env.client.workflow.getHandle(releaseId);
  const history = await handle.fetchHistory();
  const payloads = historyPayloads(history.events ?? []);
  expect(payloads.length).toBeGreaterThan(10);
  expect(new Set(payloads.map((p) => Buffer.from(p.metadata?.encoding ?? []).toString()))).toEqual(new Set([ENCRYPTED_ENCODING]));
  const bytes = Buffer.concat(payloads.map((p) => Buffer.from(p.data ?? [])));
  for (const secret of ['the secret migration plan', 'registry.local/vault', 'alice']) expect(bytes.includes(Buffer.from(secret))).toBe(false);
  // search attributes are not payloads: they stay readable (and the README says so)
  expect((await handle.describe()).typedSearchAttributes.get(SERVICE_KEY)).toBe('vault');

  expect(() => recordedRelease(history, releaseId)).toThrow(new InvalidInputError("the history's start input is encrypted: give its keys in TIDEGATE_PAYLOAD_KEYS (or TIDEGATE_PAYLOAD_KEYS_FILE)"));
  const codec = new AesGcmCodec(keys);
  expect(recordedRelease(history, releaseId, codec).status.services[0]?.approvals.map((a) => a.comment ?? '')).toEqual(['the secret migration plan', '']);
  const attestation = await attest(history, '', releaseId, { codec });
  expect(attestation.decisions.map((d) => [d.decision, d.by, d.outcome])).toEqual([
    ['approve', 'alice', 'accepted'],
    ['approve', 'bob', 'accepted'],
  ]);
});

test('a release that does not ship ends as a failed workflow whose encrypted details are its result, and every reader still gets the result', async () => {
  const spec = approvalOnlySpec('vault', '1.3.0');
  const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
  await h.until(releaseId, (s) => s.stage === 'approval');
  await h.releases.reject(releaseId, 'alice', 'the secret migration plan is not ready');
  // the client library and the CLI read the result as before
  const result = await h.finish(releaseId);
  expect([result.outcome, result.cause, result.status.services[0]?.rejection?.by]).toEqual(['rejected', 'rejected', 'alice']);

  // the Temporal UI's list shows it as Failed, not as a green Completed row
  const handle = h.env.client.workflow.getHandle(releaseId);
  expect((await handle.describe()).status.name).toBe('FAILED');
  const history = await handle.fetchHistory();
  const failed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
  expect(failed?.applicationFailureInfo?.type).toBe('ReleaseRejected');
  expect(failed?.applicationFailureInfo?.nonRetryable).toBe(true);
  // the message is plaintext (the UI shows it without a codec): the outcome only, never the reason
  expect(failed?.message).toBe('release rejected; the result is in the failure details');
  const details = failed?.applicationFailureInfo?.details?.payloads ?? [];
  expect(details.map((p) => Buffer.from(p.metadata?.encoding ?? []).toString())).toEqual([ENCRYPTED_ENCODING]);
  expect(Buffer.concat(details.map((p) => Buffer.from(p.data ?? []))).includes(Buffer.from('the secret migration plan'))).toBe(false);
  // history readers take the result from the failure's details
  const codec = new AesGcmCodec(keys);
  expect(recordedRelease(history, releaseId, codec).status.outcome).toBe('rejected');
  const attestation = await attest(history, '', releaseId, { codec });
  expect(attestation.decisions.map((d) => [d.decision, d.by, d.outcome])).toEqual([['reject', 'alice', 'accepted']]);
});
