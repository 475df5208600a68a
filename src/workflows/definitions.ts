// Names and payload types of the release workflow's handlers, shared by the workflow and the client.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ReleaseStatus } from '../core/status.js';

// The input is the durable contract's (src/core/release-input.ts).
export type { ReleaseInput } from '../core/release-input.js';

export interface ApproveRequest {
  by: string;
  comment?: string;
}
export interface RejectRequest {
  by: string;
  reason: string;
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
export const statusQuery = defineQuery<ReleaseStatus>('status');

/** Sent by a superseded release to the release that superseded it, once it has unlocked a service. */
export const lockFreedSignal = defineSignal<[string]>('lockFreed');

/** Lock workflow handlers. */
export const unlockSignal = defineSignal<[string]>('unlock');
export const lockHolderQuery = defineQuery<string>('holder');
