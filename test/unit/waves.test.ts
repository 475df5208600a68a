// The order of a release across clusters: batches, what a failure rolls back, the status lines.
import { clustersToUndo, planWaves, waveLines, type ClusterProgress } from '../../src/core/waves.js';

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
