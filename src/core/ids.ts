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

/** How a lock workflow is started, by a release or by a client for one (the same id, memo and text in the UI). */
export function serviceLockStart(service: string, holder: string) {
  return {
    workflowId: serviceLockId(service),
    args: [{ service, holder }] as [{ service: string; holder: string }],
    memo: { holder },
    staticSummary: `${service} is being released by ${holder}`,
    staticDetails: `The lock of **${service}**: one release at a time changes it. Held by **${holder}** until that release ends (it signals unlock), or until it is found no longer running.`,
  };
}

/** Why a start is refused while another release holds a service (client and workflow say the same). */
export function lockedMessage(service: string, holder: string): string {
  return `${service} is being released by ${holder}; wait for it, abort it, or start with --supersede`;
}

/** The services of a release in the order their locks are taken: each once, by name. */
export function lockOrder(services: readonly { service: string }[]): string[] {
  return [...new Set(services.map((s) => s.service))].sort();
}
