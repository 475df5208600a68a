// The GitHub activities against the GitHub fake, whose every request and response is validated
// against GitHub's official OpenAPI description: the build gate, idempotent Deployments and their
// statuses, commit statuses, rate limits retried after the reset, and permanent errors.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGitHubActivities, githubFailure } from '../../src/activities/github/index.js';
import type { GitHubActivities } from '../../src/activities/types.js';
import { GitHubDescription } from '../../devkit/github-fake/openapi.js';
import { startGitHubFake, type CheckRunInput, type GitHubFake } from '../../devkit/github-fake/server.js';
import { freePort } from '../../devkit/stack/ports.js';
import { throughPayloads } from '../../devkit/testing/payloads.js';

const TOKEN = 'ghs_integrationTestToken0123456789';
const REPO = 'acme/checkout';
const SHA = '3f2c9e1aa';
let description: GitHubDescription;
let fake: GitHubFake;
let gh: GitHubActivities;

async function admin(path: string, method: string, body: unknown): Promise<void> {
  const res = await fetch(`${fake.url}/_fake/${path}`, { method, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}
const setChecks = (sha: string, runs: CheckRunInput[]) => admin(`repos/${REPO}/commits/${sha}/check-runs`, 'PUT', runs);
const api = async <T>(path: string): Promise<T> => (await (await fetch(`${fake.url}${path}`, { headers: { authorization: `token ${TOKEN}` } })).json()) as T;

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

beforeAll(async () => {
  description = new GitHubDescription();
  fake = await startGitHubFake({ port: await freePort(), token: TOKEN, description });
  // every result is checked to cross Temporal's payload converter unchanged, as the workflow sees it
  gh = throughPayloads(createGitHubActivities({ token: TOKEN, baseUrl: fake.url, pollMs: 100, releaseUrl: (id) => `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(id)}` }));
});

afterAll(async () => {
  await fake?.stop();
});

afterEach(() => {
  // nothing this suite sends may violate the description
  expect(fake.calls.filter((c) => c.problems)).toEqual([]);
});

describe('the fake conforms to the official description', () => {
  test('it is built on @octokit/openapi', () => {
    expect(description.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('a request that does not conform is refused with 422 naming the field', async () => {
    const res = await fetch(`${fake.url}/repos/${REPO}/deployments`, { method: 'POST', headers: { authorization: `token ${TOKEN}` }, body: JSON.stringify({ ref: 42, environment: 'production' }) });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: { where: string; message: string }[] };
    expect(body.errors).toContainEqual({ where: 'body/ref', message: 'must be string {"type":"string"}' });
    fake.calls.splice(0); // recorded as invalid on purpose
  });

  test.each<[string, string, string, number, unknown, string]>([
    ['a deployment missing required fields', 'POST', '/repos/{owner}/{repo}/deployments', 201, { id: 1 }, "must have required property 'node_id'"],
    ['a deployment status with an unknown state', 'POST', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses', 201, { state: 'done' }, 'must be equal to one of the allowed values'],
    ['an undocumented status', 'POST', '/repos/{owner}/{repo}/statuses/{sha}', 204, undefined, '204 is not a documented response'],
  ])('a response the fake might build wrong is caught: %s', (_, method, path, status, body, message) => {
    const problems = description.validateResponse(method, path, status, body);
    expect(problems.map((p) => p.message).join('\n')).toContain(message);
  });
});

describe('the build gate', () => {
  test('passes when every required check run succeeded (neutral and skipped count as passing)', async () => {
    await setChecks('aaa1111', [{ name: 'build', status: 'completed', conclusion: 'success' }, { name: 'test', status: 'completed', conclusion: 'neutral' }, { name: 'lint', status: 'completed', conclusion: 'failure' }]);
    expect(await gh.awaitChecks({ repo: REPO, sha: 'aaa1111', requiredChecks: ['build', 'test'], timeoutMs: 5_000 })).toEqual({ conclusion: 'success', failing: [] });
  });

  test('fails naming the failing check', async () => {
    await setChecks('bbb2222', [{ name: 'build', status: 'completed', conclusion: 'success' }, { name: 'test', status: 'completed', conclusion: 'failure' }]);
    expect(await gh.awaitChecks({ repo: REPO, sha: 'bbb2222', requiredChecks: ['build', 'test'], timeoutMs: 5_000 })).toEqual({ conclusion: 'failure', failing: [{ name: 'test', conclusion: 'failure' }] });
  });

  test('waits, heartbeating, for checks still running; then times out naming them', async () => {
    await setChecks('ccc3333', [{ name: 'build', status: 'completed', conclusion: 'success' }, { name: 'test', status: 'in_progress' }]);
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = await env.run(gh.awaitChecks, { repo: REPO, sha: 'ccc3333', requiredChecks: ['build', 'test', 'e2e'], timeoutMs: 800 });
    expect(result).toEqual({ conclusion: 'timed-out', failing: [{ name: 'test', conclusion: 'in_progress' }, { name: 'e2e', conclusion: 'missing' }] });
    expect(beats[0]).toEqual({ pending: ['test', 'e2e'], completed: 1 });
  });

  test('a check completing while it waits lets the release through', async () => {
    await setChecks('ddd4444', [{ name: 'build', status: 'in_progress' }]);
    setTimeout(() => void setChecks('ddd4444', [{ name: 'build', status: 'completed', conclusion: 'success' }]), 300);
    expect(await new MockActivityEnvironment().run(gh.awaitChecks, { repo: REPO, sha: 'ddd4444', requiredChecks: ['build'], timeoutMs: 10_000 })).toMatchObject({ conclusion: 'success' });
  });
});

describe('dispatching a workflow and waiting for its run', () => {
  const outcome = (workflow: string, conclusion: string, afterSeconds: number) => admin(`repos/${REPO}/actions/workflows/${workflow}/outcome`, 'PUT', { conclusion, afterSeconds });

  test('a run that succeeds lets the release through, with the run linked', async () => {
    await outcome('smoke.yml', 'success', 0.3);
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = (await env.run(gh.dispatchWorkflow, { repo: REPO, workflow: 'smoke.yml', ref: 'main', inputs: { release: 'checkout@1.4.2' }, timeoutMs: 10_000 })) as Awaited<ReturnType<GitHubActivities['dispatchWorkflow']>>;
    expect(result).toMatchObject({ conclusion: 'success', failing: [] });
    expect(result.runUrl).toMatch(new RegExp(`/${REPO}/actions/runs/\\d+$`));
    expect(beats[0]).toEqual({ runId: expect.any(Number) });
    const dispatch = fake.calls.filter((c) => c.path === `/repos/${REPO}/actions/workflows/smoke.yml/dispatches`);
    expect(dispatch.map((c) => c.body)).toEqual([{ ref: 'main', inputs: { release: 'checkout@1.4.2' }, return_run_details: true }]);
  });

  test('a run that fails stops the release, naming the workflow run', async () => {
    await outcome('e2e.yml', 'failure', 0.2);
    const result = await new MockActivityEnvironment().run(gh.dispatchWorkflow, { repo: REPO, workflow: 'e2e.yml', ref: 'main', timeoutMs: 10_000 });
    expect(result).toMatchObject({ conclusion: 'failure', failing: [{ name: expect.stringMatching(/^workflow e2e.yml run #\d+$/), conclusion: 'failure' }] });
  });

  test('a retried attempt waits for the run the first attempt dispatched instead of dispatching again', async () => {
    await outcome('slow.yml', 'success', 1);
    const first = new MockActivityEnvironment();
    let runId: number | undefined;
    first.on('heartbeat', (d: { runId?: number }) => (runId ??= d.runId));
    const attempt = first.run(gh.dispatchWorkflow, { repo: REPO, workflow: 'slow.yml', ref: 'main', timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    first.cancel('TIMED_OUT'); // the attempt dies after it dispatched (a worker crash, a timeout)
    await attempt.catch(() => undefined);
    expect(runId).toEqual(expect.any(Number));
    const retry = new MockActivityEnvironment({ heartbeatDetails: { runId }, attempt: 2 });
    expect(await retry.run(gh.dispatchWorkflow, { repo: REPO, workflow: 'slow.yml', ref: 'main', timeoutMs: 10_000 })).toMatchObject({ conclusion: 'success' });
    expect(fake.calls.filter((c) => c.path === `/repos/${REPO}/actions/workflows/slow.yml/dispatches`)).toHaveLength(1);
  });
});

describe('deployments and statuses', () => {
  test('a deployment goes in_progress → failure → inactive, each status linking the release', async () => {
    const { deploymentId } = await gh.createDeployment({ repo: REPO, sha: SHA, environment: 'production', releaseId: 'checkout@1.4.2', description: 'checkout@1.4.2' });
    for (const state of ['in_progress', 'failure', 'inactive'] as const) await gh.setDeploymentStatus({ repo: REPO, deploymentId, state, description: state, releaseId: 'checkout@1.4.2' });
    const statuses = await api<{ state: string; log_url: string }[]>(`/repos/${REPO}/deployments/${deploymentId}/statuses`);
    expect(statuses.map((s) => s.state)).toEqual(['inactive', 'failure', 'in_progress']); // newest first, as GitHub lists them
    expect(statuses[0]?.log_url).toBe('http://127.0.0.1:8233/namespaces/default/workflows/checkout%401.4.2');
  });

  test('a retried create after a lost response finds the first deployment instead of creating a second', async () => {
    // given GitHub creates the deployment but the response never arrives
    await admin('lose-response', 'POST', { method: 'POST', path: `/repos/${REPO}/deployments$` });
    const input = { repo: REPO, sha: 'eee5555', environment: 'staging', releaseId: 'checkout@1.4.3', description: 'd' };
    const lost = await failureOf(gh.createDeployment(input));
    expect([lost.nonRetryable, lost.type]).toEqual([false, 'GitHubHttp502']);
    // when Temporal retries the activity
    const { deploymentId } = await gh.createDeployment(input);
    // then there is one deployment, the one the first attempt created
    const all = await api<{ id: number }[]>(`/repos/${REPO}/deployments?sha=eee5555&environment=staging`);
    expect(all.map((d) => d.id)).toEqual([deploymentId]);
    expect(fake.calls.filter((c) => c.method === 'POST' && c.path === `/repos/${REPO}/deployments` && (c.body as { ref?: string }).ref === 'eee5555').map((c) => c.status)).toEqual([502]);
  });

  test('a status already set is not set twice; another release gets its own deployment', async () => {
    const a = await gh.createDeployment({ repo: REPO, sha: 'fff6666', environment: 'production', releaseId: 'checkout@2.0.0', description: 'd' });
    const b = await gh.createDeployment({ repo: REPO, sha: 'fff6666', environment: 'production', releaseId: 'checkout@2.0.1', description: 'd' });
    expect(a.deploymentId).not.toBe(b.deploymentId);
    await gh.setDeploymentStatus({ repo: REPO, deploymentId: a.deploymentId, state: 'success', description: 'released', releaseId: 'checkout@2.0.0' });
    await gh.setDeploymentStatus({ repo: REPO, deploymentId: a.deploymentId, state: 'success', description: 'released', releaseId: 'checkout@2.0.0' });
    expect((await api<unknown[]>(`/repos/${REPO}/deployments/${a.deploymentId}/statuses`)).length).toBe(1);
  });

  test('a commit status on the sha, linking the release', async () => {
    await gh.setCommitStatus({ repo: REPO, sha: SHA, context: 'tidegate/checkout', state: 'pending', description: 'releasing', releaseId: 'checkout@1.4.2' });
    await gh.setCommitStatus({ repo: REPO, sha: SHA, context: 'tidegate/checkout', state: 'success', description: 'released', releaseId: 'checkout@1.4.2' });
    const statuses = await api<{ state: string; context: string; target_url: string }[]>(`/repos/${REPO}/commits/${SHA}/statuses`);
    expect(statuses.map((s) => [s.context, s.state])).toEqual([['tidegate/checkout', 'success'], ['tidegate/checkout', 'pending']]);
    expect(statuses[0]?.target_url).toContain('/workflows/checkout%401.4.2');
  });
});

describe('tags', () => {
  test('the tags of a repository across pages, newest first, each with its commit; none for a repository without tags', async () => {
    const tags = Array.from({ length: 130 }, (_, i) => ({ name: `v1.${129 - i}.0`, sha: `${String(129 - i).padStart(4, '0')}aaaa` }));
    await admin(`repos/${REPO}/tags`, 'PUT', tags);
    const listed = await gh.listTags({ repo: REPO });
    expect(listed).toHaveLength(130);
    expect(listed[0]).toEqual({ name: 'v1.129.0', sha: '0129aaaa' });
    expect(listed.at(-1)).toEqual({ name: 'v1.0.0', sha: '0000aaaa' });
    expect(await gh.listTags({ repo: REPO, limit: 5 })).toHaveLength(5);
    expect(await gh.listTags({ repo: 'acme/empty' })).toEqual([]);
  });
});

describe('errors', () => {
  test('a rate limit retries after the reset time', async () => {
    await admin('rate-limit', 'POST', { requests: 1, resetInSeconds: 3 });
    const limited = await failureOf(gh.setCommitStatus({ repo: REPO, sha: SHA, context: 'x', state: 'pending', description: 'd', releaseId: 'r@1' }));
    expect([limited.type, limited.nonRetryable]).toEqual(['GitHubRateLimited', false]);
    const delay = Number(limited.nextRetryDelay);
    expect(delay).toBeGreaterThan(1_500);
    expect(delay).toBeLessThanOrEqual(4_500);
    await gh.setCommitStatus({ repo: REPO, sha: SHA, context: 'x', state: 'pending', description: 'd', releaseId: 'r@1' }); // the next request goes through
  });

  test('a wrong token is non-retryable, and the message never carries a token', async () => {
    const wrong = createGitHubActivities({ token: 'ghs_wrongToken', baseUrl: fake.url });
    const failure = await failureOf(wrong.createDeployment({ repo: REPO, sha: SHA, environment: 'production', releaseId: 'r@1', description: 'd' }));
    expect([failure.type, failure.nonRetryable]).toEqual(['GitHubUnauthorized', true]);
    expect(failure.message).toMatch(/: Bad credentials \(HTTP 401: GitHub refused the worker's token \(GITHUB_TOKEN\)\)/);
    expect(failure.message).not.toContain('ghs_');
  });

  test('an unknown deployment is a non-retryable 404', async () => {
    const failure = await failureOf(gh.setDeploymentStatus({ repo: REPO, deploymentId: 999_999, state: 'success', description: 'd', releaseId: 'r@1' }));
    expect([failure.type, failure.nonRetryable]).toEqual(['GitHubNotFound', true]);
  });

  test.each<[string, number, Record<string, string>, string, boolean]>([
    ['403 with the rate limit spent', 403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1060' }, 'GitHubRateLimited', false],
    ['429 secondary limit with retry-after', 429, { 'retry-after': '30' }, 'GitHubRateLimited', false],
    ['403 without a rate limit: a missing permission', 403, {}, 'GitHubForbidden', true],
    ['422', 422, {}, 'GitHubInvalid', true],
    ['502', 502, {}, 'GitHubHttp502', false],
  ])('classification: %s', (_, status, headers, type, nonRetryable) => {
    const failure = githubFailure({ status, message: 'm', response: { headers } }, 'call', 1_000_000);
    expect([failure.type, failure.nonRetryable]).toEqual([type, nonRetryable]);
    if (type === 'GitHubRateLimited') expect(Number(failure.nextRetryDelay)).toBe(headers['retry-after'] ? 30_000 : 60_500);
  });
});
