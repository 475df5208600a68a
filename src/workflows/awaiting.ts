// Who a release waits for, as a search attribute (TidegateAwaiting): set by the approval stage when
// a gate opens and by the approve handler after each approval, so that a saved view can list
// "everything waiting for me" without querying every release.
import { upsertSearchAttributes } from '@temporalio/workflow';
import { approversLeft, type ApprovalGate } from '../core/approval.js';
import { AWAITING_KEY } from './search-attributes.js';

/** TidegateAwaiting: who may still approve at the gate (saved view "everything waiting for me"). */
export function advertiseAwaiting(gate: ApprovalGate): void {
  if (!gate.advertised || !gate.open) return;
  const left = approversLeft(gate.rule, gate.approvals, gate.initiator);
  upsertSearchAttributes([{ key: AWAITING_KEY, value: left.length ? left : null }]);
}
