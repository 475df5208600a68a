// `tidegate schedule create|list|pause|resume|delete`: release trains on Temporal Schedules. A
// schedule fires the releaseTrain workflow (src/workflows/train.ts) on its cron, with overlap policy
// skip (a train still running holds the next firing back), and each firing releases the version it
// resolves then as an ordinary release with its own id. Schedules are named `tidegate-train/<id>`.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowNotFoundError, type Client, type ScheduleSummary } from '@temporalio/client';
import type { ReleaseSpec } from '../core/release-spec.js';
import type { VersionSource } from '../core/versions.js';
import type { releaseTrain, TrainInput, TrainResult } from '../workflows/train.js';
import { InvalidInputError, RefusedError } from './errors.js';

export const SCHEDULE_PREFIX = 'tidegate-train/';

export interface TrainSchedule {
  id: string;
  cron: string;
  timeZone?: string;
  paused: boolean;
  note?: string;
  createdBy?: string;
  release?: string;
  version?: string;
  nextRuns: string[];
  /** The trains of the latest firings, newest first. */
  recent: { at: string; train: string; runId: string }[];
  /** What the newest firing did, when there was one: still running, what it shipped and how that ended, or why it started nothing. */
  last?: string;
}

/**
 * What a train did, in one line:
 *   { started: true, releaseId: 'checkout@1.10.0', outcome: 'released' } → 'shipped checkout@1.10.0: released'
 *   { started: false, reason: 'checkout@1.0.0 has a release already: nothing new to ship' } → 'started nothing: checkout@1.0.0 has …'
 */
export function describeTrainResult(r: TrainResult): string {
  return r.started ? `shipped ${r.releaseId}: ${r.outcome}${r.reason && r.outcome !== 'released' ? ` (${r.reason})` : ''}` : `started nothing: ${r.reason}`;
}

/** The newest firing's train, read from the server: running since when, or its result in words. */
async function lastFiring(client: Client, recent: TrainSchedule['recent']): Promise<string | undefined> {
  const newest = recent[0];
  if (!newest) return undefined;
  const handle = client.workflow.getHandle<typeof releaseTrain>(newest.train, newest.runId);
  try {
    const d = await handle.describe();
    if (d.status.name === 'RUNNING') return `running since ${newest.at}`;
    if (d.status.name === 'COMPLETED') return describeTrainResult(await handle.result());
    return `the train ${d.status.name.toLowerCase()} (temporal workflow show -w ${newest.train} -r ${newest.runId})`;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'the train is no longer in the history (retention)';
    throw err;
  }
}

function describeVersion(v: VersionSource): string {
  return v.from === 'tags' ? `newest tag${v.preReleases ? ' (pre-releases too)' : ''}` : `next of ${v.versions.join(', ')}`;
}

export async function createSchedule(
  client: Client,
  taskQueue: string,
  options: { id: string; spec: ReleaseSpec; cron: string; timeZone?: string; version: VersionSource; by: string; paused?: boolean },
): Promise<TrainSchedule> {
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(options.id)) throw new InvalidInputError(`schedule id "${options.id}" must be lowercase letters, digits, '.', '_' or '-' (at most 63)`);
  if (options.version.from === 'tags' && !options.spec.source?.repo) throw new InvalidInputError('--from-tags needs source.repo in the spec: the tags are read from it');
  if (options.version.from === 'list' && options.version.versions.length === 0) throw new InvalidInputError('--versions needs at least one version');
  const input: TrainInput = { schedule: options.id, spec: options.spec, version: options.version, createdBy: options.by };
  try {
    await client.schedule.create<typeof releaseTrain>({
      scheduleId: `${SCHEDULE_PREFIX}${options.id}`,
      spec: { cronExpressions: [options.cron], ...(options.timeZone ? { timezone: options.timeZone } : {}) },
      action: { type: 'startWorkflow', workflowType: 'releaseTrain', workflowId: `${SCHEDULE_PREFIX}${options.id}`, taskQueue, args: [input] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      state: { paused: options.paused ?? false, note: `created by ${options.by}` },
      memo: { by: options.by, release: options.spec.name, version: describeVersion(options.version), cron: options.cron },
    });
  } catch (err) {
    if (err instanceof Error && /already (exists|registered)|AlreadyExists/i.test(err.message)) throw new RefusedError(`schedule ${options.id} exists: delete it first, or pick another --id`);
    if (err instanceof Error && /invalid.*(cron|spec)|cron/i.test(err.message)) throw new InvalidInputError(`--cron "${options.cron}": ${err.message}`);
    throw err;
  }
  return describeSchedule(client, options.id);
}

function fromSummary(s: Pick<ScheduleSummary, 'scheduleId' | 'spec' | 'memo' | 'state' | 'info'>): TrainSchedule {
  const memo = s.memo ?? {};
  const str = (k: string): string | undefined => (typeof memo[k] === 'string' ? (memo[k] as string) : undefined);
  const createdBy = str('by');
  const release = str('release');
  const version = str('version');
  return {
    id: s.scheduleId.slice(SCHEDULE_PREFIX.length),
    // the server describes a cron as calendars: the expression as given is kept in the memo
    cron: str('cron') ?? '?',
    ...(s.spec?.timezone ? { timeZone: s.spec.timezone } : {}),
    paused: s.state.paused,
    ...(s.state.note ? { note: s.state.note } : {}),
    ...(createdBy ? { createdBy } : {}),
    ...(release ? { release } : {}),
    ...(version ? { version } : {}),
    nextRuns: s.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
    recent: [...s.info.recentActions].reverse().map((a) => ({ at: a.takenAt.toISOString(), train: a.action.workflow.workflowId, runId: a.action.workflow.firstExecutionRunId })),
  };
}

async function handleOf(client: Client, id: string) {
  const handle = client.schedule.getHandle(`${SCHEDULE_PREFIX}${id}`);
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new InvalidInputError(`no schedule ${id} (tidegate schedule list shows them)`);
    throw err;
  }
}

export async function describeSchedule(client: Client, id: string): Promise<TrainSchedule> {
  const { description } = await handleOf(client, id);
  const s = fromSummary(description);
  const last = await lastFiring(client, s.recent);
  return { ...s, ...(last ? { last } : {}) };
}

export async function listSchedules(client: Client): Promise<TrainSchedule[]> {
  const found: TrainSchedule[] = [];
  for await (const summary of client.schedule.list()) {
    if (!summary.scheduleId.startsWith(SCHEDULE_PREFIX)) continue;
    const s = fromSummary(summary);
    const last = await lastFiring(client, s.recent);
    found.push({ ...s, ...(last ? { last } : {}) });
  }
  return found.sort((a, b) => a.id.localeCompare(b.id));
}

export async function pauseSchedule(client: Client, id: string, by: string, reason: string): Promise<TrainSchedule> {
  const { handle } = await handleOf(client, id);
  await handle.pause(`paused by ${by}: ${reason}`);
  return describeSchedule(client, id);
}

export async function resumeSchedule(client: Client, id: string, by: string): Promise<TrainSchedule> {
  const { handle } = await handleOf(client, id);
  await handle.unpause(`resumed by ${by}`);
  return describeSchedule(client, id);
}

/** Deletes the schedule; a train or release it started goes on (they are ordinary workflows). */
export async function deleteSchedule(client: Client, id: string): Promise<void> {
  const { handle } = await handleOf(client, id);
  await handle.delete();
}

/** One line per schedule, as `tidegate schedule list` prints it. */
export function renderSchedule(s: TrainSchedule): string {
  const state = s.paused ? `PAUSED${s.note ? ` (${s.note})` : ''}` : `next ${s.nextRuns[0] ?? '—'}`;
  return `${s.id}  ${s.release ?? '?'}  "${s.cron}"${s.timeZone ? ` ${s.timeZone}` : ''}  ${s.version ?? ''}  ${state}${s.recent[0] ? `  last fired ${s.recent[0].at}${s.last ? `: ${s.last}` : ''}` : ''}`;
}
