// Release identity: a release is `<service>@<version>` (or `<release>@<version>` for a
// multi-service spec), which is also its Temporal workflow id, so that a retried start finds it.

export const TASK_QUEUE = 'tidegate';

export function releaseId(name: string, version: string): string {
  return `${name}@${version}`;
}

/** parseReleaseId('checkout@1.4.2') → { name: 'checkout', version: '1.4.2' } */
export function parseReleaseId(id: string): { name: string; version: string } | undefined {
  const at = id.indexOf('@');
  if (at <= 0 || at === id.length - 1) return undefined;
  return { name: id.slice(0, at), version: id.slice(at + 1) };
}

/** The workflow that holds a service's one-release-at-a-time lock. */
export function serviceLockId(service: string): string {
  return `tidegate-lock/${service}`;
}
