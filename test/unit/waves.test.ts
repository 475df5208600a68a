// The order of a release across clusters: batches, what a failure rolls back, the status lines,
// the timeline texts.
import { legacyTimelineCode, TIMELINE_CODES, type ClusterStatus, type WaveStatus } from '../../src/core/status.js';
import { clustersToUndo, planWaves, waveEvents, waveStatusLines, waveSummary, type ClusterProgress } from '../../src/core/waves.js';

const wave = (name: string, clusters: string[], maxParallel = clusters.length, bake = 0) => ({ name, clusters, maxParallel, bake });

describe('planWaves: batches of at most maxParallel, in spec order', () => {
  test.each<[string, Parameters<typeof planWaves>[0], string[][][]]>([
    ['one cluster', [wave('only', ['a'])], [[['a']]]],
    ['all at once', [wave('w', ['a', 'b', 'c'])], [[['a', 'b', 'c']]]],
    ['two at a time, the last batch shorter', [wave('w', ['a', 'b', 'c'], 2)], [[['a', 'b'], ['c']]]],
    ['one at a time', [wave('w', ['a', 'b', 'c'], 1)], [[['a'], ['b'], ['c']]]],
    ['maxParallel above the wave size is the wave', [wave('w', ['a', 'b'], 5)], [[['a', 'b']]]],
    ['waves keep their order', [wave('canary', ['c']), wave('eu', ['e1', 'e2'], 1), wave('us', ['u1'])], [[['c']], [['e1'], ['e2']], [['u1']]]],
  ])('%s', (_, waves, batches) => {
    const plan = planWaves(waves);
    expect(plan.map((w) => w.batches)).toEqual(batches);
    expect(plan.map((w) => w.index)).toEqual(waves.map((_w, i) => i));
  });

  test('the bake is the wave’s', () => {
    expect(planWaves([wave('canary', ['c'], 1, 1_800_000), wave('rest', ['r'])]).map((w) => w.bakeMs)).toEqual([1_800_000, 0]);
  });
});

describe('clustersToUndo: every started cluster not already rolled back, newest first', () => {
  test.each<[string, ClusterProgress[], string[]]>([
    ['nothing started', [{ cluster: 'a', phase: 'waiting' }], []],
    [
      'a bad canary in wave 2 undoes wave 1 too',
      [
        { cluster: 'eu-1', phase: 'released', startedSeq: 0 },
        { cluster: 'eu-2', phase: 'released', startedSeq: 1 },
        { cluster: 'us-1', phase: 'rolled-back', startedSeq: 2 },
        { cluster: 'us-2', phase: 'waiting' },
      ],
      ['eu-2', 'eu-1'],
    ],
    [
      'a cluster of the same batch still releasing is undone first (it started last)',
      [
        { cluster: 'a', phase: 'released', startedSeq: 0 },
        { cluster: 'b', phase: 'rolled-back', startedSeq: 1 },
        { cluster: 'c', phase: 'releasing', startedSeq: 2 },
      ],
      ['c', 'a'],
    ],
    ['an abort during a bake undoes the baking wave and every earlier one', [{ cluster: 'a', phase: 'released', startedSeq: 0 }, { cluster: 'b', phase: 'released', startedSeq: 1 }], ['b', 'a']],
    ['already undone is not undone twice', [{ cluster: 'a', phase: 'undone', startedSeq: 0 }, { cluster: 'b', phase: 'released', startedSeq: 1 }], ['b']],
  ])('%s', (_, progress, undo) => expect(clustersToUndo(progress)).toEqual(undo));
});

describe('waveStatusLines: a wave a line, a cluster a line, the rollback newest first', () => {
  const w = (index: number, name: string, state: WaveStatus['state'], clusters: ClusterStatus[], extra: Partial<WaveStatus> = {}): WaveStatus => ({ index, name, maxParallel: 2, bakeMs: 0, state, clusters, ...extra });
  const c = (cluster: string, phase: ClusterStatus['phase'], extra: Partial<ClusterStatus> = {}): ClusterStatus => ({ cluster, context: `ctx-${cluster}`, phase, ...extra });
  test.each<[string, WaveStatus[], string[]]>([
    ['no waves: no lines', [], []],
    [
      'a wave at its approval gate; the one before released and baked',
      [w(0, 'canary', 'released', [c('eu-1', 'released', { startedSeq: 0 })], { bakeMs: 600_000 }), w(1, 'rest', 'awaiting-approval', [c('eu-2', 'releasing', { startedSeq: 1, stage: 'approval' })])],
      ['1 canary (bake 10m): released, baked 10m', '  ✓ eu-1  released', '2 rest: awaiting approval', '  ▶ eu-2  approval'],
    ],
    [
      'a child just started, its stage not read yet; two at a time',
      [w(0, 'all', 'releasing', [c('a', 'releasing', { startedSeq: 0 }), c('bb', 'releasing', { startedSeq: 1, stage: 'staging' }), c('c', 'waiting')])],
      ['1 all (2 at once): releasing', '  ▶ a   starting', '  ▶ bb  staging', '  · c   not started'],
    ],
    [
      'aborted during a bake: nothing failed, both undone newest first',
      [w(0, 'one', 'rolled-back', [c('a', 'undone', { startedSeq: 0, reason: 'aborted by carol' })]), w(1, 'two', 'rolled-back', [c('b', 'undone', { startedSeq: 1, reason: 'aborted by carol' })])],
      ['1 one: rolled back', '  ↩ a  undone: aborted by carol', '2 two: rolled back', '  ↩ b  undone: aborted by carol', 'rollback, newest first: b undone, a undone'],
    ],
    [
      'a rollback that ended with a cluster it could not undo says so',
      [w(0, 'one', 'rolled-back', [c('a', 'released', { startedSeq: 0 }), c('b', 'rolled-back', { startedSeq: 1, reason: 'rejected by bob' })])],
      ['1 one: rolled back, b failed', '  ✓ a  released', '  ✗ b  rolled back: rejected by bob', 'rollback, newest first: b rolled itself back, then a not undone (released)'],
    ],
  ])('%s', (_, waves, lines) => expect(waveStatusLines(waves)).toEqual(lines));

  test('a status no worker wrote renders what it can, and never throws', () => {
    const garbage = [null, 5, { index: 'x', clusters: [null, { cluster: 7, phase: 'exploded' }] }, { state: 'baking', bakeMs: NaN, clusters: 'none' }] as unknown as WaveStatus[];
    expect(waveStatusLines(garbage)).toEqual(['— —: —', 'x —: —', '    7  exploded', '— —: baking']);
    expect(waveStatusLines(null)).toEqual([]);
    expect(waveSummary(undefined)).toBeUndefined();
  });
});

describe('waveEvents: each text reads back as its code (as status.ts reads every recorded text)', () => {
  const entries = [
    waveEvents.waveStarted({ index: 1, name: 'rest', maxParallel: 2 }, ['eu-2', 'us-1', 'us-2']),
    waveEvents.clusterStarted('eu-2', 'checkout@2.0.0/eu-2'),
    waveEvents.clusterAtGate('eu-2'),
    waveEvents.clusterReleased('eu-2'),
    waveEvents.waveBaking({ index: 0, name: 'canary' }, '2026-12-05T13:00:00.000Z'),
    waveEvents.waveBaked({ index: 0, name: 'canary', bakeMs: 1_800_000 }),
    waveEvents.clusterStopped('us-1', 'rolled-back', 'analysis error-rate failed at canary step 2 of checkout'),
    waveEvents.clusterStopped('us-1', 'rejected', 'approval of checkout rejected by bob'),
    waveEvents.clusterUndone('eu-2', 'us-1 failed'),
    waveEvents.committed(4),
  ];
  test.each(entries.map((e) => [e.event, e.code]))('%j is %s', (event, code) => {
    expect(legacyTimelineCode(event)).toBe(code);
    expect(TIMELINE_CODES).toContain(code);
  });

  test('every wave code has a text', () => {
    const waveCodes = ['wave-started', 'cluster-started', 'cluster-at-gate', 'cluster-released', 'wave-baking', 'wave-baked', 'cluster-stopped', 'cluster-undone', 'committed'];
    expect(new Set(entries.map((e) => e.code))).toEqual(new Set(waveCodes));
  });

  test('texts an operator reads', () => {
    expect(entries.map((e) => e.event)).toEqual([
      'wave 2 rest started: eu-2, us-1, us-2 (at most 2 at once)',
      'cluster eu-2 started: checkout@2.0.0/eu-2',
      'cluster eu-2 at its approval gate',
      'cluster eu-2 released; it keeps its old color warm until the release commits',
      'wave 1 canary baking until 2026-12-05T13:00:00.000Z',
      'wave 1 canary baked 30m',
      'cluster us-1 rolled-back: analysis error-rate failed at canary step 2 of checkout',
      'cluster us-1 rejected: approval of checkout rejected by bob',
      'cluster eu-2 undone: us-1 failed',
      'committed: 4 clusters released; each scales its old color down',
    ]);
  });
});
