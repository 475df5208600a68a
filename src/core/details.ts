// What the Temporal UI shows on a release's page as its current details: where the release is, what
// it waits for and until when, the last verdict of each analysis with its numbers, the approvals so
// far and who may still approve, and the exact commands to act. Pure markdown from the status and the
// spec, so the workflow only has to call setCurrentDetails with it, and tests can read it.
import { approversLeft } from './approval.js';
import type { ReleaseSpec } from './release-spec.js';
import type { AnalysisRun, ReleaseStatus, ServiceStatus } from './status.js';
import { waveSummary } from './waves.js';

/** Markdown's special characters (and `<`, which could open HTML) in text that came from people or the spec. */
const md = (text: string): string => text.replace(/([\\`*_[\]<|])/g, '\\$1');
const code = (text: string): string => `\`${text.replace(/`/g, "'")}\``;
/** An ISO time as the UI reader wants it: minutes, UTC. */
const when = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/**
 * The details markdown for a release as `status` shows it now.
 *
 *   a release paused at canary step 2 of 4 until 10:42 →
 *     **checkout@1.4.2** · canary · started by dave
 *     - **checkout** `registry.local/checkout:1.4.2`: blue → green at 10% · step 2/4: pause 5m
 *     **Waiting for** promote: canary step 2: pause 300s, until 2026-12-02 10:42 UTC — `tidegate promote checkout@1.4.2`
 *     …
 *   a gate with 1 of 2 approvals →
 *     **Waiting for** 1 more approval of checkout from bob or carol, until 2026-12-03 10:00 UTC (then rollback)
 *     - approve: `tidegate approve checkout@1.4.2 --as <you> --key <your SSH key>`
 */
export function currentDetails(status: ReleaseStatus, spec: ReleaseSpec): string {
  const id = status.releaseId;
  const lines: string[] = [];
  const signedBy = status.initiatorProof ? ` (signed ${status.initiatorProof.fingerprint})` : '';
  if (status.outcome) {
    lines.push(`**${md(id)}** · **${status.outcome}**${status.cause && status.cause !== status.outcome ? ` (${status.cause})` : ''} · started by ${md(status.initiator)}${signedBy}`);
    if (status.reason) lines.push('', md(status.reason));
  } else {
    lines.push(`**${md(id)}** · ${status.stage} · started by ${md(status.initiator)}${signedBy}`);
  }
  if (status.cluster) lines.push('', `Cluster **${md(status.cluster.name)}** (context ${code(status.cluster.context)}) in wave ${status.cluster.wave + 1} of **${md(status.cluster.parent)}**`);
  lines.push('');
  for (const svc of status.services) lines.push(serviceLine(svc));
  const waves = waveSummary(status.waves);
  if (waves) lines.push('', `**Waves:** ${md(waves)}`);
  if (!status.outcome) {
    const waiting = waitingFor(status, spec);
    if (waiting.length) lines.push('', ...waiting);
  }
  // the commands next to what the release waits for: the UI shows the panel at a fixed height
  if (!status.outcome && status.stage !== 'rollback') {
    const key = status.controls?.requireSigned ? ' --key <your SSH key>' : '';
    lines.push('', `Abort: ${code(`tidegate abort ${id} --reason <why>${key}`)} · Status: ${code(`tidegate status ${id} --watch`)}`);
  }
  const verdicts = lastVerdicts(status.analyses);
  if (verdicts.length) lines.push('', '**Analyses** (last verdict of each)', '', ...verdicts);
  const approvals = status.services.filter((s) => s.approvals.length > 0 || s.rejection);
  if (approvals.length) {
    lines.push('', '**Decisions**', '');
    for (const s of approvals) {
      for (const a of s.approvals) lines.push(`- ${md(s.service)}: approved by ${md(a.by)} ${a.proof ? `(signed ${a.proof.fingerprint})` : '(unverified)'}${a.comment ? `: ${md(a.comment)}` : ''}`);
      if (s.rejection) lines.push(`- ${md(s.service)}: rejected by ${md(s.rejection.by)} ${s.rejection.proof ? `(signed ${s.rejection.proof.fingerprint})` : '(unverified)'}: ${md(s.rejection.reason)}`);
    }
  }
  if (status.refusals?.length) lines.push('', `**Refused decisions:** ${status.refusals.length} (the last: ${status.refusals.at(-1)?.decision} by ${md(status.refusals.at(-1)?.by ?? '')}: ${md(status.refusals.at(-1)?.reason ?? '')})`);
  return lines.join('\n');
}

function serviceLine(svc: ServiceStatus): string {
  const colors = svc.activeColor ? `: ${svc.activeColor}${svc.newColor && svc.newColor !== svc.activeColor ? ` → ${svc.newColor} at ${svc.canaryWeight}%` : ''}` : '';
  const step = svc.step ? ` · step ${svc.step.index + 1}/${svc.step.total}: ${md(svc.step.label)}` : '';
  const running = Object.entries(svc.stages).find(([, state]) => state === 'running')?.[0];
  return `- **${md(svc.service)}** ${code(svc.image)}${colors}${step}${running ? ` · ${running}` : ''}`;
}

/** What the release waits for now, and the command that moves it on. */
function waitingFor(status: ReleaseStatus, spec: ReleaseSpec): string[] {
  const id = status.releaseId;
  const key = status.controls?.requireSigned ? ' --key <your SSH key>' : '';
  if (status.pausedFor) {
    const until = status.pause?.until ? `, until ${when(status.pause.until)}` : '';
    return [`**Waiting for** promote: ${md(status.pausedFor)}${until} — ${code(`tidegate promote ${id}${key}`)}`];
  }
  if (status.waiting) {
    const w = status.waiting;
    const opens = w.opensAt ? ` for the window that opens at ${when(w.opensAt)}` : '';
    return [`**Waiting**${opens} before ${w.stage} of ${md(w.service)}: ${md(w.reason)}`];
  }
  const svc = status.stage === 'approval' ? status.services.find((s) => s.service === status.service) : undefined;
  const rule = spec.services.find((s) => s.service === svc?.service)?.production.approval;
  if (!svc || !rule || svc.stages.approval !== 'running' || svc.approvalsNeeded === undefined) return [];
  const left = approversLeft(rule, svc.approvals, status.initiator);
  const sign = svc.gate?.requireSigned ? ' --key <your SSH key>' : '';
  const until = svc.approvalUntil ? `, until ${when(svc.approvalUntil)} (then ${rule.onTimeout})` : '';
  const n = svc.approvalsNeeded;
  return [
    `**Waiting for** ${n} more approval${n === 1 ? '' : 's'} of ${md(svc.service)} from ${left.length ? left.map(md).join(' or ') : 'nobody left who may approve'}${until}`,
    '',
    `- approve: ${code(`tidegate approve ${id} --as <you>${sign}`)}`,
    `- reject: ${code(`tidegate reject ${id} --as <you> --reason <why>${sign}`)}`,
  ];
}

/** The last run of each analysis per service and stage, with its numbers. */
function lastVerdicts(runs: readonly AnalysisRun[]): string[] {
  const last = new Map<string, AnalysisRun>();
  for (const run of runs) last.set(`${run.service}/${run.stage}/${run.analysis}`, run);
  return [...last.values()].map((run) => {
    const where = `${run.stage}${run.step !== undefined ? ` step ${run.step}` : ''}`;
    const m = run.measurements.at(-1);
    const value = m?.value !== undefined ? ` · last value ${String(m.value)}${m.baseline !== undefined ? ` (baseline ${String(m.baseline)})` : ''}` : '';
    const score = run.compare?.score !== undefined ? ` · score ${run.compare.score}` : '';
    return `- ${md(run.analysis)} on ${md(run.service)} (${where}): **${run.phase}**${score}${value}${run.reason ? ` — ${md(run.reason)}` : ''}`;
  });
}
