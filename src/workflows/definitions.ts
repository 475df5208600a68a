// Names and payload types of the release workflow's handlers, shared by the workflow and the client.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ReleaseStatus } from '../core/status.js';
import type { Decision, SignedStatement } from '../core/statement.js';

// The input is the durable contract's (src/core/release-input.ts).
export type { ReleaseInput } from '../core/release-input.js';

export interface ApproveRequest {
  by: string;
  comment?: string;
  /** A statement signed by `by` (tidegate approve --key); absent: an unverified approval. */
  signed?: SignedStatement;
}
export interface RejectRequest {
  by: string;
  reason: string;
  signed?: SignedStatement;
}
/** Sent by a client whose decision the update's validator refused, so that the refusal is on record. */
export interface RefusedRequest {
  decision: Exclude<Decision, 'start'>;
  by: string;
  /** What the validator answered. */
  answer: string;
  /** The approval's comment, the rejection's or abort's reason, as sent. */
  text?: string;
  signed?: SignedStatement;
  /** promote --full, as sent. */
  full?: boolean;
}
export interface PromoteRequest {
  by: string;
  /** Skip the remaining canary steps. */
  full?: boolean;
  /** A promote statement signed by `by` (tidegate promote --key); absent: unverified. */
  signed?: SignedStatement;
}
export interface AbortRequest {
  by: string;
  reason: string;
  /** Set when a newer release supersedes this one. */
  supersededBy?: string;
  /** An abort statement signed by `by` (the abort update; tidegate abort --key). */
  signed?: SignedStatement;
  /** A supersede: the newer release's verified signed start, which proves who supersedes. */
  startProof?: SignedStatement;
}
export interface AbortResponse {
  /** Who asked for the abort that is under way (this request's `by`, or an earlier one's). */
  abortedBy: string;
  /** False when an abort was already under way: this request changed nothing. */
  accepted: boolean;
}

export interface ApproveResponse {
  service: string;
  approvals: number;
  needed: number;
}

export const approveUpdate = defineUpdate<ApproveResponse, [ApproveRequest]>('approve');
export const rejectUpdate = defineUpdate<{ service: string }, [RejectRequest]>('reject');
export const promoteUpdate = defineUpdate<{ promoted: string }, [PromoteRequest]>('promote');
export const abortSignal = defineSignal<[AbortRequest]>('abort');
/** Abort as an update (releases started with signed controls): answered with a refusal's reason, and the only way to send a signed abort. */
export const abortUpdate = defineUpdate<AbortResponse, [AbortRequest]>('abort');
export const refusedSignal = defineSignal<[RefusedRequest]>('refused');
export const statusQuery = defineQuery<ReleaseStatus>('status');

/** Sent by a superseded release to the release that superseded it, once it has unlocked a service. */
export const lockFreedSignal = defineSignal<[string]>('lockFreed');

/** Lock workflow handlers. */
export const unlockSignal = defineSignal<[string]>('unlock');
export const lockHolderQuery = defineQuery<string>('holder');

/** Global freeze workflow handlers (src/workflows/freeze.ts). */
export interface UnfreezeRequest {
  by: string;
}
export const unfreezeSignal = defineSignal<[UnfreezeRequest]>('unfreeze');
/** Sent to running releases when their calendar may have changed (a freeze lifted): a release waiting for its window checks again now. */
export const calendarChangedSignal = defineSignal<[]>('calendarChanged');

/**
 * Between a release across clusters (`waveRelease`) and the release of each of its clusters (a
 * child `release` whose input has `part`). Children tell the parent where they stand; the parent
 * decides their approval gate and, once every wave has released, commits them or rolls them back.
 */
export interface ClusterAtGate {
  cluster: string;
  service: string;
}
export interface GateDecision {
  service: string;
  approved: boolean;
  /** Who decided (approvers, or the timeout), as the parent's gate recorded it. */
  by: string;
  reason?: string;
}
export interface ClusterRollBack {
  /** Why the whole release rolls back (which cluster failed, who aborted). */
  reason: string;
}
/** Child → parent: its approval gate is open and waits for the parent's decision. */
export const clusterAtGateSignal = defineSignal<[ClusterAtGate]>('clusterAtGate');
/** Child → parent: it switched and finished its monitor window; it waits for commit or roll back. */
export const clusterReleasedSignal = defineSignal<[{ cluster: string }]>('clusterReleased');
/** Parent → child: the decision of the gate it waits at. */
export const gateDecisionSignal = defineSignal<[GateDecision]>('gateDecision');
/** Parent → child: every wave released; scale the old color down and end released. */
export const commitSignal = defineSignal<[]>('commit');
/** Parent → child: another cluster failed or the release was aborted; roll back what this cluster's release did. */
export const clusterRollBackSignal = defineSignal<[ClusterRollBack]>('clusterRollBack');
