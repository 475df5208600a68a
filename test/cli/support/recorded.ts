// Recorded release histories (test/fixtures/histories/) as tests read them, and an in-memory stand-in
// for the Temporal client that serves them, so the CLI's own code paths (status, --json, --wait,
// --watch, list, analysis replay) run against recorded data without a server.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, TypedSearchAttributes } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { temporal } from '@temporalio/proto';
import { endingFailure, type ReleaseResult, type ReleaseStatus } from '../../../src/core/status.js';
import { resultPayloads } from '../../../src/client/analysis-replay.js';
import type { ReleaseInput } from '../../../src/workflows/definitions.js';
import { AesGcmCodec, parsePayloadKeys } from '../../../src/temporal/codec.js';
import { OUTCOME_KEY, SERVICE_KEY, STAGE_KEY, VERSION_KEY } from '../../../src/workflows/search-attributes.js';

export const historiesDir = fileURLToPath(new URL('../../fixtures/histories/', import.meta.url));
/** The throw-away key the encrypted fixtures (encrypted-*.json) were recorded with. */
export const fixtureKeysFile = `${historiesDir}payload-keys`;
export const fixtureCodec = new AesGcmCodec(parsePayloadKeys(readFileSync(fixtureKeysFile, 'utf8'), fixtureKeysFile));

/** Every recorded history, by file name (the directory is read each time: new fixtures are covered). */
export function historyFiles(): string[] {
  return readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort();
}

export interface Recorded {
  file: string;
  history: temporal.api.history.v1.IHistory;
  input: ReleaseInput;
  result: ReleaseResult;
}

/** A history with its start input and its result, decrypted (the encrypted fixtures) and decoded with the SDK's default payload converter. */
export function loadRecorded(file: string): Recorded {
  const history = historyFromJSON(JSON.parse(readFileSync(`${historiesDir}${file}`, 'utf8')));
  const events = history.events ?? [];
  const started = events.find((e) => e.workflowExecutionStartedEventAttributes)?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const completed = resultPayloads(events)?.payloads?.[0];
  if (!started || !completed) throw new Error(`${file}: no start input or no completion result`);
  return {
    file,
    history,
    input: defaultPayloadConverter.fromPayload<ReleaseInput>(fixtureCodec.decryptSync(started)),
    result: defaultPayloadConverter.fromPayload<ReleaseResult>(fixtureCodec.decryptSync(completed)),
  };
}

/** A release the fake client knows: ended (result, history), or running through a list of statuses. */
export interface FakeRelease {
  result?: ReleaseResult;
  history?: temporal.api.history.v1.IHistory;
  /** Statuses the status query returns in turn while running; the last one is repeated. */
  live?: ReleaseStatus[];
  type?: string;
}

/**
 * Just the client surface Releases and the replay use: getHandle(id).describe / query / result /
 * fetchHistory, and workflow.list. A release with `live` statuses runs until its last status has an
 * outcome, then ends with `result`.
 */
export function fakeClient(releases: Record<string, FakeRelease>): Client {
  const polls = new Map<string, number>();
  const live = (id: string): ReleaseStatus | undefined => {
    const r = releases[id];
    if (!r?.live?.length) return undefined;
    const i = Math.min(polls.get(id) ?? 0, r.live.length - 1);
    return r.live[i];
  };
  const running = (id: string): boolean => {
    const r = releases[id];
    if (!r) return false;
    if (!r.live?.length) return !r.result;
    return !live(id)?.outcome;
  };
  // as the server tells it: a release that did not ship is a failed workflow (src/core/status.ts endingFailure)
  const closed = (id: string): 'RUNNING' | 'COMPLETED' | 'FAILED' => {
    if (running(id)) return 'RUNNING';
    const outcome = releases[id]?.result?.outcome;
    return outcome && outcome !== 'released' ? 'FAILED' : 'COMPLETED';
  };
  const known = (id: string): FakeRelease => {
    const r = releases[id];
    if (!r) throw new WorkflowNotFoundError(`workflow not found: ${id}`, id, undefined);
    return r;
  };
  const handle = (id: string) => ({
    describe: async () => {
      const r = known(id);
      return { type: r.type ?? 'release', status: { name: closed(id) }, typedSearchAttributes: new TypedSearchAttributes() };
    },
    query: async () => {
      known(id);
      const status = live(id);
      polls.set(id, (polls.get(id) ?? 0) + 1);
      if (!status) throw new Error(`${id} has no live status`);
      return status;
    },
    result: async () => {
      const r = known(id);
      if (!r.result) throw new Error(`${id} has no result`);
      const failure = endingFailure(r.result);
      if (failure) throw new WorkflowFailedError('Workflow execution failed', ApplicationFailure.create({ ...failure, nonRetryable: true, details: [r.result] }), 'NON_RETRYABLE_FAILURE');
      return r.result;
    },
    fetchHistory: async () => {
      const r = known(id);
      if (!r.history) throw new Error(`${id} has no history`);
      return r.history;
    },
  });
  async function* list() {
    for (const [id, r] of Object.entries(releases)) {
      const s = r.result?.status ?? r.live?.at(-1);
      yield {
        workflowId: id,
        status: { name: closed(id) },
        startTime: new Date(s?.startedAt ?? 0),
        ...(s?.endedAt ? { closeTime: new Date(s.endedAt) } : {}),
        typedSearchAttributes: new TypedSearchAttributes([
          { key: SERVICE_KEY, value: s?.name ?? '' },
          { key: VERSION_KEY, value: s?.version ?? '' },
          { key: STAGE_KEY, value: s?.stage ?? '' },
          ...(r.result?.outcome ? [{ key: OUTCOME_KEY, value: r.result.outcome }] : []),
        ]),
      };
    }
  }
  return { workflow: { getHandle: handle, list } } as unknown as Client;
}
