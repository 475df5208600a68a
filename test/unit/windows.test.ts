// Allowed windows and freezes, table-driven, with the daylight-saving days that break naive clocks.
import { parseCalendar } from '../../src/activities/calendar/index.js';
import { validateSpec } from '../../src/spec/index.js';
import {
  calendarAnswer,
  describeWindow,
  instantOf,
  isTimeZone,
  localTime,
  nextOpen,
  openAt,
  parseClock,
  type AllowedWindow,
  type Freeze,
  type ReleaseCalendar,
} from '../../src/core/windows.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
const calendar = (windows: AllowedWindow[][], freezes: Freeze[] = []): ReleaseCalendar => ({ windows, freezes });

const office: AllowedWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00', timeZone: 'Europe/Berlin' };
const weekdays: AllowedWindow = { ...office, from: '00:00', to: '24:00' };
const fridayNight: AllowedWindow = { days: ['fri'], from: '22:00', to: '06:00', timeZone: 'UTC' };
const weekendFreeze: Freeze = { from: '2026-12-18T17:00:00+01:00', until: '2026-12-21T06:00:00+01:00', reason: 'weekend before the holidays' };

describe('nextOpen', () => {
  test.each<[string, ReleaseCalendar, string, string | undefined]>([
    // now is open: nothing to wait for
    ['inside office hours', calendar([[office]]), '2026-12-07T14:59:00Z', '2026-12-07T14:59:00.000Z'],
    ['no windows and no freezes: always open', calendar([]), '2026-12-05T10:00:00Z', '2026-12-05T10:00:00.000Z'],
    // a weekend waits for Monday 09:00 in Berlin (CET, +01:00)
    ['Saturday, office hours', calendar([[office]]), '2026-12-05T10:00:00Z', '2026-12-07T08:00:00.000Z'],
    ['the window closes at its end minute', calendar([[office]]), '2026-12-07T16:00:00Z', '2026-12-08T08:00:00.000Z'],
    // a window past midnight belongs to the day it starts on
    ['Saturday 05:59 is still Friday night', calendar([[fridayNight]]), '2026-12-05T05:59:00Z', '2026-12-05T05:59:00.000Z'],
    ['Saturday 06:00 waits a week', calendar([[fridayNight]]), '2026-12-05T06:00:00Z', '2026-12-11T22:00:00.000Z'],
    // a weekend freeze (Friday 17:00 to Monday 06:00, Berlin)
    ['frozen, with weekdays allowed: the freeze ends first', calendar([[weekdays]], [weekendFreeze]), '2026-12-18T17:00:00Z', '2026-12-21T05:00:00.000Z'],
    ['frozen, with office hours: the window opens after the freeze', calendar([[office]], [weekendFreeze]), '2026-12-18T17:00:00Z', '2026-12-21T08:00:00.000Z'],
    ['the freeze ends at until (exclusive)', calendar([], [weekendFreeze]), '2026-12-21T05:00:00Z', '2026-12-21T05:00:00.000Z'],
    ['a freeze starts at from (inclusive)', calendar([], [weekendFreeze]), '2026-12-18T16:00:00Z', '2026-12-21T05:00:00.000Z'],
    // Berlin springs forward on 2027-03-28: 02:00 CET → 03:00 CEST; 02:30 happens as 03:30 CEST
    ['a window starting in the skipped hour opens just after it', calendar([[{ days: ['sun'], from: '02:30', to: '04:00', timeZone: 'Europe/Berlin' }]]), '2027-03-28T00:00:00Z', '2027-03-28T01:30:00.000Z'],
    ['a window wholly in the skipped hour does not happen that day', calendar([[{ days: ['sun'], from: '02:00', to: '02:45', timeZone: 'Europe/Berlin' }]]), '2027-03-27T12:00:00Z', '2027-04-04T00:00:00.000Z'],
    // Berlin falls back on 2026-10-25: 02:30 happens twice, the window opens at the first
    ['a window starting in the repeated hour opens at its first', calendar([[{ days: ['sun'], from: '02:30', to: '05:00', timeZone: 'Europe/Berlin' }]]), '2026-10-24T23:00:00Z', '2026-10-25T00:30:00.000Z'],
    // New York springs forward on 2027-03-14: Monday 09:00 is 13:00Z, no longer 14:00Z
    ['office hours across the American change', calendar([[{ ...office, timeZone: 'America/New_York' }]]), '2027-03-12T22:30:00Z', '2027-03-15T13:00:00.000Z'],
    // Lord Howe Island moves by half an hour on 2026-10-04: 02:00 +10:30 → 02:30 +11:00
    ['a half-hour change', calendar([[{ days: ['sun'], from: '02:15', to: '03:00', timeZone: 'Australia/Lord_Howe' }]]), '2026-10-03T15:00:00Z', '2026-10-03T15:45:00.000Z'],
    // the spec's windows and the worker's both have to be open
    ['two groups: their overlap', calendar([[office], [{ ...office, from: '14:00', to: '20:00', timeZone: 'UTC' }]]), '2026-12-07T07:00:00Z', '2026-12-07T14:00:00.000Z'],
    ['two groups that never overlap', calendar([[office], [{ ...office, from: '20:00', to: '23:00', timeZone: 'UTC' }]]), '2026-12-07T07:00:00Z', undefined],
    ['either window of a group', calendar([[office, fridayNight]]), '2026-12-04T21:00:00Z', '2026-12-04T22:00:00.000Z'],
  ])('%s', (_name, cal, now, opens) => {
    const result = nextOpen(cal, at(now));
    expect(result.open ? now.replace(/Z$/, '.000Z') : iso(result.opensAt)).toEqual(opens);
    if (opens !== undefined && result.open === false) expect(openAt(cal, at(opens)).open).toBe(true);
  });

  test('says why a release waits', () => {
    expect(nextOpen(calendar([[office]], [weekendFreeze]), at('2026-12-19T10:00:00Z'))).toEqual({
      open: false,
      reason: 'frozen until 2026-12-21T06:00:00+01:00: weekend before the holidays',
      opensAt: at('2026-12-21T08:00:00Z'),
    });
    expect(openAt(calendar([[office, fridayNight]]), at('2026-12-05T10:00:00Z'))).toEqual({
      open: false,
      reason: 'outside the allowed windows (mon–fri 09:00–17:00 Europe/Berlin; fri 22:00–06:00 UTC)',
    });
  });

  test('looks two weeks past a long freeze', () => {
    const quarter: Freeze = { from: '2026-12-01T00:00:00Z', until: '2027-03-01T00:00:00Z', reason: 'migration' };
    const result = nextOpen(calendar([[fridayNight]], [quarter]), at('2026-12-02T00:00:00Z'));
    expect(result.open ? 'open' : iso(result.opensAt)).toBe('2027-03-05T22:00:00.000Z');
  });
});

describe('clocks', () => {
  test.each<[string, boolean, number | undefined]>([
    ['09:00', false, 540],
    ['00:00', false, 0],
    ['23:59', false, 1439],
    ['24:00', true, 1440],
    ['24:00', false, undefined],
    ['24:01', true, undefined],
    ['9:00', false, undefined],
    ['09:60', false, undefined],
    ['noon', false, undefined],
  ])('%s (end of day allowed: %s) → %s', (text, endOfDay, minutes) => expect(parseClock(text, endOfDay)).toBe(minutes));

  test.each<[number, number, string, string]>([
    // 2027-03-28 is day 20905 since 1970-01-01
    [20905, 150, 'Europe/Berlin', '2027-03-28T01:30:00.000Z'], // skipped: read with CET, lands 03:30 CEST
    [20905, 180, 'Europe/Berlin', '2027-03-28T01:00:00.000Z'],
    [20751, 150, 'Europe/Berlin', '2026-10-25T00:30:00.000Z'], // repeated: the first (CEST)
    [20751, 210, 'Europe/Berlin', '2026-10-25T02:30:00.000Z'],
    [20905, 150, 'UTC', '2027-03-28T02:30:00.000Z'],
  ])('day %d minute %d in %s is %s', (day, minutes, zone, expected) => expect(new Date(instantOf(day, minutes, zone)).toISOString()).toBe(expected));

  test('local time, weekday and offset', () => {
    expect(localTime(at('2026-12-05T23:30:00Z'), 'Europe/Berlin')).toEqual({ day: 20793, minutes: 30, weekday: 'sun', offset: 60 });
    expect(localTime(at('2026-12-05T23:30:00Z'), 'America/New_York')).toEqual({ day: 20792, minutes: 1110, weekday: 'sat', offset: -300 });
  });

  test('time zones are IANA names Intl knows', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  test.each<[AllowedWindow, string]>([
    [office, 'mon–fri 09:00–17:00 Europe/Berlin'],
    [fridayNight, 'fri 22:00–06:00 UTC'],
    [{ days: ['sun', 'sat'], from: '10:00', to: '12:00', timeZone: 'UTC' }, 'sun,sat 10:00–12:00 UTC'],
  ])('%j reads %s', (window, text) => expect(describeWindow(window)).toBe(text));
});

describe('the answer a release waits on (spec, worker, global freeze)', () => {
  const holidays: Freeze = { from: '2026-12-24T00:00:00+01:00', until: '2026-12-27T00:00:00+01:00', reason: 'holidays' };
  test.each<[string, Parameters<typeof calendarAnswer>[0], string, ReturnType<typeof calendarAnswer>]>([
    ['no rules: open', {}, '2026-12-05T10:00:00Z', { open: true }],
    ['inside the spec window, no worker rules: open', { spec: { allow: [office], freezes: [] } }, '2026-12-07T10:00:00Z', { open: true }],
    [
      "the spec's window is open, the worker's freeze holds it until Monday's window",
      { spec: { allow: [office], freezes: [] }, worker: { allow: [], freezes: [holidays] } },
      '2026-12-24T09:00:00Z',
      { open: false, source: 'worker', reason: "frozen until 2026-12-27T00:00:00+01:00: holidays (the worker's calendar)", opensAt: '2026-12-28T08:00:00.000Z' },
    ],
    [
      "outside the spec's window on a Saturday: the spec's rule is named first",
      { spec: { allow: [office], freezes: [] }, worker: { allow: [], freezes: [holidays] } },
      '2026-12-05T10:00:00Z',
      { open: false, source: 'spec', reason: 'outside the allowed window (mon–fri 09:00–17:00 Europe/Berlin)', opensAt: '2026-12-07T08:00:00.000Z' },
    ],
    [
      'a global freeze wins over an open window, and has no opening time',
      { spec: { allow: [office], freezes: [] }, globalFreeze: { by: 'erin', reason: 'incident 4711', since: '2026-12-07T09:00:00.000Z' } },
      '2026-12-07T10:00:00Z',
      { open: false, source: 'global-freeze', reason: 'frozen by erin since 2026-12-07T09:00:00.000Z: incident 4711 (tidegate unfreeze lifts it)' },
    ],
  ])('%s', (_, rules, now, expected) => expect(calendarAnswer(rules, at(now))).toEqual(expected));
});

describe('windows in the spec and in the worker calendar file: bad input names the field', () => {
  const base = { service: 'checkout', version: '1.0.0', image: 'r/checkout:1', production: { namespace: 'prod', blueGreen: { activeService: 'checkout', deploymentPrefix: 'checkout' } } };
  test.each<[string, unknown, string[]]>([
    ['an unknown day', { allow: [{ days: ['mon', 'funday'], from: '09:00', to: '17:00', timeZone: 'UTC' }] }, ['windows.allow[0].days[1]: must be one of sun, mon, tue, wed, thu, fri, sat']],
    ['no days', { allow: [{ days: [], from: '09:00', to: '17:00', timeZone: 'UTC' }] }, ['windows.allow[0].days: must name at least one day']],
    ['an hour that is not a clock', { allow: [{ days: ['mon'], from: '9:00', to: '24:01', timeZone: 'UTC' }] }, ['windows.allow[0].from: must be a time HH:MM from 00:00 to 23:59', 'windows.allow[0].to: must be a time HH:MM from 00:00 to 24:00']],
    ['an unquoted YAML-ish number', { allow: [{ days: ['mon'], from: 900, to: '17:00', timeZone: 'UTC' }] }, ['windows.allow[0].from: must be a time of day like "09:00" (quote it in YAML)']],
    ['an empty window', { allow: [{ days: ['mon'], from: '09:00', to: '09:00', timeZone: 'UTC' }] }, ['windows.allow[0].to: must differ from "from": a window of no time never opens']],
    ['an unknown time zone', { allow: [{ days: ['mon'], from: '09:00', to: '17:00', timeZone: 'CEST' }] }, ['windows.allow[0].timeZone: must be an IANA time zone like Europe/Berlin, America/New_York or UTC']],
    ['a freeze without an offset', { freezes: [{ from: '2026-12-24T00:00:00', until: '2026-12-27T00:00:00+01:00', reason: 'x' }] }, ['windows.freezes[0].from: must be a time with an offset, like 2026-12-24T00:00:00+01:00 or 2026-12-23T23:00:00Z']],
    ['a freeze that ends before it starts', { freezes: [{ from: '2026-12-27T00:00:00Z', until: '2026-12-24T00:00:00Z', reason: 'x' }] }, ['windows.freezes[0].until: must be after "from"']],
    ['a freeze without a reason', { freezes: [{ from: '2026-12-24T00:00:00Z', until: '2026-12-27T00:00:00Z', reason: ' ' }] }, ['windows.freezes[0].reason: must say why (it is shown to whoever waits)']],
    ['an unknown key', { allow: [], blackout: [] }, ['windows: Unrecognized key: "blackout"']],
  ])('%s', (_, windows, problems) => {
    const result = validateSpec({ ...base, windows });
    expect(result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual(problems);
  });

  test('a valid block is kept as written, with empty lists for what it leaves out', () => {
    const result = validateSpec({ ...base, windows: { allow: [office] } });
    expect(result.ok && result.spec.windows).toEqual({ allow: [office], freezes: [] });
    const without = validateSpec(base);
    expect(without.ok && 'windows' in without.spec).toBe(false);
  });

  test("the worker's calendar file: YAML in the same shape, a problem names the file and the field", () => {
    expect(parseCalendar('allow:\n  - { days: [mon], from: "09:00", to: "17:00", timeZone: UTC }\n', 'cal.yaml')).toEqual({ allow: [{ days: ['mon'], from: '09:00', to: '17:00', timeZone: 'UTC' }], freezes: [] });
    expect(parseCalendar('', 'empty.yaml')).toEqual({ allow: [], freezes: [] });
    expect(() => parseCalendar('freezes:\n  - { from: "2026-12-24T00:00:00Z", until: "2026-12-20T00:00:00Z", reason: x }\n', 'cal.yaml')).toThrow('cal.yaml: freezes[0].until: must be after "from"');
    expect(() => parseCalendar('allow: [', 'cal.yaml')).toThrow(/^cal\.yaml: /);
  });
});
