// Drift: traffic changed outside the release (src/core/drift.ts), table-driven.
import { expectedAfterSwitch, expectedAfterWeight, expectedFromSnapshot, matchesSnapshot, ownTraffic, servingColors, trafficDrift, type TrafficState } from '../../src/core/drift.js';

const observed = (over: Partial<TrafficState>): TrafficState => ({ selected: 'blue', weights: { blue: 100, green: 0 }, replicas: { blue: 3, green: 3 }, ...over });

describe('what the release expects', () => {
  test('from the snapshot, after a weight and after the switch, per router', () => {
    const snapshot = { activeColor: 'blue' as const, weights: { blue: 100, green: 0 } };
    expect(expectedFromSnapshot(snapshot, 'gateway-api')).toEqual({ selected: 'blue', weights: { blue: 100, green: 0 } });
    expect(expectedFromSnapshot(snapshot, 'replicas')).toEqual({ selected: 'blue' });
    expect(expectedFromSnapshot(snapshot, undefined)).toEqual({ selected: 'blue' });
    expect(expectedAfterWeight('istio', 'blue', 'green', 10)).toEqual({ selected: 'blue', weights: { blue: 90, green: 10 } });
    expect(expectedAfterWeight('replicas', 'blue', 'green', 10)).toEqual({ selected: null });
    expect(expectedAfterWeight('replicas', 'blue', 'green', 0)).toEqual({ selected: 'blue' });
    expect(expectedAfterSwitch('nginx', 'green')).toEqual({ selected: 'green', weights: { blue: 0, green: 100 } });
    expect(expectedAfterSwitch(undefined, 'green')).toEqual({ selected: 'green' });
  });
});

describe('trafficDrift', () => {
  test.each<[string, Parameters<typeof trafficDrift>[0], TrafficState, string | undefined]>([
    ['as left', { selected: 'blue', weights: { blue: 90, green: 10 } }, observed({ weights: { blue: 90, green: 10 } }), undefined],
    ['replica counts are not traffic the release sets', { selected: 'green' }, observed({ selected: 'green', weights: undefined, replicas: { blue: 0, green: 7 } }), undefined],
    [
      'reset to blue during the scale-down delay',
      { selected: 'green', weights: { blue: 0, green: 100 } },
      observed({}),
      'the active Service selects blue (expected green); the router sends blue 100% / green 0% (expected blue 0% / green 100%)',
    ],
    ['a route edited to 50/50', { selected: 'blue', weights: { blue: 90, green: 10 } }, observed({ weights: { blue: 50, green: 50 } }), 'the router sends blue 50% / green 50% (expected blue 90% / green 10%)'],
    ['a route that sends to neither color', { selected: 'blue', weights: { blue: 90, green: 10 } }, observed({ weights: { blue: 0, green: 0 } }), 'the router sends neither color (expected blue 90% / green 10%)'],
    ['the replicas canary: selector set back to one color', { selected: null }, observed({ weights: undefined }), 'the active Service selects blue (expected both colors)'],
  ])('%s', (_name, expected, seen, text) => expect(trafficDrift(expected, seen)).toBe(text));
});

describe('servingColors: the colors scaling down would take from live traffic', () => {
  test.each<[string, TrafficState, string[]]>([
    ['green live after the switch', observed({ selected: 'green', weights: { blue: 0, green: 100 } }), ['green']],
    ['selector on blue, route all green: both serve', observed({ selected: 'blue', weights: { blue: 0, green: 100 } }), ['blue', 'green']],
    ['a 90/10 canary', observed({ weights: { blue: 90, green: 10 } }), ['blue', 'green']],
    ['the replicas canary: every color with pods', observed({ selected: null, weights: undefined, replicas: { blue: 3, green: 1 } }), ['blue', 'green']],
    ['the replicas canary without canary pods', observed({ selected: null, weights: undefined, replicas: { blue: 3, green: 0 } }), ['blue']],
  ])('%s', (_name, seen, colors) => expect(servingColors(seen)).toEqual(colors));

  test('matchesSnapshot: nothing left for a traffic rollback to do', () => {
    const snapshot = { activeColor: 'blue' as const, weights: { blue: 100, green: 0 } };
    expect(matchesSnapshot(snapshot, 'gateway-api', observed({}))).toBe(true);
    expect(matchesSnapshot(snapshot, 'gateway-api', observed({ weights: { blue: 90, green: 10 } }))).toBe(false);
  });
});

describe('ownTraffic: as the release left it, back as before, or half-way back by its own undo (the router first)', () => {
  const left = expectedAfterSwitch('gateway-api', 'green');
  const before = { selected: 'blue' as const, weights: { blue: 100, green: 0 } };
  test.each<[string, Parameters<typeof ownTraffic>[0], Parameters<typeof ownTraffic>[1], TrafficState, boolean]>([
    ['as the release left it', left, before, observed({ selected: 'green', weights: { blue: 0, green: 100 } }), true],
    ['the router back, the Service not yet (the undo cut short)', left, before, observed({ selected: 'green' }), true],
    ['all back as before', left, before, observed({}), true],
    ['the Service moved back by hand, the router not', left, before, observed({ selected: 'blue', weights: { blue: 0, green: 100 } }), false],
    ['someone split the route 30/70', left, before, observed({ selected: 'green', weights: { blue: 30, green: 70 } }), false],
    ['the route sends to neither color', left, before, observed({ selected: 'green', weights: { blue: 0, green: 0 } }), false],
    ['no router: the selection only, as left', { selected: 'green' }, { selected: 'blue' }, observed({ selected: 'green', weights: undefined }), true],
    ['no router: back as before', { selected: 'green' }, { selected: 'blue' }, observed({ selected: 'blue', weights: undefined }), true],
    ['no router: the Service selecting both colors', { selected: 'green' }, { selected: 'blue' }, observed({ selected: null, weights: undefined }), false],
  ])('%s → %s', (_name, l, b, seen, ours) => expect(ownTraffic(l, b, seen)).toBe(ours));
});
