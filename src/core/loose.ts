// Reading a recorded value that may hold anything a release of any version wrote (see
// src/client/render.ts): `Loose<T>` makes every field optional and nullable and every leaf
// `unknown`, and these helpers read leaves without throwing. Pure, so core's line builders
// (src/core/waves.ts) read statuses the way the renderer does.
import { formatValue } from './values.js';

/**
 * A recorded value as the renderer may meet it: objects and arrays may be missing or null, and
 * their fields too; leaves are `unknown`, so they can only be shown through `text` / `formatValue`.
 */
export type Loose<T> = LooseOf<NonNullable<T>>;
type LooseOf<T> = T extends readonly (infer U)[]
  ? readonly Loose<U>[] | null | undefined
  : T extends object
    ? { readonly [K in keyof T]?: Loose<T[K]> } | null | undefined
    : unknown;

/** The items of a list, whatever was recorded: a missing or non-array field is an empty list, null items are left out. */
export function each<T>(v: readonly T[] | null | undefined): readonly NonNullable<T>[] {
  return Array.isArray(v) ? v.filter((x): x is NonNullable<T> => x !== null && x !== undefined) : [];
}

/** Whether `o` is an object carrying `key` (an `in` test that cannot throw on a corrupt item). */
export function has(o: unknown, key: string): boolean {
  return typeof o === 'object' && o !== null && key in o;
}

/** A leaf for people: strings as they are, everything else through formatValue ('—' when absent). */
export function text(v: unknown): string {
  return typeof v === 'string' ? v : formatValue(v);
}

/** A leaf that is present: a non-empty string, or any number. */
export function present(v: unknown): boolean {
  return (typeof v === 'string' && v !== '') || typeof v === 'number';
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function pad(s: string, width: number): string {
  return s.padEnd(width);
}
