// Worked statuses of a release across clusters (checkout@2.0.0: wave 1 "canary" = eu-1 with a
// 30m bake, wave 2 "rest" = eu-2, us-1, us-2 two at a time), as the parent and a child will report
// them: in progress, baking, rolling back, rolled back after us-1's canary failed, and us-1's own
// status. Shared by the renderer, details and payload-contract tests.
import { planRelease } from '../../../src/core/plan.js';
import { initialStatus, type ClusterStatus, type ReleaseStatus, type WaveStatus } from '../../../src/core/status.js';
import { waveEvents } from '../../../src/core/waves.js';
import { specFor } from '../../../devkit/testing/harness.js';

export const spec = specFor('checkout', '2.0.0');
const startedAt = '2026-12-05T12:00:00.000Z';

function status(releaseId: string, edit: (s: ReleaseStatus) => void): ReleaseStatus {
  const s: ReleaseStatus = { ...initialStatus({ releaseId, spec, plan: planRelease(spec), initiator: 'dave', startedAt }), runId: '7f3c' };
  edit(s);
  return s;
}

const cluster = (name: string, rest: Omit<ClusterStatus, 'cluster' | 'context'>): ClusterStatus => ({
  cluster: name,
  context: `gke-${name}`,
  ...(rest.startedSeq !== undefined ? { releaseId: `checkout@2.0.0/${name}` } : {}),
  ...rest,
});
const canaryWave = (state: WaveStatus['state'], eu1: ClusterStatus, extra: Partial<WaveStatus> = {}): WaveStatus => ({ name: 'canary', index: 0, maxParallel: 1, bakeMs: 1_800_000, state, clusters: [eu1], ...extra });
const restWave = (state: WaveStatus['state'], clusters: ClusterStatus[]): WaveStatus => ({ name: 'rest', index: 1, maxParallel: 2, bakeMs: 0, state, clusters });
const waiting = (name: string): ClusterStatus => cluster(name, { phase: 'waiting' });

const usFailed = 'analysis error-rate failed at canary step 2 of checkout: 3 failed measurements (limit 2)';
const timeline = (...entries: { code: ReleaseStatus['timeline'][number]['code']; event: string; at: string }[]): ReleaseStatus['timeline'] => entries.map((e) => ({ ...e, stage: 'release' }));

/** Wave 1 baked; wave 2 releases eu-2 (released) and us-1 (canary step 2 of 4, 20%); us-2 waits for a slot. */
export const inProgress = status('checkout@2.0.0', (s) => {
  s.stage = 'waves';
  s.waves = [
    canaryWave('baked', cluster('eu-1', { phase: 'released', startedSeq: 0 })),
    restWave('releasing', [
      cluster('eu-2', { phase: 'released', startedSeq: 1 }),
      cluster('us-1', { phase: 'releasing', startedSeq: 2, stage: 'canary', step: { index: 1, total: 4 }, canaryWeight: 20 }),
      waiting('us-2'),
    ]),
  ];
  s.timeline = timeline(
    { ...waveEvents.waveBaked({ index: 0, name: 'canary', bakeMs: 1_800_000 }), at: '2026-12-05T12:40:00.000Z' },
    { ...waveEvents.waveStarted({ index: 1, name: 'rest', maxParallel: 2 }, ['eu-2', 'us-1', 'us-2']), at: '2026-12-05T12:40:00.000Z' },
    { ...waveEvents.clusterReleased('eu-2'), at: '2026-12-05T12:52:00.000Z' },
  );
});

/** Wave 1 released its one cluster and bakes for 30m; wave 2 waits. */
export const baking = status('checkout@2.0.0', (s) => {
  s.stage = 'bake';
  s.waves = [
    canaryWave('baking', cluster('eu-1', { phase: 'released', startedSeq: 0 }), { bakeUntil: '2026-12-05T12:40:00.000Z' }),
    restWave('waiting', [waiting('eu-2'), waiting('us-1'), waiting('us-2')]),
  ];
  s.timeline = timeline({ ...waveEvents.waveBaking({ index: 0, name: 'canary' }, '2026-12-05T12:40:00.000Z'), at: '2026-12-05T12:10:00.000Z' });
});

/** us-1's canary failed and it rolled itself back; the parent has undone eu-2 and still has eu-1 to undo. */
export const rollingBack = status('checkout@2.0.0', (s) => {
  s.stage = 'rollback';
  s.waves = [
    canaryWave('rolling-back', cluster('eu-1', { phase: 'released', startedSeq: 0 })),
    restWave('rolling-back', [
      cluster('eu-2', { phase: 'undone', startedSeq: 1, reason: 'us-1 failed' }),
      cluster('us-1', { phase: 'rolled-back', startedSeq: 2, reason: usFailed }),
      waiting('us-2'),
    ]),
  ];
});

/** The same release once its rollback ended: us-1 rolled itself back, then eu-2 and eu-1 were undone, us-2 never started. */
export const rolledBack = status('checkout@2.0.0', (s) => {
  s.stage = 'done';
  s.outcome = 'rolled-back';
  s.cause = 'analysis';
  s.reason = `cluster us-1: ${usFailed}`;
  s.endedAt = '2026-12-05T13:05:00.000Z';
  s.waves = [
    canaryWave('rolled-back', cluster('eu-1', { phase: 'undone', startedSeq: 0, reason: 'us-1 failed' })),
    restWave('rolled-back', [
      cluster('eu-2', { phase: 'undone', startedSeq: 1, reason: 'us-1 failed' }),
      cluster('us-1', { phase: 'rolled-back', startedSeq: 2, reason: usFailed }),
      waiting('us-2'),
    ]),
  ];
  s.timeline = timeline(
    { ...waveEvents.clusterStopped('us-1', 'rolled-back', usFailed), at: '2026-12-05T13:01:00.000Z' },
    { ...waveEvents.clusterUndone('eu-2', 'us-1 failed'), at: '2026-12-05T13:03:00.000Z' },
    { ...waveEvents.clusterUndone('eu-1', 'us-1 failed'), at: '2026-12-05T13:04:00.000Z' },
    { code: 'release-ended', event: `release rolled-back: cluster us-1: ${usFailed}`, at: '2026-12-05T13:05:00.000Z' },
  );
});

/** us-1's own release (the child), rolled back by its canary analysis. */
export const child = status('checkout@2.0.0/us-1', (s) => {
  s.stage = 'done';
  s.outcome = 'rolled-back';
  s.cause = 'analysis';
  s.reason = usFailed;
  s.endedAt = '2026-12-05T13:01:00.000Z';
  s.cluster = { name: 'us-1', context: 'gke-us-1', wave: 1, parent: 'checkout@2.0.0' };
  const svc = s.services[0];
  if (svc) Object.assign(svc, { activeColor: 'blue', newColor: 'green', canaryWeight: 0, stages: { ...svc.stages, staging: 'skipped', canary: 'failed' } });
  s.compensations = [{ label: 'return checkout traffic to blue', service: 'checkout', status: 'done', attempts: 1, errors: [] }];
});

export const waveStatuses = { inProgress, baking, rollingBack, rolledBack, child };
