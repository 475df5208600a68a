// Human rendering of what `tidegate status` / `--watch` / `--wait` / `list` print (the --json forms
// are the raw data and never go through here). A status can hold anything a release of any version
// recorded — null where an older worker wrote NaN, fields that did not exist yet, Error measurements,
// compare runs without a score, a release that ended before its first stage — so the renderer reads
// it through `Loose<T>` (every field may be absent or null, every leaf is `unknown`) and prints every
// value through `formatValue`: it cannot throw on a status, and shows why a release ended.
import { exitCodeFor, type AnalysisRun, type ReleaseResult, type ReleaseStatus } from '../core/status.js';
import { each, has, num, pad, present, text, type Loose } from '../core/loose.js';
import { formatValue } from '../core/values.js';
import { waveStatusLines } from '../core/waves.js';
import type { ReleaseSummary } from './releases.js';

export type { Loose } from '../core/loose.js';

type LooseStatus = Loose<ReleaseStatus>;
type LooseRun = Loose<AnalysisRun>;

const STAGE_MARK: Record<string, string> = { pending: '·', running: '▶', done: '✓', skipped: '–', failed: '✗' };
const PHASE_MARK: Record<string, string> = { Successful: '✓', Failed: '✗', Inconclusive: '?', Running: '▶' };

/** A p-value for people: p<0.0001, p=0.012, or what was recorded when it is not a number. */
function pValue(v: unknown): string {
  const p = num(v);
  if (p === undefined) return `p=${text(v)}`;
  return p < 0.0001 ? 'p<0.0001' : `p=${Number(p.toPrecision(2))}`;
}

function signed(v: unknown): string {
  const n = num(v);
  return n !== undefined && n > 0 ? `+${formatValue(n)}` : formatValue(v);
}

/** A measurement's value: its number or NonFinite spelling; 'null' where an older worker wrote NaN as null. */
function measuredValue(m: Loose<AnalysisRun['measurements'][number]>, key: 'value' | 'baseline'): string | undefined {
  if (!m || !has(m, key)) return undefined;
  const v = m[key];
  return v === null ? 'null' : formatValue(v);
}

/** Exit code `--wait` gives for how a release ended (the status's own cause when the result lacks one). */
export function exitCodeOf(result: Loose<ReleaseResult>): number {
  const outcome = result?.outcome ?? result?.status?.outcome;
  const cause = result?.cause ?? result?.status?.cause;
  const outcomes = ['released', 'rolled-back', 'rejected', 'aborted', 'failed'] as const;
  const known = outcomes.find((o) => o === outcome);
  if (!known) return exitCodeFor({ outcome: 'failed' });
  const causes = ['analysis', 'rejected', 'aborted', 'superseded', 'timeout', 'locked', 'unsigned', 'error'] as const;
  const c = causes.find((x) => x === cause);
  return exitCodeFor({ outcome: known, ...(c ? { cause: c } : {}) });
}

function header(s: LooseStatus): string {
  const id = text(s?.releaseId);
  if (present(s?.outcome)) return `${id}  ${text(s?.outcome)}${present(s?.reason) ? `: ${text(s?.reason)}` : ''}`;
  return `${id}  stage ${text(s?.stage)}${present(s?.service) ? ` (${text(s?.service)})` : ''}`;
}

/** A run's name for people: its id, or what it is made of when an older status has none. */
function runId(a: LooseRun): string {
  if (present(a?.id)) return text(a?.id);
  return [a?.service, a?.stage, a?.step, a?.analysis].filter(present).map(text).join('/') || '(analysis)';
}

function isCompare(a: LooseRun): boolean {
  return a?.kind === 'compare' || (a?.compare !== undefined && a?.compare !== null);
}

/** The last values of a threshold run: its numbers, 'Error' for backend failures, 'no-data' for empty results. */
function lastValues(a: LooseRun, n = 5): string {
  return each(a?.measurements)
    .slice(-n)
    .map((m) => measuredValue(m, 'value') ?? (m?.phase === 'Error' ? 'Error' : m?.phase === 'Inconclusive' ? 'no-data' : text(m?.phase)))
    .join(' ');
}

function thresholdLines(a: LooseRun): string[] {
  const ms = each(a?.measurements);
  const values = lastValues(a);
  const lines = [`${ms.length} measurement${ms.length === 1 ? '' : 's'}${values ? ` [${values}]` : ''}${present(a?.reason) ? ` — ${text(a?.reason)}` : ''}`];
  // Why a run that did not pass did not: its last measurement that was not Successful.
  if (a?.phase !== 'Successful') {
    const bad = [...ms].reverse().find((m) => m?.phase !== undefined && m?.phase !== 'Successful');
    if (bad) {
      const v = measuredValue(bad, 'value');
      lines.push(`last ${text(bad.phase)}${v !== undefined ? ` ${v}` : ''}${present(bad.message) ? `: ${text(bad.message)}` : ''}${present(bad.at) ? ` (at ${text(bad.at)})` : ''}`);
    }
  }
  return lines;
}

function compareLines(a: LooseRun): string[] {
  const ms = each(a?.measurements);
  const canary = ms.filter((m) => has(m, 'value')).length;
  const baseline = ms.filter((m) => has(m, 'baseline')).length;
  const errors = ms.filter((m) => m?.phase === 'Error');
  const noData = ms.filter((m) => m?.phase === 'Inconclusive').length;
  const summary = a?.compare;
  const score = summary && present(summary.score) ? `score ${text(summary.score)}` : 'no score';
  // The run's reason repeats each metric's; the metric lines below show those.
  const reason = present(a?.reason) ? text(a?.reason).split(' — ')[0] : '';
  const counts = [`canary ${canary}`, `baseline ${baseline} samples`, ...(noData ? [`${noData} empty`] : []), ...(errors.length ? [`${errors.length} errors`] : [])];
  const lines = [`compare, ${score}, ${counts.join(', ')}${reason ? ` — ${reason}` : ''}`];
  const metrics = each(summary?.metrics);
  const width = Math.max(8, ...metrics.map((m) => text(m?.name).length));
  for (const m of metrics) {
    const parts = [pad(text(m?.name), width), pad(`${text(m?.classification)}${m?.verdict === 'Fail' ? ' → Fail' : ''}`, 12)];
    const effect = num(m?.relativeEffect) !== undefined && num(m?.medians?.baseline) !== 0 ? ` (${signed(Math.round((num(m?.relativeEffect) ?? 0) * 100))}%)` : '';
    if (m?.medians) parts.push(`canary ${formatValue(m.medians.canary)} vs baseline ${formatValue(m.medians.baseline)}${effect}`);
    if (m?.shift) parts.push(`shift ${signed(m.shift.estimate)} [${formatValue(m.shift.lower)}, ${formatValue(m.shift.upper)}]`);
    if (has(m, 'pValue')) parts.push(pValue(m?.pValue));
    if (m?.verdict === 'NoData' || !m?.shift) parts.push(text(m?.reason));
    if (num(m?.weight) !== undefined && m?.weight !== 1) parts.push(`weight ${formatValue(m?.weight)}`);
    if (m?.critical === true) parts.push('critical');
    lines.push(`  ${parts.join('  ')}`);
  }
  if (metrics.length === 0 && present(a?.reason) && reason !== text(a?.reason)) lines.push(`  ${text(a?.reason)}`);
  const lastError = errors.at(-1);
  if (lastError && a?.phase !== 'Successful') lines.push(`  last Error: ${text(lastError.message)}`);
  return lines;
}

function analysisLines(a: LooseRun): string[] {
  const phase = text(a?.phase);
  const head = `    ${PHASE_MARK[phase] ?? ' '} ${pad(runId(a), 36)} ${pad(phase, 12)}`;
  const body = isCompare(a) ? compareLines(a) : thresholdLines(a);
  return [`${head} ${body[0] ?? ''}`, ...body.slice(1).map((l) => `        ${l}`)];
}

/**
 * A release's status for people: outcome, cause and reason; each service's stages; every analysis
 * run with its phase, last values and reason (compare runs: score, and per metric its
 * classification, medians, shift and p-value); the rollback's undos with their attempts, errors and
 * notes; the last timeline entries. A release across clusters adds its waves after the services
 * (src/core/waves.ts waveStatusLines), and one cluster's release the line naming its cluster and
 * parent; statuses without them render as before. Never throws, whatever the status holds.
 */
export function renderStatus(status: ReleaseStatus | Loose<ReleaseStatus>): string {
  const s: LooseStatus = status;
  const lines = [header(s)];
  const cluster = s?.cluster;
  if (cluster) {
    const wave = num(cluster.wave) !== undefined ? String((num(cluster.wave) ?? 0) + 1) : text(cluster.wave);
    lines.push(`  cluster ${text(cluster.name)} (context ${text(cluster.context)}) in wave ${wave} of ${text(cluster.parent)}`);
  }
  const ended = present(s?.endedAt) ? `, ended ${text(s?.endedAt)}` : '';
  lines.push(`  started ${text(s?.startedAt)} by ${text(s?.initiator)}${s?.initiatorProof ? ` [signed ${text(s.initiatorProof.fingerprint)}]` : ''}${ended}`);
  if (present(s?.outcome)) {
    const code = exitCodeOf({ outcome: s?.outcome, cause: s?.cause });
    lines.push(`  outcome ${text(s?.outcome)}${present(s?.cause) ? `, cause ${text(s?.cause)}` : ''} (--wait exits ${code})`);
  }
  const services = each(s?.services);
  let anyStageRan = false;
  for (const svc of services) {
    const weight = present(svc?.canaryWeight) ? ` ${text(svc?.canaryWeight)}%` : '';
    const colors = present(svc?.activeColor)
      ? ` ${text(svc?.activeColor)}${present(svc?.newColor) && svc?.newColor !== svc?.activeColor ? ` → ${text(svc?.newColor)}${weight}` : ''}`
      : '';
    lines.push(`  ${text(svc?.service)} ${text(svc?.version)} ${text(svc?.image)}${colors}`);
    const stages = Object.entries(svc?.stages ?? {});
    if (stages.some(([, v]) => v === 'running' || v === 'done' || v === 'failed')) anyStageRan = true;
    if (stages.length) lines.push(`    ${stages.map(([k, v]) => `${STAGE_MARK[text(v)] ?? text(v)} ${k}`).join('  ')}`);
    const step = svc?.step;
    if (step) lines.push(`    canary step ${num(step.index) !== undefined ? (num(step.index) ?? 0) + 1 : text(step.index)}/${text(step.total)}: ${text(step.label)}`);
    const approvals = each(svc?.approvals);
    const proofOf = (p: { fingerprint?: unknown } | null | undefined): string => (p ? `signed ${text(p.fingerprint)}` : 'unverified');
    if (approvals.length || num(svc?.approvalsNeeded)) {
      const who = approvals.map((a) => `${text(a?.by)} [${proofOf(a?.proof)}]${present(a?.comment) ? ` ("${text(a?.comment)}")` : ''}`).join(', ') || 'none';
      lines.push(`    approvals: ${who}${num(svc?.approvalsNeeded) ? ` — ${text(svc?.approvalsNeeded)} more needed` : ''}`);
    }
    const gate = svc?.gate;
    if (gate && svc?.stages?.approval === 'running') {
      lines.push(`    gate ${text(gate.nonce)}: ${gate.requireSigned ? 'signed decisions required' : 'signatures optional'}; signers ${each(gate.signers?.principals).map(text).join(', ') || 'none'} (${text(gate.signers?.source)})`);
    }
    if (each(svc?.hooks).some((h) => h?.state !== 'pending')) anyStageRan = true;
    for (const h of each(svc?.hooks)) {
      const state = text(h?.state);
      const mark = { done: '✓', failed: '✗', 'timed-out': '✗', running: '…', pending: '–' }[state] ?? ' ';
      lines.push(`    ${mark} hook ${text(h?.name)} (${text(h?.point)}) ${state === 'failed' || state === 'timed-out' ? state.toUpperCase() : state}: ${present(h?.detail) ? text(h?.detail) : text(h?.target)}${h?.undo === true ? ' [undo on rollback]' : ''}`);
      const logTail = each(h?.logTail);
      if (logTail.length && (state === 'failed' || state === 'timed-out')) {
        lines.push('        log tail:');
        for (const l of logTail) lines.push(`          ${text(l)}`);
      }
    }
    if (svc?.rejection) lines.push(`    rejected by ${text(svc.rejection.by)} [${proofOf(svc.rejection.proof)}]: ${text(svc.rejection.reason)}`);
  }
  const waves = waveStatusLines(s?.waves);
  if (waves.length) lines.push('  waves:', ...waves.map((l) => `    ${l}`));
  // a release across clusters runs its stages in each cluster's release
  if (each(s?.waves).some((w) => each(w?.clusters).some((c) => present(c?.phase) && c?.phase !== 'waiting'))) anyStageRan = true;
  const controls = s?.controls;
  if (controls) {
    const done = each(controls.decisions).map((d) => `${text(d?.decision)}${d?.full === true ? ' --full' : ''} by ${text(d?.by)} [${d?.proof ? `signed ${text(d.proof.fingerprint)}` : 'unverified'}]`);
    lines.push(`  promote / abort: ${controls.requireSigned ? 'signed required' : 'signatures optional'}${done.length ? `; ${done.join(', ')}` : ''}`);
  }
  const refusals = each(s?.refusals);
  if (refusals.length) {
    lines.push(`  refused decisions${refusals.length > 5 ? ` (last 5 of ${refusals.length})` : ''}:`);
    for (const r of refusals.slice(-5)) lines.push(`    ${text(r?.at).slice(11, 19)}  ${text(r?.decision)} by ${text(r?.by)}: ${text(r?.reason)}`);
  }
  if (present(s?.outcome) && !anyStageRan) {
    lines.push(services.length ? '  no stage ran: the release ended before its first stage' : '  no service was started');
  }
  if (present(s?.pausedFor)) lines.push(`  PAUSED: ${text(s?.pausedFor)}`);
  const waiting = s?.waiting;
  if (waiting && !present(s?.outcome)) {
    const what = `${text(waiting.stage)} of ${text(waiting.service)}`;
    lines.push(
      present(waiting.opensAt)
        ? `  WAITING (${what}) for the window that opens at ${text(waiting.opensAt)}: ${text(waiting.reason)}`
        : `  WAITING (${what}): ${text(waiting.reason)}`,
    );
  }
  const analyses = each(s?.analyses);
  if (analyses.length) {
    lines.push('  analyses:');
    for (const a of analyses) lines.push(...analysisLines(a));
  }
  const compensations = each(s?.compensations);
  if (compensations.length) {
    lines.push('  rollback:');
    for (const c of compensations) {
      const status = c?.status === 'failed' ? 'FAILED' : text(c?.status);
      const attempts = num(c?.attempts) !== undefined && (num(c?.attempts) ?? 0) > 1 ? ` (${text(c?.attempts)} attempts)` : '';
      const lastError = each(c?.errors).at(-1);
      const error = lastError !== undefined ? ` — ${c?.status === 'done' ? 'after ' : ''}${text(lastError)}` : '';
      lines.push(`    ${pad(status, 8)}${text(c?.label)}${attempts}${error}${present(c?.note) ? ` — ${text(c?.note)}` : ''}`);
    }
  }
  const timeline = each(s?.timeline);
  if (timeline.length) {
    lines.push(`  timeline${timeline.length > 8 ? ` (last 8 of ${timeline.length})` : ''}:`);
    for (const t of timeline.slice(-8)) {
      const at = typeof t?.at === 'string' ? t.at.slice(11, 19) : text(t?.at);
      lines.push(`    ${at}  ${text(t?.event)}`);
    }
  }
  return lines.join('\n');
}

/**
 * One line for a table cell: each analysis run as `<analysis>@<stage>[:<step>] <verdict>`, with the
 * last value of a threshold run that did not pass and the score of a compare run; cut to `max`
 * characters. For the demo's summary table.
 *
 *   summarizeAnalyses(rolled back release) → 'success-rate@staging ok · success-rate@canary:3 Failed 0.8'
 *   summarizeAnalyses([])                  → 'none'
 */
export function summarizeAnalyses(analyses: readonly AnalysisRun[] | Loose<AnalysisRun[]>, max = 80): string {
  const runs: Loose<AnalysisRun[]> = analyses;
  const parts = each(runs).map((a) => {
    const where = `${text(a?.analysis ?? runId(a))}@${text(a?.stage)}${num(a?.step) !== undefined ? `:${(num(a?.step) ?? 0) + 1}` : ''}`;
    const phase = text(a?.phase);
    if (phase === 'Successful') return `${where} ok`;
    if (typeof a?.reason === 'string' && a.reason.startsWith('cut short')) return `${where} cut short`;
    if (isCompare(a)) return `${where} ${phase}${a?.compare && present(a.compare.score) ? ` score ${text(a.compare.score)}` : ''}`;
    const last = [...each(a?.measurements)].reverse().find((m) => has(m, 'value'));
    return `${where} ${phase}${last ? ` ${measuredValue(last, 'value') ?? ''}` : ''}`;
  });
  const line = parts.length ? parts.join(' · ') : 'none';
  return line.length > max ? `${line.slice(0, Math.max(0, max - 1))}…` : line;
}

/** `tidegate list`: one release a line (id, stage or outcome, start time). */
export function renderList(list: readonly ReleaseSummary[] | Loose<ReleaseSummary[]>): string {
  const rows: Loose<ReleaseSummary[]> = list;
  const lines = each(rows).map((r) => {
    const state = r?.running === true ? text(r?.stage) : present(r?.outcome) ? text(r?.outcome) : 'closed';
    return `${pad(text(r?.releaseId), 28)} ${pad(state, 12)} ${text(r?.startedAt)}`;
  });
  return lines.length ? lines.join('\n') : 'no releases';
}
