// What an operator sees of a release in the Temporal UI, read through the same APIs the UI uses
// (the workflow metadata query, describe): the page's current details say what the release waits
// for and the command to act, every handler says what it does, the start carries a summary and
// details, and the TidegateAwaiting search attribute names who may still approve — cleared when the
// gate closes, an abort included.
import type { Harness } from '../../devkit/testing/harness.js';
import { approvalOnlySpec, startHarness } from '../../devkit/testing/harness.js';
import { AWAITING_KEY } from '../../src/workflows/search-attributes.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.stop());

interface Metadata {
  currentDetails?: string;
  definition?: { type?: string; queryDefinitions?: { name?: string; description?: string }[]; signalDefinitions?: { name?: string; description?: string }[]; updateDefinitions?: { name?: string; description?: string }[] };
}

test("a release's page says what it waits for, whom, until when and how to act; its handlers say what they do; TidegateAwaiting follows the gate", async () => {
  const spec = approvalOnlySpec('orders', '2.0.0');
  const { releaseId } = await h.releases.start(spec, { initiator: 'dave' });
  const handle = h.env.client.workflow.getHandle(releaseId);
  await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.approvalsNeeded === 2);

  const described = await handle.describe();
  expect(await described.staticSummary()).toBe('release orders registry.local/orders:2.0.0');
  expect(await described.staticDetails()).toMatch(/^\*\*orders@2\.0\.0\*\* started by dave\n\n- \*\*orders\*\* 2\.0\.0 `registry\.local\/orders:2\.0\.0`\n\nSpec sha256 [0-9a-f]{64}\n/);
  expect(described.typedSearchAttributes.get(AWAITING_KEY)).toEqual(['alice', 'bob', 'carol']);

  const meta = await handle.query<Metadata>('__temporal_workflow_metadata');
  expect(meta.currentDetails).toContain('**orders@2.0.0** · approval · started by dave');
  expect(meta.currentDetails).toMatch(/\*\*Waiting for\*\* 2 more approvals of orders from alice or bob or carol, until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(then rollback\)/);
  expect(meta.currentDetails).toContain('- approve: `tidegate approve orders@2.0.0 --as <you>`');
  const described_ = (list: { name?: string; description?: string }[] | undefined): Record<string, string> => Object.fromEntries((list ?? []).map((d) => [d.name ?? '', d.description ?? '']));
  const updates = described_(meta.definition?.updateDefinitions);
  const signals = described_(meta.definition?.signalDefinitions);
  const queries = described_(meta.definition?.queryDefinitions);
  expect(Object.keys(updates).sort()).toEqual(['abort', 'approve', 'promote', 'reject']);
  expect(Object.keys(signals).sort()).toEqual(['abort', 'calendarChanged', 'lockFreed', 'refused']);
  for (const [name, text] of Object.entries({ ...updates, ...signals, status: queries.status ?? '' })) expect({ name, described: text.length > 20 }).toEqual({ name, described: true });

  await h.releases.approve(releaseId, 'alice');
  expect((await handle.describe()).typedSearchAttributes.get(AWAITING_KEY)).toEqual(['bob', 'carol']);
  expect((await handle.query<Metadata>('__temporal_workflow_metadata')).currentDetails).toContain('- orders: approved by alice (unverified)');

  // an abort while the gate waits: the gate closes, nobody is waited for any more
  await h.releases.abort(releaseId, 'erin', 'customer incident');
  const ended = await h.until(releaseId, (s) => s.outcome !== undefined);
  expect(ended.outcome).toBe('aborted');
  expect((await handle.describe()).typedSearchAttributes.get(AWAITING_KEY)).toBeUndefined();
  const last = await handle.query<Metadata>('__temporal_workflow_metadata');
  expect(last.currentDetails?.split('\n')[0]).toBe('**orders@2.0.0** · **aborted** · started by dave');
  expect(last.currentDetails).not.toContain('Waiting for');
});
