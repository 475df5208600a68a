// The version a release train ships (src/core/versions.ts): semver precedence as the spec orders
// it, the newest release tag, the next entry of an explicit list.
import { compareVersions, imageFor, newestVersion, nextFromList, parseVersion } from '../../src/core/versions.js';

test.each<[string, ReturnType<typeof parseVersion>]>([
  ['v1.4.2', { major: 1, minor: 4, patch: 2, pre: [], text: '1.4.2' }],
  ['1.5.0-rc.1', { major: 1, minor: 5, patch: 0, pre: ['rc', 1], text: '1.5.0-rc.1' }],
  ['2.0.0+build.7', { major: 2, minor: 0, patch: 0, pre: [], text: '2.0.0' }],
  ['01.2.3', undefined],
  ['release-7', undefined],
  ['1.2', undefined],
])('parseVersion(%j)', (tag, expected) => {
  expect(parseVersion(tag)).toEqual(expected);
});

test('precedence follows semver.org §11: 1.0.0-alpha < alpha.1 < alpha.beta < beta < beta.2 < beta.11 < rc.1 < 1.0.0', () => {
  const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
  const shuffled = [...ordered].reverse().map((t) => parseVersion(t)!);
  expect(shuffled.sort(compareVersions).map((v) => v.text)).toEqual(ordered);
});

test.each<[string[], boolean, string | undefined]>([
  [['v1.2.0', 'v1.10.0', 'v1.9.3', 'latest'], false, '1.10.0'],
  [['1.2.0', '1.3.0-rc.1'], false, '1.2.0'],
  [['1.2.0', '1.3.0-rc.1'], true, '1.3.0-rc.1'],
  [['nightly'], false, undefined],
  [[], false, undefined],
])('newestVersion(%j, preReleases %s) → %s', (tags, preReleases, expected) => {
  expect(newestVersion(tags, { preReleases })).toBe(expected);
});

test('the next entry of a list skips what was released', () => {
  expect(nextFromList(['1.2.0', '1.3.0'], new Set(['1.2.0']))).toBe('1.3.0');
  expect(nextFromList(['1.2.0'], new Set(['1.2.0']))).toBeUndefined();
});

test.each<[string, string]>([
  ['registry.local/checkout:1.0.0', 'registry.local/checkout:1.4.2'],
  ['registry.local:5000/checkout', 'registry.local:5000/checkout:1.4.2'],
  ['ghcr.io/acme/checkout:{{version}}-alpine', 'ghcr.io/acme/checkout:1.4.2-alpine'],
  ['ghcr.io/acme/checkout@sha256:abc', 'ghcr.io/acme/checkout@sha256:abc'],
])('imageFor(%j, "1.4.2") → %j', (image, expected) => {
  expect(imageFor(image, '1.4.2')).toBe(expected);
});
