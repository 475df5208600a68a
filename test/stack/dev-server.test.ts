// Given the Temporal dev server built from the Go module proxy, with tidegate's search attributes,
// a workflow runs on it, its history is fetched through the client, and that history replays —
// while a deliberately changed workflow fails the replay with a determinism error; a worker will not
// start on a namespace that lacks those search attributes.
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { google, temporal } from '@temporalio/proto';
import { DeterminismViolationError } from '@temporalio/workflow';
import { NativeConnection, Worker } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { registerSearchAttributes, type DevServer } from '../../devkit/stack/temporal.js';
import { createWorker, missingSearchAttributes, registerCommand } from '../../src/workers/main.js';
import { eventually } from '../../devkit/testing/e2e.js';
import { startTestDevServer } from '../../devkit/testing/servers.js';
import { approvalTimer, approveSignal } from './workflows/approval-timer.js';

const workflowsPath = fileURLToPath(new URL('./workflows/approval-timer.ts', import.meta.url));
const changedWorkflowsPath = fileURLToPath(new URL('./workflows/approval-timer-changed.ts', import.meta.url));
const EventType = temporal.api.enums.v1.EventType;
const TidegateService = defineSearchAttributeKey('TidegateService', 'KEYWORD');

let server: DevServer & { dir: string };
let connection: Connection;
let client: Client;
let historyFile: string;

beforeAll(async () => {
  server = await startTestDevServer({ headless: false });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace });
});

afterAll(async () => {
  await connection?.close();
  await server?.stop();
});

test('the dev server serves its Web UI and has the tidegate search attributes registered', async () => {
  const ui = await fetch(server.uiUrl ?? 'missing');
  expect(ui.status).toBe(200);
  expect(await ui.text()).toMatch(/<html/i);
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: server.namespace });
  for (const name of Object.keys(SEARCH_ATTRIBUTES)) {
    expect(Object.keys(customAttributes ?? {})).toContain(name);
  }
});

test('a workflow with a 7-day timer and a signal runs, is searchable, and its history is fetched', async () => {
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    namespace: server.namespace,
    taskQueue: 'stack-dev',
    workflowsPath,
  });
  await worker.runUntil(async () => {
    const handle = await client.workflow.start(approvalTimer, {
      args: [7],
      taskQueue: 'stack-dev',
      workflowId: 'dev-approval-timer',
      typedSearchAttributes: [{ key: TidegateService, value: 'checkout' }],
    });
    // A signal that arrives before the first workflow task is delivered with it, and the workflow
    // then never waits: signal once the 7-day timer is in the history, as an approver would.
    await eventually(
      'the 7-day timer to start',
      async () => (await handle.fetchHistory()).events ?? [],
      (events) => events.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED),
      30_000,
    );
    await handle.signal(approveSignal, { by: 'alice' });
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'approved', by: 'alice' });

    const history = await handle.fetchHistory();
    const types = (history.events ?? []).map((e) => e.eventType);
    expect(types).toContain(EventType.EVENT_TYPE_TIMER_STARTED);
    expect(types).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    expect(types.at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    const timer = history.events?.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED);
    expect(Number(timer?.timerStartedEventAttributes?.startToFireTimeout?.seconds)).toBe(7 * 24 * 3600);

    // Recorded as JSON, the format of test/fixtures/histories/ and of `temporal workflow show -o json`.
    historyFile = join(server.dir, 'approval-timer.history.json');
    writeFileSync(historyFile, historyToJSON(history));
  });

  // Visibility is eventually consistent on the dev server: poll briefly for the search.
  let found = 0;
  for (let i = 0; i < 50 && found === 0; i++) {
    found = (await client.workflow.count('TidegateService = "checkout"')).count;
    if (found === 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(found).toBe(1);
});

test('the recorded history replays with the same workflow code', async () => {
  const history = historyFromJSON(JSON.parse(readFileSync(historyFile, 'utf8')));
  await expect(Worker.runReplayHistory({ workflowsPath }, history, 'dev-approval-timer')).resolves.toBeUndefined();
});

test('a deliberately changed workflow fails the replay with a determinism error', async () => {
  const history = historyFromJSON(JSON.parse(readFileSync(historyFile, 'utf8')));
  await expect(
    Worker.runReplayHistory({ workflowsPath: changedWorkflowsPath }, history, 'dev-approval-timer'),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});

test('a worker refuses to start on a namespace that lacks the search attributes a release sets, printing the command that registers them', async () => {
  const namespace = 'bare';
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: google.protobuf.Duration.fromObject({ seconds: 86_400 }) });
  await eventually('the namespace to exist', () => connection.workflowService.describeNamespace({ namespace }).then(() => true, () => false), (ok) => ok, 30_000);
  const native = await NativeConnection.connect({ address: server.address });
  try {
    expect(await missingSearchAttributes(native, namespace)).toEqual(Object.keys(SEARCH_ATTRIBUTES));
    await expect(createWorker({ temporal: { address: server.address, namespace }, taskQueue: 'bare', adapters: {}, options: {} })).rejects.toThrow(
      `the namespace bare has not registered the search attributes ${Object.keys(SEARCH_ATTRIBUTES).join(', ')}, which releases set: register them first with\n  ${registerCommand(Object.keys(SEARCH_ATTRIBUTES), 'bare')}`,
    );
    expect(registerCommand(['TidegateStage', 'TidegateAwaiting'], 'bare')).toBe('temporal operator search-attribute create --namespace bare --name TidegateStage --type Keyword --name TidegateAwaiting --type KeywordList');
    await registerSearchAttributes(connection, namespace);
    await eventually('the search attributes to be registered', () => missingSearchAttributes(native, namespace), (missing) => missing?.length === 0, 30_000);
  } finally {
    await native.close();
  }
}, 120_000);
