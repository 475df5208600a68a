// The GitHub activities with @octokit/rest: the build gate (required check runs on the
// release's commit), a GitHub Deployment per environment with its statuses, and a commit status —
// each linking the release in the Temporal UI. The token lives in this worker's environment only;
// it never enters a workflow input, result, history or log. Errors go through ../failures.ts:
// rate limits retry after GitHub's reset time; 401, 403, 404 and 422 cannot succeed on retry.
import { ApplicationFailure } from '@temporalio/common';
import { activityContext } from '../context.js';
import { apiFailure, type PermanentStatuses } from '../failures.js';
import { pollUntil } from '../poll.js';
import { Octokit } from '@octokit/rest';
import type { BuildCheckResult, GitHubActivities } from '../types.js';
import { failure } from '../../core/failures.js';

export interface GitHubOptions {
  token: string;
  /** API base URL: https://api.github.com, GitHub Enterprise's /api/v3, or the local fake. */
  baseUrl?: string;
  /** Link to a release (the Temporal UI's page of its workflow); omitted when unknown. */
  releaseUrl?: (releaseId: string) => string | undefined;
  /** How often the build gate re-reads check runs (default 10 s). */
  pollMs?: number;
}

/** Check conclusions that let a release through. */
const PASSING = new Set(['success', 'neutral', 'skipped']);
const TASK = 'deploy';

interface RequestErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: { message?: string } };
}

export const GITHUB_PERMANENT: PermanentStatuses = {
  401: ['GitHubUnauthorized', "GitHub refused the worker's token (GITHUB_TOKEN)"],
  403: ['GitHubForbidden', 'the token lacks a permission (needs checks: read, deployments: write, statuses: write)'],
  404: ['GitHubNotFound', 'no such repository or commit, or the token cannot see it'],
  422: ['GitHubInvalid', 'GitHub rejected the request'],
};

/**
 * When a 403/429 is a rate limit (x-ratelimit-remaining 0, or retry-after), how long until GitHub's
 * window resets; undefined for any other answer.
 */
function rateLimitDelayMs(status: number | undefined, headers: Record<string, string | number | undefined>, now: number): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter)) return retryAfter * 1000;
  if (String(headers['x-ratelimit-remaining']) !== '0') return undefined;
  return Math.max(1_000, Number(headers['x-ratelimit-reset']) * 1000 - now + 500);
}

/** The failure to throw for a GitHub API error while doing `what`: rate limits retry once GitHub's window resets. */
export function githubFailure(err: unknown, what: string, now = Date.now()): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const e = err as RequestErrorLike;
  const retryDelayMs = rateLimitDelayMs(e.status, e.response?.headers ?? {}, now);
  return apiFailure({
    system: 'GitHub',
    what,
    status: e.status,
    message: e.response?.data?.message ?? e.message ?? String(err),
    permanent: GITHUB_PERMANENT,
    ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
  });
}

async function gh<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw githubFailure(err, what);
  }
}

function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner, name] = repo.split('/');
  if (!owner || !name) throw failure('InvalidSpec', `"${repo}" is not owner/name`);
  return { owner, repo: name };
}


export function createGitHubActivities(options: GitHubOptions): GitHubActivities {
  const octokit = new Octokit({ auth: options.token, ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}), userAgent: 'tidegate', log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
  const pollMs = options.pollMs ?? 10_000;
  const link = (releaseId: string): { log_url?: string; target_url?: string } => {
    const url = options.releaseUrl?.(releaseId);
    return url ? { log_url: url } : {};
  };

  return {
    async awaitChecks({ repo, sha, requiredChecks, timeoutMs }): Promise<BuildCheckResult> {
      const r = splitRepo(repo);
      const outcome = await pollUntil<BuildCheckResult, BuildCheckResult['failing']>({
        timeoutMs,
        pollMs,
        check: async () => {
          const runs = await gh(`list check runs of ${repo}@${sha}`, () => octokit.paginate(octokit.rest.checks.listForRef, { ...r, ref: sha, per_page: 100 }));
          // the newest run of each name counts (a re-run replaces the earlier one)
          const newest = new Map<string, (typeof runs)[number]>();
          for (const run of runs) {
            const seen = newest.get(run.name);
            if (!seen || Date.parse(run.started_at ?? '') > Date.parse(seen.started_at ?? '') || run.id > seen.id) newest.set(run.name, run);
          }
          const failing: BuildCheckResult['failing'] = [];
          const pending: BuildCheckResult['failing'] = [];
          for (const name of requiredChecks) {
            const run = newest.get(name);
            if (!run || run.status !== 'completed') pending.push({ name, conclusion: run?.status ?? 'missing' });
            else if (!PASSING.has(run.conclusion ?? '')) failing.push({ name, conclusion: run.conclusion ?? 'unknown' });
          }
          if (failing.length > 0) return { done: true, value: { conclusion: 'failure', failing } };
          if (pending.length === 0) return { done: true, value: { conclusion: 'success', failing: [] } };
          return { done: false, progress: pending };
        },
        heartbeat: (pending) => ({ pending: pending.map((p) => p.name), completed: requiredChecks.length - pending.length }),
      });
      return outcome.status === 'done' ? outcome.value : { conclusion: 'timed-out', failing: outcome.last };
    },

    async dispatchWorkflow({ repo, workflow, ref, inputs, timeoutMs }) {
      const ctx = activityContext();
      const r = splitRepo(repo);
      const deadline = Date.now() + timeoutMs;
      // a retry (worker crash, timeout) resumes the run the first attempt dispatched
      let runId = (ctx?.info.heartbeatDetails as { runId?: number } | undefined)?.runId;
      if (runId === undefined) {
        const dispatched = await gh(`dispatch workflow ${workflow} on ${repo}@${ref}`, () =>
          octokit.rest.actions.createWorkflowDispatch({ ...r, workflow_id: workflow, ref, ...(inputs ? { inputs } : {}), return_run_details: true }),
        );
        const details = dispatched.data as { workflow_run_id?: number } | undefined;
        if (typeof details?.workflow_run_id !== 'number') {
          throw failure('GitHubInvalid', `dispatch workflow ${workflow} on ${repo}: GitHub did not return the run (it needs return_run_details support)`);
        }
        runId = details.workflow_run_id;
        ctx?.heartbeat({ runId });
      }
      const dispatchedRun = runId;
      const outcome = await pollUntil({
        timeoutMs: deadline - Date.now(),
        pollMs,
        check: async () => {
          const run = (await gh(`read workflow run ${dispatchedRun} of ${repo}`, () => octokit.rest.actions.getWorkflowRun({ ...r, run_id: dispatchedRun }))).data;
          const name = `workflow ${workflow} run #${run.run_number}`;
          if (run.status !== 'completed') return { done: false, progress: { name, status: run.status, runUrl: run.html_url } };
          const result: BuildCheckResult & { runUrl: string } = PASSING.has(run.conclusion ?? '')
            ? { conclusion: 'success', failing: [], runUrl: run.html_url }
            : { conclusion: 'failure', failing: [{ name, conclusion: run.conclusion ?? 'unknown' }], runUrl: run.html_url };
          return { done: true, value: result };
        },
        heartbeat: ({ status }) => ({ runId: dispatchedRun, status }),
      });
      if (outcome.status === 'done') return outcome.value;
      const { name, status, runUrl } = outcome.last;
      return { conclusion: 'timed-out', failing: [{ name, conclusion: status ?? 'pending' }], runUrl };
    },

    async createDeployment({ repo, sha, environment, releaseId, description }) {
      const r = splitRepo(repo);
      const existing = await gh(`list ${environment} deployments of ${repo}@${sha}`, () =>
        octokit.rest.repos.listDeployments({ ...r, sha, environment, task: TASK, per_page: 100 }),
      );
      const mine = existing.data.find((d) => typeof d.payload === 'object' && d.payload !== null && (d.payload as { releaseId?: unknown }).releaseId === releaseId);
      if (mine) return { deploymentId: mine.id };
      const created = await gh(`create the ${environment} deployment of ${repo}@${sha}`, () =>
        octokit.rest.repos.createDeployment({
          ...r,
          ref: sha,
          environment,
          task: TASK,
          description: description.slice(0, 140),
          payload: { releaseId },
          auto_merge: false,
          // the release's own build gate decides; GitHub's commit-status gate would refuse a pending commit
          required_contexts: [],
          production_environment: environment === 'production' || environment.startsWith('production'),
        }),
      );
      if (created.status !== 201 || !('id' in created.data)) {
        throw failure('GitHubDeploymentPending', `create the ${environment} deployment of ${repo}@${sha}: GitHub answered ${created.status} without a deployment`);
      }
      return { deploymentId: created.data.id };
    },

    async setDeploymentStatus({ repo, deploymentId, state, description, releaseId }) {
      const r = splitRepo(repo);
      const latest = await gh(`read the statuses of deployment ${deploymentId}`, () => octokit.rest.repos.listDeploymentStatuses({ ...r, deployment_id: deploymentId, per_page: 1 }));
      const current = latest.data[0];
      if (current && current.state === state && current.description === description.slice(0, 140)) return;
      await gh(`set deployment ${deploymentId} ${state}`, () =>
        octokit.rest.repos.createDeploymentStatus({ ...r, deployment_id: deploymentId, state, description: description.slice(0, 140), auto_inactive: false, ...link(releaseId) }),
      );
    },

    async listTags({ repo, limit = 300 }) {
      const r = splitRepo(repo);
      const found: { name: string; sha: string }[] = [];
      for (let page = 1; found.length < limit; page++) {
        const res = await gh(`list the tags of ${repo}`, () => octokit.rest.repos.listTags({ ...r, per_page: 100, page }));
        found.push(...res.data.map((t) => ({ name: t.name, sha: t.commit.sha })));
        if (res.data.length < 100) break;
      }
      return found.slice(0, limit);
    },

    async setCommitStatus({ repo, sha, context, state, description, releaseId }) {
      const r = splitRepo(repo);
      const latest = await gh(`read the statuses of ${repo}@${sha}`, () => octokit.rest.repos.listCommitStatusesForRef({ ...r, ref: sha, per_page: 100 }));
      const current = latest.data.find((s) => s.context === context);
      if (current && current.state === state && current.description === description.slice(0, 140)) return;
      const url = options.releaseUrl?.(releaseId);
      await gh(`set the commit status ${context} on ${repo}@${sha}`, () =>
        octokit.rest.repos.createCommitStatus({ ...r, sha, state, context, description: description.slice(0, 140), ...(url ? { target_url: url } : {}) }),
      );
    },
  };
}
