// GitHub on the whole local stack: a `tidegate worker` with GITHUB_TOKEN and GITHUB_API_URL (the
// fake, validated against GitHub's OpenAPI description) reports releases as Deployments and commit
// statuses and gates them on check runs. Given / when / then, read back through GitHub's API.
import { AesGcmCodec, payloadKeysFromEnv } from '../../src/temporal/codec.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { ReleaseStatus } from '../../src/core/status.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { stackDown, stackEnv, stackUp, type StackState } from '../../devkit/stack/stack.js';
import { clusterView, eventually, productionState, startWorkerProcess, tidegate, userEnv, type ClusterView } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('e2e-github');
const REPO = 'acme/checkout';
let state: StackState;
let env: NodeJS.ProcessEnv;
let worker: ManagedProcess;
let view: ClusterView;
let token: string;

interface Deployment {
  id: number;
  environment: string;
  payload: { releaseId?: string };
}

const github = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
  const res = await fetch(`${env.GITHUB_API_URL}${path}`, { ...init, headers: { authorization: `token ${token}` } });
  return (await res.json()) as T;
};
const setChecks = (sha: string, runs: unknown[]) => fetch(`${env.GITHUB_API_URL}/_fake/repos/${REPO}/commits/${sha}/check-runs`, { method: 'PUT', body: JSON.stringify(runs) });
const deploymentsOf = async (sha: string, releaseId: string): Promise<Deployment[]> =>
  (await github<Deployment[]>(`/repos/${REPO}/deployments?sha=${sha}`)).filter((d) => d.payload.releaseId === releaseId);
const statesOf = async (id: number): Promise<string[]> => (await github<{ state: string }[]>(`/repos/${REPO}/deployments/${id}/statuses`)).map((s) => s.state).reverse();

/** Every payload's data in an exported history, decoded from base64, joined. */
function decodedPayloads(node: unknown, codec: AesGcmCodec): string {
  if (Array.isArray(node)) return node.map((n) => decodedPayloads(n, codec)).join('\n');
  if (!node || typeof node !== 'object') return '';
  const o = node as { metadata?: Record<string, string>; data?: unknown };
  if (o.metadata && typeof o.data === 'string') {
    // a payload: the stack encrypts them, so decrypt with its key first
    const payload = { metadata: Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])), data: new Uint8Array(Buffer.from(o.data, 'base64')) };
    return Buffer.from(codec.decryptSync(payload).data ?? []).toString('utf8');
  }
  return Object.values(node as Record<string, unknown>)
    .map((value) => decodedPayloads(value, codec))
    .join('\n');
}

/** The sample service with staging, a short canary analysis, source and a build gate. */
function spec(version: string, sha: string): string {
  const file = join(dir, `release-${version}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      service: 'checkout',
      version,
      image: `registry.local/checkout:${version}`,
      source: { repo: REPO, sha },
      build: { requiredChecks: ['build', 'test'], timeout: '1m' },
      staging: { namespace: 'staging', deployment: 'checkout' },
      production: {
        namespace: 'prod',
        blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', deploymentPrefix: 'checkout', scaleDownDelay: '1s' },
        canary: { traffic: { router: 'gateway-api', httpRoute: 'checkout' }, steps: [{ setWeight: 20 }, { pause: { duration: '4s' } }, { analysis: { analyses: ['success-rate'] } }] },
      },
      analyses: {
        'success-rate': {
          query: 'sum(rate(http_requests_total{service="{{service}}",color="{{color}}",code!~"5.."}[5s])) / sum(rate(http_requests_total{service="{{service}}",color="{{color}}"}[5s]))',
          successCondition: '>= 0.95', // ~100 requests in a 5 s window: one unlucky error is 1%
          interval: '1s',
          count: 3,
        },
      },
    }),
  );
  return file;
}

beforeAll(async () => {
  state = await stackUp({ dir });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci' });
  token = env.GITHUB_TOKEN ?? '';
  view = clusterView(state.kubernetes?.kubeconfig ?? '');
  worker = await startWorkerProcess(env, join(dir, 'worker.log'));
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await stackDown(dir);
});

test('a failing required check stops the release before staging, naming the check', async () => {
  // given the commit's test check failed
  const sha = 'aa11bb22';
  await setChecks(sha, [{ name: 'build', status: 'completed', conclusion: 'success' }, { name: 'test', status: 'completed', conclusion: 'failure' }]);
  // when CI starts the release
  const done = await tidegate(env, 'start', '-f', spec('1.5.0', sha), '--wait', '--json');
  // then it fails at the build gate; staging is untouched and no deployment was opened
  expect(done.code).toBe(1);
  const s = (JSON.parse(done.stdout) as { status: ReleaseStatus }).status;
  expect(s).toMatchObject({ outcome: 'failed', reason: 'build gate: failed test (failure)' });
  expect(s.services[0]?.stages).toMatchObject({ build: 'failed', staging: 'pending' });
  expect((await productionState(view)).staging).toBe('registry.local/checkout:1.0.0');
  expect(await deploymentsOf(sha, 'checkout@1.5.0')).toEqual([]);
  const statuses = await github<{ context: string; state: string }[]>(`/repos/${REPO}/commits/${sha}/statuses`);
  expect(statuses.map((x) => [x.context, x.state])).toEqual([['tidegate/checkout', 'failure'], ['tidegate/checkout', 'pending']]);
}, 120_000);

test('a rolled-back release ends its production deployment with failure, then inactive — and a lost response creates no duplicate', async () => {
  // given green checks, a canary image that fails 30% of requests, and GitHub losing the response of the first deployment it creates
  const sha = 'cc33dd44';
  await setChecks(sha, [{ name: 'build', status: 'completed', conclusion: 'success' }, { name: 'test', status: 'completed', conclusion: 'success' }]);
  await fetch(`${env.TIDEGATE_SIM_URL}/images/${encodeURIComponent('registry.local/checkout:1.6.0')}`, { method: 'PUT', body: JSON.stringify({ errorRate: 0.3 }) });
  await fetch(`${env.GITHUB_API_URL}/_fake/lose-response`, { method: 'POST', body: JSON.stringify({ method: 'POST', path: `/repos/${REPO}/deployments$` }) });
  // when it is released
  const done = await tidegate(env, 'start', '-f', spec('1.6.0', sha), '--wait', '--json');
  // then it is rolled back by analysis …
  expect(done.code).toBe(10);
  // … staging and production each have exactly one deployment of this release (the retried create found the first) …
  const deployments = await deploymentsOf(sha, 'checkout@1.6.0');
  expect(deployments.map((d) => d.environment).sort()).toEqual(['production', 'staging']);
  // … production went in_progress → failure → inactive, staging success → failure → inactive
  const production = deployments.find((d) => d.environment === 'production');
  const staging = deployments.find((d) => d.environment === 'staging');
  expect(await statesOf(production?.id ?? 0)).toEqual(['in_progress', 'failure', 'inactive']);
  expect(await statesOf(staging?.id ?? 0)).toEqual(['in_progress', 'success', 'failure', 'inactive']);
  const [commit] = await github<{ state: string; target_url: string }[]>(`/repos/${REPO}/commits/${sha}/statuses`);
  expect(commit?.state).toBe('failure');
  expect(commit?.target_url).toBe(`${env.TEMPORAL_UI_URL}/namespaces/default/workflows/checkout%401.6.0`);
  // and every request tidegate sent conformed to GitHub's description
  const calls = await (await fetch(`${env.GITHUB_API_URL}/_fake/calls`)).json() as { status: number; problems?: unknown }[];
  expect(calls.filter((c) => c.problems)).toEqual([]);
  expect(calls.filter((c) => c.status === 502)).toHaveLength(1);
}, 180_000);

test('a released release ends success, and its full history contains no token', async () => {
  const sha = 'ee55ff66';
  await setChecks(sha, [{ name: 'build', status: 'completed', conclusion: 'success' }, { name: 'test', status: 'completed', conclusion: 'success' }]);
  const done = await tidegate(env, 'start', '-f', spec('1.7.0', sha), '--wait');
  expect(done.code).toBe(0);
  const [production] = (await deploymentsOf(sha, 'checkout@1.7.0')).filter((d) => d.environment === 'production');
  expect(await statesOf(production?.id ?? 0)).toEqual(['in_progress', 'success']);
  await eventually('the release to be live', () => productionState(view), (p) => p.images[p.live === 'blue' ? 'blue' : 'green'] === 'registry.local/checkout:1.7.0');

  // the whole exported history of every release of this file, and the worker's log, never carry the token
  const connection = await Connection.connect({ address: state.temporal?.address ?? '' });
  try {
    const client = new Client({ connection });
    for (const id of ['checkout@1.5.0', 'checkout@1.6.0', 'checkout@1.7.0']) {
      const history = historyToJSON(await client.workflow.getHandle(id).fetchHistory());
      expect(history.length).toBeGreaterThan(1_000);
      expect(history).not.toContain(token);
      const keys = payloadKeysFromEnv(env);
      if (!keys) throw new Error('the stack gives no payload keys');
      // encrypted: the start input is stored as ciphertext (the workflow id and search attributes stay plaintext)
      const input = (JSON.parse(history) as { events: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: { metadata?: { encoding?: string } }[] } } }[] }).events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(Buffer.from(input?.metadata?.encoding ?? '', 'base64').toString()).toBe('binary/encrypted');
      const payloads = decodedPayloads(JSON.parse(history), new AesGcmCodec(keys));
      expect(payloads).toContain('checkout@'); // the payloads were decoded: the release id is in them
      expect(payloads).not.toContain(token);
    }
  } finally {
    await connection.close();
  }
  expect(token.length).toBeGreaterThan(20);
  expect(readFileSync(join(dir, 'worker.log'), 'utf8')).not.toContain(token);
}, 180_000);
