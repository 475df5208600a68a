// The order of a release across clusters: batches, what a failure rolls back, the status lines.
import { legacyTimelineCode, TIMELINE_CODES } from '../../src/core/status.js';
import { clustersToUndo, planWaves, waveEvents, waveLines, type ClusterProgress } from '../../src/core/waves.js';

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

test('waveLines: one line per wave, its clusters with their phases, the bake where it runs', () => {
  const plan = planWaves([wave('canary', ['eu-1'], 1, 1_800_000), wave('rest', ['eu-2', 'us-1'], 1)]);
  expect(waveLines(plan, [{ cluster: 'eu-1', phase: 'released', startedSeq: 0 }], { wave: 0, bakeUntil: '2026-12-05T13:00:00Z' })).toEqual([
    'wave 1 canary: eu-1 released — baking until 2026-12-05T13:00:00Z',
    'wave 2 rest: eu-2 waiting, us-1 waiting',
  ]);
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
