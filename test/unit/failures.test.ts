// The one failure classifier (src/activities/failures.ts) and each adapter's table, table-driven:
// every system's statuses → failure type, retryable or not, retry delay, and a message that names
// what was being done and says what to do.
import { ApplicationFailure } from '@temporalio/common';
import { apiFailure } from '../../src/activities/failures.js';
import { githubFailure } from '../../src/activities/github/index.js';
import { kubeFailure } from '../../src/activities/kubernetes/errors.js';
import { createPrometheusActivities } from '../../src/activities/prometheus/index.js';
import { failure, isPermanentType, PERMANENT_FAILURE_TYPES, type TransientFailureType } from '../../src/core/failures.js';
import { causeOfFailure } from '../../src/core/status.js';

type Row = [label: string, status: number | undefined, type: string, nonRetryable: boolean, message: RegExp];

describe('Kubernetes', () => {
  const apiError = (code: number, message: string) => Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ kind: 'Status', message }) });
  test.each<Row>([
    ['400', 400, 'KubernetesBadRequest', true, /^patch Deployment prod\/checkout-green: the message \(HTTP 400\)$/],
    ['401', 401, 'KubernetesUnauthorized', true, /\(HTTP 401: the worker's Kubernetes credentials were refused\)$/],
    ['403', 403, 'KubernetesForbidden', true, /\(HTTP 403: the worker's ServiceAccount lacks this permission \(see deploy\/base\/rbac.yaml\)\)$/],
    ['404', 404, 'KubernetesNotFound', true, /^patch Deployment prod\/checkout-green: the message \(HTTP 404: check the namespace and names in the release spec\)$/],
    ['422', 422, 'KubernetesInvalid', true, /\(HTTP 422: the API server rejected the object\)$/],
    ['409', 409, 'KubernetesConflict', false, /^patch Deployment prod\/checkout-green: the message \(HTTP 409; will retry\)$/],
    ['429', 429, 'KubernetesThrottled', false, /\(HTTP 429; will retry\)$/],
    ['500', 500, 'KubernetesHttp500', false, /\(HTTP 500; will retry\)$/],
    ['503', 503, 'KubernetesHttp503', false, /\(HTTP 503; will retry\)$/],
    ['a network error', undefined, 'KubernetesUnavailable', false, /^patch Deployment prod\/checkout-green: connect ECONNREFUSED 127.0.0.1:6443 \(will retry\)$/],
  ])('%s', (_, status, type, nonRetryable, message) => {
    const err = status === undefined ? new Error('connect ECONNREFUSED 127.0.0.1:6443') : apiError(status, 'the message');
    const failure = kubeFailure(err, 'patch Deployment prod/checkout-green');
    expect([failure.type, failure.nonRetryable, failure.nextRetryDelay]).toEqual([type, nonRetryable, undefined]);
    expect(failure.message).toMatch(message);
  });

  test('a failure already classified passes through unchanged', () => {
    const own = ApplicationFailure.nonRetryable('x', 'RolloutFailed');
    expect(kubeFailure(own, 'anything')).toBe(own);
  });
});

describe('GitHub', () => {
  const NOW = 1_000_000;
  test.each<[...Row, Record<string, string>, number | undefined]>([
    ['401', 401, 'GitHubUnauthorized', true, /^call: Bad credentials \(HTTP 401: GitHub refused the worker's token \(GITHUB_TOKEN\)\)$/, {}, undefined],
    ['403 without a rate limit: a missing permission', 403, 'GitHubForbidden', true, /\(HTTP 403: the token lacks a permission/, {}, undefined],
    ['403 with the rate limit spent', 403, 'GitHubRateLimited', false, /^call: Bad credentials \(HTTP 403: rate limited; retrying in 61s, after the reset\)$/, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1060' }, 60_500],
    ['403 with retry-after', 403, 'GitHubRateLimited', false, /retrying in 5s/, { 'retry-after': '5' }, 5_000],
    ['429 secondary limit with retry-after', 429, 'GitHubRateLimited', false, /\(HTTP 429: rate limited; retrying in 30s/, { 'retry-after': '30' }, 30_000],
    ['429 without rate-limit headers', 429, 'GitHubHttp429', false, /\(HTTP 429; will retry\)$/, {}, undefined],
    ['404', 404, 'GitHubNotFound', true, /\(HTTP 404: no such repository or commit, or the token cannot see it\)$/, {}, undefined],
    ['422', 422, 'GitHubInvalid', true, /\(HTTP 422: GitHub rejected the request\)$/, {}, undefined],
    ['502', 502, 'GitHubHttp502', false, /^call: Bad credentials \(HTTP 502; will retry\)$/, {}, undefined],
    ['a network error', undefined, 'GitHubUnavailable', false, /^call: Bad credentials \(will retry\)$/, {}, undefined],
  ])('%s', (_, status, type, nonRetryable, message, headers, delay) => {
    const failure = githubFailure({ status, message: 'Bad credentials', response: { headers } }, 'call', NOW);
    expect([failure.type, failure.nonRetryable]).toEqual([type, nonRetryable]);
    expect(failure.nextRetryDelay === undefined ? undefined : Number(failure.nextRetryDelay)).toBe(delay);
    expect(failure.message).toMatch(message);
  });

  test("GitHub's own message wins over the client's", () => {
    expect(githubFailure({ status: 404, message: 'Not Found - https://docs', response: { data: { message: 'Not Found' } } }, 'read run 7').message).toBe(
      'read run 7: Not Found (HTTP 404: no such repository or commit, or the token cannot see it)',
    );
  });
});

describe('Prometheus', () => {
  const answering = (status: number, body: unknown) =>
    createPrometheusActivities({ url: 'http://prometheus.test', fetch: async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }) });

  test.each<Row>([
    ['400 bad_data', 400, 'PrometheusBadQuery', true, /^query Prometheus for sum\(rate\(x\[1m\]: bad_data: parse error \(HTTP 400: Prometheus rejected the query; fix it in the release spec\)$/],
    ['422 execution', 422, 'PrometheusBadQuery', true, /\(HTTP 422: Prometheus could not run the query; fix it in the release spec\)$/],
    ['401', 401, 'PrometheusUnauthorized', true, /\(HTTP 401: Prometheus refused the worker's credentials; check PROMETHEUS_BEARER_TOKEN\)$/],
    ['403', 403, 'PrometheusUnauthorized', true, /\(HTTP 403: Prometheus refused/],
  ])('%s is a non-retryable failure', async (_, status, type, nonRetryable, message) => {
    const failure = await answering(status ?? 0, { status: 'error', errorType: 'bad_data', error: 'parse error' }).measure({ query: 'sum(rate(x[1m]' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const f = failure as ApplicationFailure;
    expect([f.type, f.nonRetryable, f.nextRetryDelay]).toEqual([type, nonRetryable, undefined]);
    expect(f.message).toMatch(message);
  });

  test.each([429, 500, 503])('%i is an Error measurement, not a failure', async (status) => {
    const [o] = await answering(status, { status: 'error', errorType: 'unavailable', error: 'busy' }).measure({ query: 'up' });
    expect(o?.observation).toEqual({ kind: 'error', message: `Prometheus failed: HTTP ${status} unavailable: busy` });
  });
});

describe('the classifier itself', () => {
  const permanent = { 404: ['GitHubNotFound', 'look again'], 400: ['GitHubInvalid', ''] } as const;
  test.each<[string, Parameters<typeof apiFailure>[0], string, boolean, number | undefined, string]>([
    ['a permanent status with a hint', { system: 'GitHub', what: 'do it', status: 404, message: 'm', permanent }, 'GitHubNotFound', true, undefined, 'do it: m (HTTP 404: look again)'],
    ['a permanent status without a hint', { system: 'GitHub', what: 'do it', status: 400, message: 'm', permanent }, 'GitHubInvalid', true, undefined, 'do it: m (HTTP 400)'],
    ['a transient status', { system: 'GitHub', what: 'do it', status: 504, message: 'm', permanent }, 'GitHubHttp504', false, undefined, 'do it: m (HTTP 504; will retry)'],
    ['a transient status with a name', { system: 'GitHub', what: 'do it', status: 409, message: 'm', permanent, transient: { 409: 'GitHubDeploymentPending' } }, 'GitHubDeploymentPending', false, undefined, 'do it: m (HTTP 409; will retry)'],
    ['no answer', { system: 'GitHub', what: 'do it', status: undefined, message: 'm', permanent }, 'GitHubUnavailable', false, undefined, 'do it: m (will retry)'],
    ['a retry delay overrides the table', { system: 'GitHub', what: 'do it', status: 404, message: 'm', permanent, retryDelayMs: 2_500 }, 'GitHubRateLimited', false, 2_500, 'do it: m (HTTP 404: rate limited; retrying in 3s, after the reset)'],
  ])('%s', (_, input, type, nonRetryable, delay, message) => {
    const failure = apiFailure(input);
    expect([failure.type, failure.nonRetryable, failure.nextRetryDelay === undefined ? undefined : Number(failure.nextRetryDelay), failure.message]).toEqual([type, nonRetryable, delay, message]);
  });
});

describe('one union of failure types (src/core/failures.ts)', () => {
  test.each(PERMANENT_FAILURE_TYPES.map((t) => [t]))('%s is raised non-retryable', (type) => {
    const f = failure(type, 'what happened');
    expect([f.type, f.nonRetryable, f.message]).toEqual([type, true, 'what happened']);
  });
  test.each<[TransientFailureType]>([['KubernetesHttp503'], ['PrometheusUnavailable'], ['GitHubDeploymentPending'], ['KubernetesConflict']])('%s retries', (type) => {
    expect(failure(type, 'm').nonRetryable).toBe(false);
  });
  test('a rate limit retries after the delay the system asked for', () => {
    expect(Number(failure('GitHubRateLimited', 'm', { nextRetryDelayMs: 2_000 }).nextRetryDelay)).toBe(2_000);
  });
  test('a timeout type ends the release timed out (exit 13); every other type, or none, is an error', () => {
    expect(['RolloutTimeout', 'SupersedeTimeout', 'RolloutFailed', 'KubernetesNotFound', undefined].map(causeOfFailure)).toEqual(['timeout', 'timeout', 'error', 'error', 'error']);
    expect([isPermanentType('RolloutTimeout'), isPermanentType('KubernetesHttp503'), isPermanentType(undefined)]).toEqual([true, false, false]);
  });
});
