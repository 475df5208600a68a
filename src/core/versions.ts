// Which version a scheduled release (a release train) ships when its schedule fires: the newest
// release tag of the source repository, or the next entry of an explicit list not yet released.
// Pure, so the choice is the one these tables test; the tags and the released versions are read by
// activities and recorded in the history.

/** A semantic version as release tags spell it: 1.4.2, v1.4.2, 1.5.0-rc.1 (build metadata ignored). */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated pre-release identifiers; empty for a release. */
  pre: (string | number)[];
  /** The version without a leading "v", as the release uses it. */
  text: string;
}

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?$/;

/**
 *   parseVersion('v1.4.2')      → { major: 1, minor: 4, patch: 2, pre: [], text: '1.4.2' }
 *   parseVersion('1.5.0-rc.1')  → { …, pre: ['rc', 1], text: '1.5.0-rc.1' }
 *   parseVersion('release-7')   → undefined
 */
export function parseVersion(tag: string): SemVer | undefined {
  const m = SEMVER.exec(tag);
  if (!m) return undefined;
  const pre = m[4] ? m[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre, text: tag.replace(/^v/, '').replace(/\+.*$/, '') };
}

/** SemVer precedence: negative when a < b. A pre-release sorts before its release; numeric identifiers before alphanumeric. */
export function compareVersions(a: SemVer, b: SemVer): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] - b[k];
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The newest release among tags (pre-releases only when asked); tags that are not versions are ignored.
 *   newestVersion(['v1.2.0', 'v1.10.0', 'v1.9.3', 'latest'])        → '1.10.0'
 *   newestVersion(['1.2.0', '1.3.0-rc.1'])                           → '1.2.0'
 *   newestVersion(['1.2.0', '1.3.0-rc.1'], { preReleases: true })     → '1.3.0-rc.1'
 *   newestVersion(['nightly'])                                       → undefined
 */
export function newestVersion(tags: readonly string[], options: { preReleases?: boolean } = {}): string | undefined {
  const versions = tags.map(parseVersion).filter((v): v is SemVer => v !== undefined && (options.preReleases === true || v.pre.length === 0));
  versions.sort(compareVersions);
  return versions.at(-1)?.text;
}

/**
 * What a firing does with the version it resolved: release it, or skip because it shipped (or is
 * shipping) already. `released` holds the versions whose release exists, whatever its outcome.
 *   nextFromList(['1.2.0', '1.3.0'], new Set(['1.2.0'])) → '1.3.0'
 *   nextFromList(['1.2.0'], new Set(['1.2.0']))          → undefined
 */
export function nextFromList(list: readonly string[], released: ReadonlySet<string>): string | undefined {
  return list.find((v) => !released.has(v));
}

/** Where a release train takes its version from when its schedule fires. */
export type VersionSource = { from: 'tags'; preReleases?: boolean } | { from: 'list'; versions: string[] };

/**
 * The image of a service for `version`: `{{version}}` replaced, else the tag after the last ':' of
 * the last path segment set to it (a digest pin is left alone: it names one build, not a version).
 *   imageFor('registry.local/checkout:1.0.0', '1.4.2')          → 'registry.local/checkout:1.4.2'
 *   imageFor('registry.local:5000/checkout', '1.4.2')           → 'registry.local:5000/checkout:1.4.2'
 *   imageFor('ghcr.io/acme/checkout:{{version}}-alpine', '1.4.2') → 'ghcr.io/acme/checkout:1.4.2-alpine'
 */
export function imageFor(image: string, version: string): string {
  if (image.includes('{{version}}')) return image.replaceAll('{{version}}', version);
  if (image.includes('@')) return image;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const base = colon > slash ? image.slice(0, colon) : image;
  return `${base}:${version}`;
}
