// `tidegate analysis replay`: the I/O around src/core/rejudge.ts. It reads a finished release's
// history — from the server, or a file exported by `temporal workflow show -o json` for offline
// use — takes the spec the release ran with from its start input and the final status from its
// completion, re-judges every recorded analysis run under that spec and optionally another one, and
// prints the verdicts side by side. Running releases are refused (exit 3): their runs may still be
// measuring, and a half-recorded run would be re-judged as if it were complete.
import { ENCRYPTED_ENCODING, type AesGcmCodec } from '../temporal/codec.js';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { temporal } from '@temporalio/proto';
import { isEndingFailureType, upgradeStatus, type AnalysisRun, type ReleaseStatus } from '../core/status.js';
import { judgeConfigFor, rejudgeRun, releaseRejudged, type Rejudged, type ReleaseRejudged } from '../core/rejudge.js';
import type { ReleaseSpec } from '../spec/schema.js';
import { isObject, UnsupportedInputError, upgradeReleaseInput, type StoredReleaseInput } from '../core/release-input.js';
import { InvalidInputError, RefusedError, ReleaseNotFoundError } from './errors.js';

type History = temporal.api.history.v1.IHistory;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

/** What a finished release recorded: the spec it ran with and its final status. */
export interface RecordedRelease {
  releaseId: string;
  spec: ReleaseSpec;
  status: ReleaseStatus;
}


/** Payloads of a history event, decoded with the SDK's default converter; a payload it cannot read is bad input. */
export function decodePayloads(payloads: Payloads, what = 'payload', codec?: AesGcmCodec): unknown[] {
  return (payloads?.payloads ?? []).map((payload) => {
    let plain = payload;
    try {
      if (codec) plain = codec.decryptSync(payload);
    } catch (err) {
      throw new InvalidInputError(`cannot decrypt the history's ${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      return defaultPayloadConverter.fromPayload<unknown>(plain);
    } catch (err) {
      const encrypted = new TextDecoder().decode(plain.metadata?.encoding ?? new Uint8Array()) === ENCRYPTED_ENCODING;
      throw new InvalidInputError(
        encrypted
          ? `the history's ${what} is encrypted: give its keys in TIDEGATE_PAYLOAD_KEYS (or TIDEGATE_PAYLOAD_KEYS_FILE)`
          : `cannot decode the history's ${what}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  });
}

/**
 * The payloads of a release's result in its history: the completion result of a released one, or the
 * details of the failure a release that did not ship ends with (src/core/status.ts endingFailure);
 * undefined while it runs, or when it ended some other way (terminated, timed out, a bug).
 */
export function resultPayloads(events: readonly temporal.api.history.v1.IHistoryEvent[]): Payloads | undefined {
  for (const e of events) {
    const completed = e.workflowExecutionCompletedEventAttributes;
    if (completed) return completed.result ?? undefined;
    const info = e.workflowExecutionFailedEventAttributes?.failure?.applicationFailureInfo;
    if (info && isEndingFailureType(info.type)) return info.details ?? undefined;
  }
  return undefined;
}

/**
 * Every payload a history carries that the data converter wrote: the start input, signal and update
 * arguments, activity inputs and results (a local activity's result too), and the ending's result
 * or failure details. What payload encryption must cover, and what its cost is measured on.
 */
export function historyPayloads(events: readonly temporal.api.history.v1.IHistoryEvent[]): temporal.api.common.v1.IPayload[] {
  return events.flatMap((e) => [
    ...(e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
    ...(e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? []),
    ...(e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads ?? []),
    ...(e.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
    ...(e.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
    // a local activity's result (its marker's `data` detail is the SDK's own bookkeeping, never encoded)
    ...(e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? (e.markerRecordedEventAttributes.details?.result?.payloads ?? []) : []),
    ...(resultPayloads([e])?.payloads ?? []),
  ]);
}

function firstPayload(payloads: Payloads, what: string, codec?: AesGcmCodec): unknown {
  if (!payloads?.payloads?.[0]) throw new InvalidInputError(`the history's ${what} carries no payload`);
  return decodePayloads(payloads, what, codec)[0];
}

/**
 * The release a history recorded: its spec from WorkflowExecutionStarted's input `{spec, initiator,
 * supersede}`, its final status from WorkflowExecutionCompleted's result (a ReleaseResult), both
 * decoded with the SDK's default payload converter. A history without a completion is refused
 * (still running, or ended without a result: terminated, failed, timed out).
 */
export function recordedRelease(history: History, where: string, codec?: AesGcmCodec): RecordedRelease {
  const events = history.events ?? [];
  if (events.length === 0) throw new InvalidInputError(`${where} holds no history events`);
  const started = events.find((e) => e.workflowExecutionStartedEventAttributes)?.workflowExecutionStartedEventAttributes;
  if (!started) throw new InvalidInputError(`${where} has no WorkflowExecutionStarted event`);
  const type = started.workflowType?.name ?? '?';
  if (type !== 'release') throw new InvalidInputError(`${where} is not a release (workflow type "${type}")`);
  const input = firstPayload(started.input, 'start input', codec);
  if (!isObject(input) || !isObject(input.spec)) throw new InvalidInputError(`${where}: the start input has no release spec`);
  let spec: ReleaseSpec;
  try {
    spec = upgradeReleaseInput(input as unknown as StoredReleaseInput).spec;
  } catch (err) {
    if (err instanceof UnsupportedInputError) throw new InvalidInputError(`${where}: ${err.message}`);
    throw err;
  }
  const fallbackId = `${String(spec.name)}@${String(spec.version)}`;

  const closing = events.find(
    (e) =>
      e.workflowExecutionCompletedEventAttributes ||
      e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionCanceledEventAttributes ||
      e.workflowExecutionTimedOutEventAttributes ||
      e.workflowExecutionContinuedAsNewEventAttributes,
  );
  if (!closing) throw new RefusedError(`${fallbackId} is still running (its history has not ended); replay re-judges finished releases — see \`tidegate status ${fallbackId}\``);
  const resultOf = resultPayloads([closing]);
  if (!resultOf) {
    const how = closing.workflowExecutionTerminatedEventAttributes
      ? `was terminated${closing.workflowExecutionTerminatedEventAttributes.reason ? ` (${closing.workflowExecutionTerminatedEventAttributes.reason})` : ''}`
      : closing.workflowExecutionFailedEventAttributes
        ? `failed (${closing.workflowExecutionFailedEventAttributes.failure?.message ?? 'no message'})`
        : closing.workflowExecutionTimedOutEventAttributes
          ? 'timed out'
          : closing.workflowExecutionCanceledEventAttributes
            ? 'was cancelled'
            : 'continued as new';
    throw new RefusedError(`${fallbackId} ${how}: its history holds no final status to re-judge`);
  }
  const result = firstPayload(resultOf, 'result', codec);
  if (!isObject(result) || !isObject(result.status)) throw new InvalidInputError(`${where}: the completion result has no release status`);
  const status = upgradeStatus(result.status as unknown as ReleaseStatus);
  const releaseId = typeof result.releaseId === 'string' ? result.releaseId : typeof status.releaseId === 'string' ? status.releaseId : fallbackId;
  return { releaseId, spec, status };
}

/** A history JSON file (`temporal workflow show -o json`, or test/fixtures/histories/*.json). */
export function readHistoryFile(path: string): History {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`${path} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(json) || !Array.isArray(json.events)) throw new InvalidInputError(`${path} is not a workflow history (expected {"events": […]}, as \`temporal workflow show -o json\` writes)`);
  try {
    return historyFromJSON(json);
  } catch (err) {
    throw new InvalidInputError(`${path} is not a workflow history: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The history of a closed release, from the server; a running release is refused (exit 3). */
export async function fetchReleaseHistory(client: Client, releaseId: string): Promise<History> {
  const handle = client.workflow.getHandle(releaseId);
  try {
    const d = await handle.describe();
    if (d.type !== 'release') throw new InvalidInputError(`${releaseId} is not a release (workflow type "${d.type}")`);
    if (d.status.name === 'RUNNING') {
      throw new RefusedError(`${releaseId} is still running; replay re-judges finished releases (its runs may still be measuring) — see \`tidegate status ${releaseId}\``);
    }
    return await handle.fetchHistory();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ReleaseNotFoundError(releaseId);
    throw err;
  }
}

/** One recorded run, re-judged. */
export interface ReplayRun {
  id: string;
  analysis: string;
  kind: AnalysisRun['kind'];
  service: string;
  stage: string;
  step?: number;
  recorded: { phase: string; reason?: string };
  /** Under the spec the release ran with. */
  asRecorded: Rejudged;
  /** Under the other config (-f). */
  other?: Rejudged;
}

export interface ReplayReport {
  releaseId: string;
  outcome?: string;
  cause?: string;
  reason?: string;
  /** Column labels: the recorded config, and the other config's file name. */
  configs: { recorded: string; other?: string };
  runs: ReplayRun[];
  /** What each config would have done with the release. */
  release: { asRecorded: ReleaseRejudged; other?: ReleaseRejudged };
}

/** A recorded run in today's shape (older statuses lack `kind`, and may lack ids or measurements). */
function normaliseRun(raw: unknown, i: number): AnalysisRun | undefined {
  if (!isObject(raw)) return undefined;
  const run = raw as Partial<AnalysisRun>;
  const analysis = typeof run.analysis === 'string' ? run.analysis : undefined;
  if (!analysis) return undefined;
  const service = typeof run.service === 'string' ? run.service : '?';
  const stage = (typeof run.stage === 'string' ? run.stage : 'canary') as AnalysisRun['stage'];
  return {
    ...run,
    id: typeof run.id === 'string' ? run.id : `${service}/${stage}/${analysis}#${i}`,
    analysis,
    kind: run.kind === 'compare' ? 'compare' : 'threshold',
    service,
    stage,
    color: run.color ?? 'staging',
    query: typeof run.query === 'string' ? run.query : '',
    phase: run.phase ?? 'Running',
    measurements: Array.isArray(run.measurements) ? run.measurements.filter(isObject) : [],
  } as AnalysisRun;
}

/** Re-judges every recorded run under the recorded spec and, when given, another one. */
export function replayReport(recorded: RecordedRelease, other?: { label: string; spec: ReleaseSpec }): ReplayReport {
  const runs: ReplayRun[] = [];
  const raw: unknown[] = Array.isArray(recorded.status.analyses) ? recorded.status.analyses : [];
  raw.forEach((item, i) => {
    const run = normaliseRun(item, i);
    if (!run) return;
    const recordedConfig = judgeConfigFor(recorded.spec, run);
    runs.push({
      id: run.id,
      analysis: run.analysis,
      kind: run.kind,
      service: run.service,
      stage: run.stage,
      ...(run.step !== undefined ? { step: run.step } : {}),
      recorded: { phase: String(run.phase), ...(typeof run.reason === 'string' ? { reason: run.reason } : {}) },
      asRecorded: rejudgeRun(run, recordedConfig),
      ...(other ? { other: rejudgeRun(run, judgeConfigFor(other.spec, run), { recorded: recordedConfig }) } : {}),
    });
  });
  const onInconclusive = (spec: ReleaseSpec, name: string): 'pause' | 'rollback' | undefined => {
    const a: unknown = isObject(spec.analyses) ? spec.analyses[name] : undefined;
    return isObject(a) && a.onInconclusive === 'rollback' ? 'rollback' : 'pause';
  };
  const s = recorded.status;
  return {
    releaseId: recorded.releaseId,
    ...(typeof s.outcome === 'string' ? { outcome: s.outcome } : {}),
    ...(typeof s.cause === 'string' ? { cause: s.cause } : {}),
    ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
    configs: { recorded: 'own config', ...(other ? { other: other.label } : {}) },
    runs,
    release: {
      asRecorded: releaseRejudged(runs.map((r) => ({ id: r.id, rejudged: r.asRecorded, onInconclusive: onInconclusive(recorded.spec, r.analysis) }))),
      ...(other
        ? { other: releaseRejudged(runs.flatMap((r) => (r.other ? [{ id: r.id, rejudged: r.other, onInconclusive: onInconclusive(other.spec, r.analysis) }] : []))) }
        : {}),
    },
  };
}

/** Why a re-judged verdict is what it is, when it differs from the recorded one (or has caveats). */
function explain(label: string, recordedPhase: string, r: Rejudged, showNotes: boolean): string[] {
  const lines: string[] = [];
  const changed = r.phase !== recordedPhase;
  if (changed || r.cutShort) {
    const after = r.threshold?.decidedAfter !== undefined ? `after ${r.threshold.decidedAfter} of ${r.threshold.recorded} recorded measurements` : '';
    const why = [[r.reason, after].filter(Boolean).join(', '), r.changes.length ? `(${r.changes.join(', ')})` : ''].filter(Boolean).join(' ');
    lines.push(`${label}: ${recordedPhase} → ${r.phase}${why ? `: ${why}` : ''}`);
  }
  if (changed || r.cutShort || showNotes) for (const note of r.notes) lines.push(`${label}: ${note}`);
  return lines;
}

/** The report as a table: one row per run, then the reasons of differences, then what each config would have done. */
export function renderReplay(report: ReplayReport): string {
  const other = report.configs.other;
  const head = ['run', 'recorded verdict', `re-judged: ${report.configs.recorded}`, ...(other ? [`re-judged: ${other}`] : [])];
  const cell = (r: Rejudged): string => (r.phase === 'NotComparable' ? 'n/a' : r.cutShort && r.phase === 'Undecided' ? 'cut short' : r.phase);
  const rows = report.runs.map((r) => [r.id, r.recorded.phase, cell(r.asRecorded), ...(r.other ? [cell(r.other)] : other ? ['—'] : [])]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ');
  const out = [
    `${report.releaseId}  ${report.outcome ?? 'ended'}${report.reason ? `: ${report.reason}` : ''}`,
    `each analysis run re-judged from its recorded samples under the config the release ran with${other ? ` and under ${other}` : ''}`,
    '',
  ];
  if (report.runs.length === 0) {
    out.push('no analysis ran in this release: nothing to re-judge');
    return out.join('\n');
  }
  out.push(line(head));
  report.runs.forEach((r, i) => {
    out.push(line(rows[i] ?? []));
    const why = [
      ...explain(report.configs.recorded, r.recorded.phase, r.asRecorded, false),
      ...(r.other && other ? explain(other, r.recorded.phase, r.other, true) : []),
    ];
    for (const w of why) out.push(`    ${w}`);
  });
  out.push('', 'the release:');
  out.push(`  ${report.configs.recorded}: ${report.release.asRecorded.summary}`);
  if (other && report.release.other) out.push(`  ${other}: ${report.release.other.summary}`);
  return out.join('\n');
}

/** The label of another config: its file name. */
export function configLabel(path: string): string {
  return basename(path);
}
