// The watch activity's own behaviour, on a scripted `measure`: it keeps heartbeating while a query
// hangs (a slow Prometheus must not look like a lost worker), and heartbeat details it cannot read
// (another version's, a corrupted one) make it start the batch over instead of failing every retry.
import { MockActivityEnvironment } from '@temporalio/testing';
import { EMPTY_TALLY } from '../../src/core/analysis.js';
import type { MeasureRequest, TimedObservation, WatchRequest } from '../../src/activities/types.js';
import { watchActivity, WATCH_HEARTBEAT_EVERY_MS } from '../../src/activities/watch.js';
import { activityContext } from '../../src/activities/context.js';

const request = (firstAt: number, n: number): WatchRequest => ({
  query: 'ratio',
  firstAt: new Date(firstAt).toISOString(),
  intervalMs: 1_000,
  until: new Date(firstAt + (n - 1) * 1_000).toISOString(),
  judge: { conditions: { successCondition: { op: '>=', value: 0.99, text: '>= 0.99' } }, limits: { count: 100, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 }, tally: EMPTY_TALLY },
});

test('heartbeats go on while a query hangs', async () => {
  const hang = 2.5 * WATCH_HEARTBEAT_EVERY_MS;
  const measure = async (r: MeasureRequest): Promise<TimedObservation[]> => {
    await new Promise((resolve) => setTimeout(resolve, hang));
    return [{ at: r.at ?? '', observation: { kind: 'value', value: 1 } }];
  };
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 });
  const beats: number[] = [];
  env.on('heartbeat', () => beats.push(Date.now()));
  const started = Date.now();
  const out = (await env.run(watchActivity(measure, activityContext), request(Date.now() - 1_000, 1))) as TimedObservation[];
  expect(out).toHaveLength(1);
  // one at the start, at least two while the query hung, one with its measurement
  expect(beats.filter((t) => t > started + 500 && t < started + hang).length).toBeGreaterThanOrEqual(2);
});

test.each<[string, unknown]>([
  ['not a list', { observations: 3 }],
  ['a list of something else', [1, 2]],
  ['longer than the batch', Array.from({ length: 5 }, (_, i) => ({ at: `t${i}`, observation: { kind: 'value', value: 1 } }))],
])('heartbeat details that are %s are ignored: the batch starts over', async (_, details) => {
  const asked: string[] = [];
  const measure = async (r: MeasureRequest): Promise<TimedObservation[]> => {
    asked.push(r.at ?? '');
    return [{ at: r.at ?? '', observation: { kind: 'value', value: 1 } }];
  };
  const first = Date.now() - 5_000;
  const env = new MockActivityEnvironment({ heartbeatDetails: details });
  const out = (await env.run(watchActivity(measure, activityContext), request(first, 2))) as TimedObservation[];
  expect(asked).toEqual([new Date(first).toISOString(), new Date(first + 1_000).toISOString()]);
  expect(out.map((o) => o.at)).toEqual(asked);
});
