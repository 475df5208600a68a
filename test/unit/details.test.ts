// The release page's current details (what the Temporal UI shows on a release): on every recorded
// history's final status, and on live statuses no recording holds — a timed pause with the time it
// goes on by itself, an approval gate with who may still approve and the exact commands, the last
// verdict of each analysis, and text from people that must not break the markdown.
import { currentDetails } from '../../src/core/details.js';
import { planRelease } from '../../src/core/plan.js';
import { initialStatus, upgradeStatus, type AnalysisRun, type ReleaseStatus } from '../../src/core/status.js';
import { specFor } from '../../devkit/testing/harness.js';
import { historyFiles, loadRecorded } from '../cli/support/recorded.js';
import { spec as waveSpec, waveStatuses as waves } from './support/wave-statuses.js';

describe.each(historyFiles())('%s', (file) => {
  test('an ended release says how it ended and why, and offers no command', () => {
    const r = loadRecorded(file);
    const details = currentDetails(upgradeStatus(r.result.status), r.input.spec);
    expect(details.split('\n')[0]).toContain(`· **${r.result.outcome}**`);
    if (r.result.reason) expect(details).toContain(r.result.reason.replace(/([\\`*_[\]<|])/g, '\\$1'));
    expect(details).not.toMatch(/Waiting for|Abort:/);
  });
});

const spec = specFor('checkout', '1.4.2', (doc) => {
  doc.production.approval = { approvers: ['alice', 'bob', 'carol', 'dave'], minApprovals: 2, timeout: '24h', onTimeout: 'rollback' };
});
const live = (edit: (s: ReleaseStatus) => void): ReleaseStatus => {
  const s = initialStatus({ releaseId: 'checkout@1.4.2', spec, plan: planRelease(spec), initiator: 'dave', startedAt: '2026-12-02T10:00:00.000Z' });
  edit(s);
  return s;
};

test('a timed pause says until when, and the command that goes on now', () => {
  const details = currentDetails(
    live((s) => {
      s.stage = 'canary';
      s.pausedFor = 'canary step 2: pause 300s';
      s.pause = { code: 'step-pause', service: 'checkout', stage: 'canary', step: 2, until: '2026-12-02T10:42:00.000Z' };
      const svc = s.services[0];
      if (svc) Object.assign(svc, { activeColor: 'blue', newColor: 'green', canaryWeight: 10, step: { index: 1, total: 4, label: 'pause 5m' } });
    }),
    spec,
  );
  expect(details).toContain('**checkout@1.4.2** · canary · started by dave');
  expect(details).toContain('- **checkout** `registry.local/checkout:1.4.2`: blue → green at 10% · step 2/4: pause 5m');
  expect(details).toContain('**Waiting for** promote: canary step 2: pause 300s, until 2026-12-02 10:42 UTC — `tidegate promote checkout@1.4.2`');
  expect(details).toContain('Abort: `tidegate abort checkout@1.4.2 --reason <why>`');
});

test('a release waiting for its window says until when and why; one held by a global freeze says who froze it', () => {
  const windowed = currentDetails(
    live((s) => {
      s.stage = 'build';
      s.waiting = { service: 'checkout', stage: 'staging', reason: 'outside the allowed window (mon–fri 09:00–17:00 Europe/Berlin)', source: 'spec', opensAt: '2026-12-07T08:00:00.000Z', since: '2026-12-05T10:00:00.000Z' };
    }),
    spec,
  );
  expect(windowed).toContain('**Waiting** for the window that opens at 2026-12-07 08:00 UTC before staging of checkout: outside the allowed window (mon–fri 09:00–17:00 Europe/Berlin)');
  expect(windowed).toContain('Abort: `tidegate abort checkout@1.4.2 --reason <why>`');
  const frozen = currentDetails(
    live((s) => {
      s.waiting = { service: 'checkout', stage: 'switch', reason: 'frozen by erin since 2026-12-05T10:00:00.000Z: incident 4711 (tidegate unfreeze lifts it)', source: 'global-freeze', since: '2026-12-05T10:00:00.000Z' };
    }),
    spec,
  );
  expect(frozen).toContain('**Waiting** before switch of checkout: frozen by erin since 2026-12-05T10:00:00.000Z: incident 4711 (tidegate unfreeze lifts it)');
});

test('an approval gate names who may still approve (not the initiator), until when, and the commands — with --key where signatures are required', () => {
  const details = currentDetails(
    live((s) => {
      s.stage = 'approval';
      s.service = 'checkout';
      s.controls = { requireSigned: true, signers: { source: '/etc/tidegate/allowed_signers', sha256: 'ab', principals: ['alice', 'bob', 'carol'] }, decisions: [] };
      const svc = s.services[0];
      if (!svc) return;
      svc.stages.approval = 'running';
      svc.approvals = [{ by: 'alice', at: '2026-12-02T10:20:00.000Z', comment: 'looks *good* `ok`', proof: { keyType: 'ssh-ed25519', fingerprint: 'SHA256:abc', statement: '{}', signature: 'sig' } }];
      svc.approvalsNeeded = 1;
      svc.approvalUntil = '2026-12-03T10:10:00.000Z';
      svc.gate = { nonce: 'n-1', requireSigned: true, signers: { source: '/etc/tidegate/allowed_signers', sha256: 'ab', principals: ['alice', 'bob', 'carol'] } };
    }),
    spec,
  );
  expect(details).toContain('**Waiting for** 1 more approval of checkout from bob or carol, until 2026-12-03 10:10 UTC (then rollback)');
  expect(details).toContain('- approve: `tidegate approve checkout@1.4.2 --as <you> --key <your SSH key>`');
  expect(details).toContain('- reject: `tidegate reject checkout@1.4.2 --as <you> --reason <why> --key <your SSH key>`');
  // the comment is someone's text: its markdown is escaped
  expect(details).toContain('- checkout: approved by alice (signed SHA256:abc): looks \\*good\\* \\`ok\\`');
  expect(details).toContain('Abort: `tidegate abort checkout@1.4.2 --reason <why> --key <your SSH key>`');
});

test('each analysis shows its last verdict with its numbers', () => {
  const run = (phase: AnalysisRun['phase'], value: number, reason: string): AnalysisRun => ({
    id: `r-${value}`,
    analysis: 'success-rate',
    kind: 'threshold',
    service: 'checkout',
    stage: 'canary',
    step: 2,
    color: 'green',
    query: 'q',
    phase,
    reason,
    measurements: [{ at: '2026-12-02T10:05:00.000Z', phase: 'Successful', value }],
  });
  const details = currentDetails(live((s) => void s.analyses.push(run('Inconclusive', 0.97, 'not enough traffic'), run('Successful', 0.998, '0.998 >= 0.99'))), spec);
  expect(details).toContain('- success-rate on checkout (canary step 2): **Successful** · last value 0.998 — 0.998 >= 0.99');
  expect(details).not.toContain('Inconclusive');
});

describe('a release across clusters: one waves line; a cluster’s release names its parent', () => {
  test.each<[string, ReleaseStatus, string]>([
    ['in progress', waves.inProgress, '**Waves:** 1 canary baked 30m · 2 rest releasing (1/3 released)'],
    ['baking', waves.baking, '**Waves:** 1 canary baking until 2026-12-05T12:40:00.000Z · 2 rest waiting'],
    ['rolling back', waves.rollingBack, '**Waves:** 1 canary rolling back · 2 rest rolling back; rollback, newest first: us-1 rolled itself back, then eu-2 undone, eu-1 to undo'],
    ['rolled back', waves.rolledBack, '**Waves:** 1 canary rolled back · 2 rest rolled back; rollback, newest first: us-1 rolled itself back, then eu-2 undone, eu-1 undone'],
  ])('%s', (_, status, line) => {
    const details = currentDetails(status, waveSpec);
    expect(details.split('\n').filter((l) => l.startsWith('**Waves:**'))).toEqual([line]);
    expect(details).not.toContain('Cluster **');
  });

  test('a cluster’s release: its cluster, context, wave and parent; no waves line', () => {
    const details = currentDetails(waves.child, waveSpec);
    expect(details).toContain('Cluster **us-1** (context `gke-us-1`) in wave 2 of **checkout@2.0.0**');
    expect(details).not.toContain('**Waves:**');
  });

  test('without waves nothing changes: no waves line', () => {
    const { waves: _none, ...plain } = waves.inProgress;
    expect(currentDetails({ ...plain, waves: [] }, waveSpec)).toBe(currentDetails(plain, waveSpec));
  });
});
