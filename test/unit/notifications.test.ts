// The notification texts and keys (src/core/notifications.ts): what a team reads in chat for each
// event, and which outcome sends which kind.
import type { AnalysisRun } from '../../src/core/status.js';
import { approvalCommands, endingKind, failedVerdicts, messageText, notificationKey, type NotificationEvent } from '../../src/core/notifications.js';

const base: NotificationEvent = {
  key: 'checkout@3.0.0/run-1/1-released',
  kind: 'released',
  releaseId: 'checkout@3.0.0',
  runId: 'run-1',
  at: '2026-12-03T10:00:00.000Z',
  name: 'checkout',
  version: '3.0.0',
  initiator: 'dave',
  services: [{ service: 'checkout', version: '3.0.0', image: 'registry.local/checkout:3.0.0' }],
};
const LINK = 'http://ui.local/namespaces/default/workflows/checkout%403.0.0';

test.each<[string, Partial<NotificationEvent>, string]>([
  [
    'approval needed, none yet',
    { kind: 'approval-needed', service: 'checkout', approval: { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, approvedBy: [], until: '2026-12-04T10:00:00.000Z', requireSigned: false } },
    ':raised_hand: checkout@3.0.0 needs approval of checkout: 2 of alice, bob, carol (none yet), by 2026-12-04T10:00:00.000Z\napprove: `tidegate approve checkout@3.0.0`  reject: `tidegate reject checkout@3.0.0 --reason "…"`',
  ],
  [
    'approval needed, signed, one in',
    { kind: 'approval-needed', service: 'payments', approval: { approvers: ['alice', 'bob'], minApprovals: 2, approvedBy: ['alice'], requireSigned: true } },
    ':raised_hand: checkout@3.0.0 needs approval of payments: 2 of alice, bob (approved so far: alice); signed decisions required\napprove: `tidegate approve checkout@3.0.0 --key ~/.ssh/id_ed25519`  reject: `tidegate reject checkout@3.0.0 --reason "…" --key ~/.ssh/id_ed25519`',
  ],
  ['released', { kind: 'released', outcome: 'released' }, ':white_check_mark: checkout@3.0.0 released (checkout 3.0.0), started by dave'],
  [
    'rolled back by an analysis, with its verdicts',
    { kind: 'rolled-back', outcome: 'rolled-back', cause: 'analysis', reason: 'analysis success-rate failed at canary step 3 of checkout', verdicts: [{ analysis: 'success-rate', service: 'checkout', phase: 'Failed', reason: '2 of 4 measurements failed (limit 1)' }] },
    ':rewind: checkout@3.0.0 rolled back: analysis success-rate failed at canary step 3 of checkout\n• success-rate on checkout: Failed — 2 of 4 measurements failed (limit 1)',
  ],
  ['rejected', { kind: 'rolled-back', outcome: 'rejected', cause: 'rejected', reason: 'carol rejected checkout: error budget is spent' }, ':rewind: checkout@3.0.0 rejected, rolled back: carol rejected checkout: error budget is spent'],
  ['aborted', { kind: 'aborted', outcome: 'aborted', reason: 'aborted by erin: incident 4711' }, ':octagonal_sign: checkout@3.0.0 aborted: aborted by erin: incident 4711; what it changed was rolled back'],
  [
    'no progress',
    { kind: 'stalled', service: 'checkout', stalled: { waitingFor: 'canary step 5: waiting for promote (tidegate promote checkout@3.0.0)', since: '2026-12-03T09:00:00.000Z', forMs: 3_600_000 } },
    ':hourglass: checkout@3.0.0 has made no progress for 1h (checkout): canary step 5: waiting for promote (tidegate promote checkout@3.0.0)',
  ],
])('%s', (_, fields, text) => {
  const event = { ...base, ...fields };
  expect(messageText(event)).toBe(text);
  expect(messageText(event, LINK)).toBe(`${text}\n<${LINK}|open in the Temporal UI>`);
});

test('each outcome sends one kind: a rejected, timed-out or failed release was rolled back too', () => {
  expect((['released', 'rolled-back', 'rejected', 'aborted', 'failed'] as const).map(endingKind)).toEqual(['released', 'rolled-back', 'rolled-back', 'aborted', 'rolled-back']);
});

test('the key names the release, the run and the place of the event in it', () => {
  expect(notificationKey('checkout@3.0.0', '7f3c', 2, 'approval-needed')).toBe('checkout@3.0.0/7f3c/2-approval-needed');
  expect(approvalCommands('shop@1.0.0', false)).toEqual({ approve: 'tidegate approve shop@1.0.0', reject: 'tidegate reject shop@1.0.0 --reason "…"' });
});

test('the verdicts a rolled-back message lists: Failed and Inconclusive runs, not the ones that passed or still run', () => {
  const run = (analysis: string, phase: AnalysisRun['phase'], reason?: string): AnalysisRun => ({ id: analysis, analysis, kind: 'threshold', service: 'checkout', stage: 'canary', color: 'green', query: 'q', phase, measurements: [], ...(reason ? { reason } : {}) });
  expect(failedVerdicts({ analyses: [run('a', 'Successful'), run('b', 'Failed', 'too many errors'), run('c', 'Inconclusive'), run('d', 'Running')] })).toEqual([
    { analysis: 'b', service: 'checkout', phase: 'Failed', reason: 'too many errors' },
    { analysis: 'c', service: 'checkout', phase: 'Inconclusive' },
  ]);
});
