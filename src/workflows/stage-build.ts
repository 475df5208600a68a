// The build stage, release-wide: waits for the source commit's required checks and/or a dispatched
// GitHub Actions run; anything but success stops the release before it changes anything.
import { patched } from '@temporalio/workflow';
import type { BuildCheckResult } from '../activities/types.js';
import { github, RETRY } from './release-activities.js';
import { ReleaseStop, type ReleaseContext } from './release-context.js';
import { PATCHES } from './patches.js';

export async function build(ctx: ReleaseContext): Promise<void> {
  const { spec, status } = ctx;
  const build = spec.build;
  const source = spec.source;
  if (!ctx.plan.build || !build || !source) {
    ctx.record('build-skipped', 'build skipped (not in the spec)', { stage: 'build' });
    return;
  }
  ctx.setStage('build');
  for (const st of status.services) st.stages.build = 'running';
  // (releases started before dispatch was supported called awaitChecks whatever the spec said)
  const dispatch = build.dispatch && patched(PATCHES.buildDispatch.id) ? build.dispatch : undefined;
  const waits: { what: string; run: () => Promise<BuildCheckResult> }[] = [];
  if (build.requiredChecks.length > 0 || !dispatch) {
    waits.push({
      what: `${build.requiredChecks.join(', ')} on ${source.repo}@${source.sha}`,
      run: () =>
        github.awaitChecks.executeWithOptions(
          { startToCloseTimeout: build.timeout + 60_000, heartbeatTimeout: '1m', retry: RETRY, summary: `checks on ${source.sha}` },
          [{ repo: source.repo, sha: source.sha, requiredChecks: build.requiredChecks, timeoutMs: build.timeout }],
        ),
    });
  }
  if (dispatch) {
    waits.push({
      what: `a run of workflow ${dispatch.workflow} on ${source.repo}@${dispatch.ref}`,
      run: () =>
        github.dispatchWorkflow.executeWithOptions(
          { startToCloseTimeout: build.timeout + 60_000, heartbeatTimeout: '1m', retry: RETRY, summary: `workflow ${dispatch.workflow} on ${dispatch.ref}` },
          [{ repo: source.repo, workflow: dispatch.workflow, ref: dispatch.ref, ...(dispatch.inputs ? { inputs: dispatch.inputs } : {}), timeoutMs: build.timeout }],
        ),
    });
  }
  for (const wait of waits) {
    ctx.record('build-waiting', `build gate: waiting for ${wait.what}`, { stage: 'build' });
    const result = await wait.run().catch((err: unknown) => {
      for (const st of status.services) st.stages.build = 'failed';
      throw err;
    });
    if (result.conclusion !== 'success') {
      for (const st of status.services) st.stages.build = 'failed';
      const failing = result.failing.map((f) => `${f.name} (${f.conclusion})`).join(', ');
      throw new ReleaseStop('failed', result.conclusion === 'timed-out' ? 'timeout' : 'error', `build gate: ${result.conclusion === 'timed-out' ? 'timed out waiting for' : 'failed'} ${failing}`);
    }
  }
  for (const st of status.services) st.stages.build = 'done';
  ctx.record('build-passed', 'build gate passed', { stage: 'build' });
}
