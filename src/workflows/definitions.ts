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
  decision: Extract<Decision, 'approve' | 'reject'>;
  by: string;
  /** What the validator answered. */
  answer: string;
  /** The approval's comment or the rejection's reason, as sent. */
  text?: string;
  signed?: SignedStatement;
}
export interface PromoteRequest {
  by: string;
  /** Skip the remaining canary steps. */
  full?: boolean;
}
export interface AbortRequest {
  by: string;
  reason: string;
  /** Set when a newer release supersedes this one. */
  supersededBy?: string;
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
export const refusedSignal = defineSignal<[RefusedRequest]>('refused');
export const statusQuery = defineQuery<ReleaseStatus>('status');

/** Sent by a superseded release to the release that superseded it, once it has unlocked a service. */
export const lockFreedSignal = defineSignal<[string]>('lockFreed');

/** Lock workflow handlers. */
export const unlockSignal = defineSignal<[string]>('unlock');
export const lockHolderQuery = defineQuery<string>('holder');
