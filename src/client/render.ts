// Human rendering of a release's status for `tidegate status` (the --json form is the raw status).
import type { ReleaseStatus } from '../core/status.js';

const STAGE_MARK: Record<string, string> = { pending: '·', running: '▶', done: '✓', skipped: '–', failed: '✗' };

export function renderStatus(s: ReleaseStatus): string {
  const lines: string[] = [];
  const state = s.outcome ? `${s.outcome}${s.reason ? `: ${s.reason}` : ''}` : `stage ${s.stage}${s.service ? ` (${s.service})` : ''}`;
  lines.push(`${s.releaseId}  ${state}`);
  lines.push(`  started ${s.startedAt} by ${s.initiator}${s.endedAt ? `, ended ${s.endedAt}` : ''}`);
  for (const svc of s.services) {
    const colors = svc.activeColor ? ` ${svc.activeColor}${svc.newColor && svc.newColor !== svc.activeColor ? ` → ${svc.newColor} ${svc.canaryWeight}%` : ''}` : '';
    lines.push(`  ${svc.service} ${svc.version} ${svc.image}${colors}`);
    lines.push(`    ${Object.entries(svc.stages).map(([k, v]) => `${STAGE_MARK[v] ?? v} ${k}`).join('  ')}`);
    if (svc.step) lines.push(`    canary step ${svc.step.index + 1}/${svc.step.total}: ${svc.step.label}`);
    if (svc.approvals.length || svc.approvalsNeeded) {
      lines.push(`    approvals: ${svc.approvals.map((a) => `${a.by}${a.comment ? ` ("${a.comment}")` : ''}`).join(', ') || 'none'}${svc.approvalsNeeded ? ` — ${svc.approvalsNeeded} more needed` : ''}`);
    }
    if (svc.rejection) lines.push(`    rejected by ${svc.rejection.by}: ${svc.rejection.reason}`);
  }
  if (s.pausedFor) lines.push(`  PAUSED: ${s.pausedFor}`);
  if (s.analyses.length) {
    lines.push('  analyses:');
    for (const a of s.analyses) {
      const values = a.measurements.slice(-5).map((m) => (m.value === undefined ? m.phase : `${m.value.toPrecision(4)}`)).join(' ');
      lines.push(`    ${a.id.padEnd(36)} ${a.phase.padEnd(12)} ${a.measurements.length} measurements${values ? ` [${values}]` : ''}${a.reason ? ` — ${a.reason}` : ''}`);
    }
  }
  if (s.compensations.length) {
    lines.push('  rollback:');
    for (const c of s.compensations) lines.push(`    ${c.status.padEnd(7)} ${c.label}${c.attempts > 1 ? ` (${c.attempts} attempts)` : ''}${c.errors.length ? ` — ${c.errors.at(-1)}` : ''}`);
  }
  lines.push('  timeline:');
  for (const t of s.timeline.slice(-8)) lines.push(`    ${t.at.slice(11, 19)}  ${t.event}`);
  return lines.join('\n');
}
