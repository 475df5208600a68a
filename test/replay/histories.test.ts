// Recorded release histories (test/fixtures/histories/, re-recorded by `npm run record-histories`)
// must replay against the current workflow code: a determinism error here means a change would break
// releases that are running right now. Use patching (patched()/deprecatePatch) or worker versioning.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { dataConverterFor } from '../../src/temporal/codec.js';
import { fixtureCodec, loadRecorded } from '../cli/support/recorded.js';
import { tracingSinks, WORKFLOW_INTERCEPTOR_MODULES } from '../../src/workers/tracing.js';

const dir = new URL('../fixtures/histories/', import.meta.url);
const workflowsPath = fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('at least four recorded histories are present', () => {
  expect(files.length).toBeGreaterThanOrEqual(4);
});

test('every recorded history replays without a determinism error', async () => {
  // replayed under the workflow id each release ran with (the workflow reads it: a signed decision names it)
  const histories = files.map((f) => ({ workflowId: loadRecorded(f).result.releaseId, history: historyFromJSON(JSON.parse(readFileSync(new URL(f, dir), 'utf8'))) }));
  const fileOf = new Map(histories.map((h, i) => [h.workflowId, files[i]]));
  const failures: string[] = [];
  let replayed = 0;
  // as a worker runs them: with the workflow interceptors every bundle has (off for releases before
  // the otel-tracing patch), and the encrypted fixtures through the data converter of a worker with their key
  const options = {
    workflowsPath,
    replayName: 'tidegate-replay',
    dataConverter: dataConverterFor(fixtureCodec.keys),
    interceptors: { workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES] },
    sinks: tracingSinks(undefined),
  };
  for await (const result of Worker.runReplayHistories(options, histories)) {
    replayed++;
    if (result.error) failures.push(`${fileOf.get(result.workflowId) ?? result.workflowId}: ${result.error.message}`);
  }
  expect(fileOf.size).toBe(files.length);
  expect(failures).toEqual([]);
  expect(replayed).toBe(files.length);
  // about 45 histories: 46 s on a loaded machine, past 120 s once under a full run and more beside it
}, 300_000);

// Release trains (what a schedule fires) have their own histories under trains/: each replays under the id it ran with.
test('every recorded release-train history replays without a determinism error', async () => {
  const trainsDir = new URL('trains/', dir);
  const trains = readdirSync(trainsDir).filter((f) => f.endsWith('.json')).sort();
  expect(trains.length).toBeGreaterThanOrEqual(3);
  const histories = trains.map((f) => ({ workflowId: `tidegate-train/${f.replace(/\.json$/, '')}-workflow`, history: historyFromJSON(JSON.parse(readFileSync(new URL(f, trainsDir), 'utf8'))) }));
  const failures: string[] = [];
  let replayed = 0;
  const options = { workflowsPath, replayName: 'tidegate-replay-trains', interceptors: { workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES] }, sinks: tracingSinks(undefined) };
  for await (const result of Worker.runReplayHistories(options, histories)) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(trains.length);
}, 120_000);

// Releases across clusters have their own histories under waves/: the parent (waveRelease) and the
// release of each cluster, each replayed under the id it ran with (a cluster's is `<parent>/<cluster>`).
test('every recorded release across clusters replays without a determinism error, parent and clusters', async () => {
  const files = readdirSync(new URL('waves/', dir)).filter((f) => f.endsWith('.json')).sort();
  expect(files.length).toBeGreaterThanOrEqual(8);
  const histories = files.map((f) => ({ workflowId: loadRecorded(`waves/${f}`).result.releaseId, history: historyFromJSON(JSON.parse(readFileSync(new URL(`waves/${f}`, dir), 'utf8'))) }));
  expect(histories.filter((h) => !h.workflowId.includes('/'))).toHaveLength(2);
  const failures: string[] = [];
  let replayed = 0;
  const options = { workflowsPath, replayName: 'tidegate-replay-waves', dataConverter: dataConverterFor(fixtureCodec.keys), interceptors: { workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES] }, sinks: tracingSinks(undefined) };
  for await (const result of Worker.runReplayHistories(options, histories)) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(files.length);
}, 120_000);
