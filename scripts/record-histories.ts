// Re-records the workflow histories that CI replays (test/fixtures/histories/) by running release
// scenarios on the time-skipping test server with the in-memory cluster. Run after an intentional,
// replay-safe change to the workflow's history shape:   npx tsx scripts/record-histories.ts
// Never re-record to silence a replay failure: that failure means running releases would break.
import '../test/support/quiet-runtime.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { specFor, startHarness, type Harness } from '../test/workflows/support/harness.js';

const out = new URL('../test/fixtures/histories/', import.meta.url);

const scenarios: Record<string, (h: Harness) => Promise<string>> = {
  async 'released'(h) {
    const { releaseId } = await h.releases.start(specFor('checkout', '1.4.2'), { initiator: 'dave' });
    await h.until(releaseId, (s) => s.pausedFor === 'canary step 5: waiting for promote', 10_000);
    await h.releases.promote(releaseId, 'dave');
    await h.until(releaseId, (s) => s.stage === 'approval');
    await h.releases.approve(releaseId, 'alice', 'looks good');
    await h.releases.approve(releaseId, 'bob');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'rolled-back-by-analysis'(h) {
    h.world.setMetric('checkout', 'green', 0.8);
    const { releaseId } = await h.releases.start(specFor('checkout', '1.4.3'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
  async 'rejected'(h) {
    const { releaseId } = await h.releases.start(specFor('checkout', '1.4.4', (doc) => {
      doc.production.canary = undefined;
    }), { initiator: 'dave' });
    await h.until(releaseId, (s) => s.stage === 'approval');
    await h.releases.approve(releaseId, 'alice');
    await h.releases.reject(releaseId, 'bob', 'error budget is spent');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'aborted-during-pause'(h) {
    const { releaseId } = await h.releases.start(specFor('checkout', '1.4.5'), { initiator: 'dave' });
    await h.until(releaseId, (s) => s.pausedFor === 'canary step 2: pause 120s');
    await h.releases.abort(releaseId, 'erin', 'incident');
    await h.finish(releaseId);
    return releaseId;
  },
  async 'compensation-retried'(h) {
    h.world.setMetric('checkout', 'green', 0.5);
    h.world.failures.set('restoreTraffic', 1);
    const { releaseId } = await h.releases.start(specFor('checkout', '1.4.6'), { initiator: 'dave' });
    await h.finish(releaseId);
    return releaseId;
  },
};

mkdirSync(out, { recursive: true });
for (const [name, scenario] of Object.entries(scenarios)) {
  const h = await startHarness();
  try {
    const releaseId = await scenario(h);
    const history = await h.env.client.workflow.getHandle(releaseId).fetchHistory();
    writeFileSync(new URL(`${name}.json`, out), `${historyToJSON(history)}\n`);
    console.log(`${name}: ${releaseId}, ${history.events?.length ?? 0} events`);
  } finally {
    await h.stop();
  }
}
