// What a release tells the people around it, as data: one event per thing they act on or want to
// know (an approval is needed, the release shipped, rolled back, was aborted, or has made no progress
// for a while), each with an idempotency key fixed in the workflow, so a receiver can drop a repeat
// when a send is retried. The messages (a Slack-compatible text, the structured JSON webhook body)
// are pure functions of the event, so a table test shows exactly what a team reads.
import { formatDuration } from './duration.js';
import type { Outcome, Cause, ReleaseStatus } from './status.js';

export const NOTIFICATION_KINDS = ['approval-needed', 'released', 'rolled-back', 'aborted', 'stalled'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** An analysis' verdict as a rolled-back notification carries it. */
export interface NotifiedVerdict {
  analysis: string;
  service: string;
  phase: string;
  reason?: string;
}

/**
 * One event, as the workflow builds it (no URLs, no secrets: the worker adds the UI link when it sends).
 * Worked example, the key of the second notification of run 7f3c… of checkout@3.0.0:
 *   notificationKey('checkout@3.0.0', '7f3c…', 2, 'approval-needed') === 'checkout@3.0.0/7f3c…/2-approval-needed'
 */
export interface NotificationEvent {
  /** The idempotency key: the same for every attempt to send this event, different for every event. */
  key: string;
  kind: NotificationKind;
  releaseId: string;
  runId: string;
  /** ISO workflow time the event happened. */
  at: string;
  name: string;
  version: string;
  initiator: string;
  services: { service: string; version: string; image: string }[];
  /** approval-needed and stalled: the service whose gate or pause it is. */
  service?: string;
  /** approval-needed: who may approve, how many must, by when, who already did. */
  approval?: { approvers: string[]; minApprovals: number; approvedBy: string[]; until?: string; requireSigned: boolean };
  /** released / rolled-back / aborted: how it ended. */
  outcome?: Outcome;
  cause?: Cause;
  reason?: string;
  /** rolled-back: the analyses that did not pass (the last verdict of each run). */
  verdicts?: NotifiedVerdict[];
  /** stalled: what it waits for and since when. */
  stalled?: { waitingFor: string; since: string; forMs: number };
}

/** The key a receiver de-duplicates on: the release, the run, and the event's place in it. */
export function notificationKey(releaseId: string, runId: string, seq: number, kind: NotificationKind): string {
  return `${releaseId}/${runId}/${seq}-${kind}`;
}

/** The notification kind a release's ending sends: rejected, timed-out and failed releases were rolled back too. */
export function endingKind(outcome: Outcome): Extract<NotificationKind, 'released' | 'rolled-back' | 'aborted'> {
  if (outcome === 'released') return 'released';
  if (outcome === 'aborted') return 'aborted';
  return 'rolled-back';
}

/** The verdicts a rolled-back notification lists: every analysis run that ended Failed or Inconclusive. */
export function failedVerdicts(status: Pick<ReleaseStatus, 'analyses'>): NotifiedVerdict[] {
  return status.analyses
    .filter((a) => a.phase === 'Failed' || a.phase === 'Inconclusive')
    .map((a) => ({ analysis: a.analysis, service: a.service, phase: a.phase, ...(a.reason ? { reason: a.reason } : {}) }));
}

/** The commands an approver runs, as the README gives them. */
export function approvalCommands(releaseId: string, requireSigned: boolean): { approve: string; reject: string } {
  const key = requireSigned ? ' --key ~/.ssh/id_ed25519' : '';
  return { approve: `tidegate approve ${releaseId}${key}`, reject: `tidegate reject ${releaseId} --reason "…"${key}` };
}

/**
 * The one-paragraph text a chat shows. Worked example (approval-needed, checkout 3.0.0, 2 of alice, bob):
 *   ":raised_hand: checkout@3.0.0 needs approval of checkout: 2 of alice, bob (none yet), by 2026-12-03T06:00:00.000Z
 *    approve: `tidegate approve checkout@3.0.0`  reject: `tidegate reject checkout@3.0.0 --reason "…"`
 *    <http://ui/…|open in the Temporal UI>"
 */
export function messageText(event: NotificationEvent, link?: string): string {
  const id = event.releaseId;
  const lines: string[] = [];
  switch (event.kind) {
    case 'approval-needed': {
      const a = event.approval;
      const who = a ? `${a.minApprovals} of ${a.approvers.join(', ')} (${a.approvedBy.length ? `approved so far: ${a.approvedBy.join(', ')}` : 'none yet'})` : 'an approver';
      lines.push(`:raised_hand: ${id} needs approval of ${event.service ?? 'a service'}: ${who}${a?.until ? `, by ${a.until}` : ''}${a?.requireSigned ? '; signed decisions required' : ''}`);
      const cmd = approvalCommands(id, a?.requireSigned ?? false);
      lines.push(`approve: \`${cmd.approve}\`  reject: \`${cmd.reject}\``);
      break;
    }
    case 'released':
      lines.push(`:white_check_mark: ${id} released (${servicesText(event)}), started by ${event.initiator}`);
      break;
    case 'rolled-back': {
      lines.push(`:rewind: ${id} ${event.outcome === 'rolled-back' || !event.outcome ? 'rolled back' : `${event.outcome}, rolled back`}${event.reason ? `: ${event.reason}` : ''}`);
      for (const v of event.verdicts ?? []) lines.push(`• ${v.analysis} on ${v.service}: ${v.phase}${v.reason ? ` — ${v.reason}` : ''}`);
      break;
    }
    case 'aborted':
      lines.push(`:octagonal_sign: ${id} aborted${event.reason ? `: ${event.reason}` : ''}; what it changed was rolled back`);
      break;
    case 'stalled': {
      const s = event.stalled;
      lines.push(`:hourglass: ${id} has made no progress for ${s ? formatDuration(s.forMs) : 'a while'}${event.service ? ` (${event.service})` : ''}: ${s?.waitingFor ?? 'it waits'}`);
      break;
    }
  }
  if (link) lines.push(`<${link}|open in the Temporal UI>`);
  return lines.join('\n');
}

function servicesText(event: NotificationEvent): string {
  return event.services.map((s) => `${s.service} ${s.version}`).join(', ');
}

/** The body of a Slack-compatible incoming webhook: `text` is what every such receiver shows. */
export function slackBody(event: NotificationEvent, link?: string): { text: string } {
  return { text: messageText(event, link) };
}

/** The body of the generic JSON webhook: the structured event, its text, and the UI link. */
export function webhookBody(event: NotificationEvent, link?: string): NotificationEvent & { text: string; link?: string } {
  return { ...event, text: messageText(event, link), ...(link ? { link } : {}) };
}
