// Values as the workflow sees them: every activity result and workflow status crosses Temporal's
// default payload converter (JSON), which turns NaN and ±Infinity into null. Tests pass what they
// assert on through the same converter, so that a value it would change fails here, not in a release.
import { defaultPayloadConverter } from '@temporalio/common';
import { payloadHazards } from '../../src/core/values.js';

/** `value` after a trip through the SDK's default payload converter. */
export function roundTrip<T>(value: T): T {
  return defaultPayloadConverter.fromPayload<T>(defaultPayloadConverter.toPayload(value));
}

/** Fails (throws) unless `value` crosses the payload converter unchanged; returns what arrives. */
export function expectPayloadSafe<T>(value: T, what = 'value'): T {
  const hazards = payloadHazards(value, 20);
  if (hazards.length > 0) throw new Error(`${what} would not cross the payload converter unchanged: ${hazards.join(', ')}`);
  const after = roundTrip(value);
  expect(after).toStrictEqual(JSON.parse(JSON.stringify(value)) as T);
  expect(after).toEqual(value);
  return after;
}

/** The same activities, each result checked by expectPayloadSafe and returned as the workflow would see it. */
export function throughPayloads<T extends object>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function') continue;
    wrapped[name] = async (...args: unknown[]): Promise<unknown> => {
      const result: unknown = await (fn as (...a: unknown[]) => Promise<unknown>)(...args.map((a) => expectPayloadSafe(a, `${name}'s input`)));
      return result === undefined ? undefined : expectPayloadSafe(result, `${name}'s result`);
    };
  }
  return wrapped as T;
}
