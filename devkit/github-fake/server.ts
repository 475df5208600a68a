// A local fake of the GitHub REST endpoints tidegate uses: check runs of a commit,
// Deployments and their statuses, commit statuses, and dispatched Actions workflow runs. There is no network here, so this stands in for
// api.github.com — and every request it accepts and every response it sends is validated against
// GitHub's official OpenAPI description; a request that does not conform is answered 422 and a
// response that would not conform becomes a 500, so the fake can never drift from the real API.
// It authenticates a token, records every call for tests, and its /_fake/ admin API sets check
// runs and how dispatched workflows end, simulates rate limits and loses responses (the request
// takes effect, the reply is a 502).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GitHubDescription, type Problem } from './openapi.js';

export interface CheckRunInput {
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required' | null;
}

export interface RecordedCall {
  method: string;
  path: string;
  operation: string;
  query: Record<string, string>;
  body?: unknown;
  status: number;
  /** Problems the request had against the description (then the status is 422). */
  problems?: Problem[];
  at: string;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  params: string[];
  handle: (ctx: Ctx) => { status: number; body?: unknown; headers?: Record<string, string> };
}

interface Ctx {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

interface Deployment {
  id: number;
  owner: string;
  repo: string;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  description: string | null;
  payload: Record<string, unknown> | string;
  transient: boolean;
  production: boolean;
  createdAt: string;
  statuses: DeploymentStatus[];
}

interface DeploymentStatus {
  id: number;
  state: string;
  description: string;
  logUrl: string;
  environmentUrl: string;
  environment: string;
  createdAt: string;
}

export interface GitHubFakeOptions {
  port: number;
  host?: string;
  /** The token clients must send (`Authorization: token …` or `Bearer …`). */
  token: string;
  description?: GitHubDescription;
}

export interface GitHubFake {
  url: string;
  calls: RecordedCall[];
  stop(): Promise<void>;
}

const LOGIN = 'tidegate-bot';

export async function startGitHubFake(options: GitHubFakeOptions): Promise<GitHubFake> {
  const description = options.description ?? new GitHubDescription();
  const host = options.host ?? '127.0.0.1';
  const base = `http://${host}:${options.port}`;
  const calls: RecordedCall[] = [];
  const checkRuns = new Map<string, (CheckRunInput & { id: number; startedAt: string; completedAt: string | null })[]>();
  const deployments: Deployment[] = [];
  const commitStatuses = new Map<string, { id: number; state: string; description: string | null; targetUrl: string | null; context: string; createdAt: string }[]>();
  let nextId = 1000;
  let rateLimited = 0;
  let rateLimitResetAt = 0;
  const lost: { method: string; pattern: RegExp; times: number }[] = [];
  /** How runs of a dispatched workflow end: "<owner>/<repo>/<workflow>" → conclusion after a delay. */
  const outcomes = new Map<string, { conclusion: string; afterMs: number }>();
  const runs: { id: number; owner: string; repo: string; workflow: string; ref: string; createdMs: number; number: number }[] = [];
  /** Tags of a repository ("<owner>/<repo>"), newest first as GitHub lists them. */
  const tags = new Map<string, { name: string; sha: string }[]>();

  const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const repoUrl = (owner: string, repo: string): string => `${base}/repos/${owner}/${repo}`;
  const user = {
    login: LOGIN, id: 1, node_id: 'MDQ6VXNlcjE=', avatar_url: `${base}/avatars/${LOGIN}`, gravatar_id: null,
    url: `${base}/users/${LOGIN}`, html_url: `${base}/${LOGIN}`, followers_url: `${base}/users/${LOGIN}/followers`,
    following_url: `${base}/users/${LOGIN}/following{/other_user}`, gists_url: `${base}/users/${LOGIN}/gists{/gist_id}`,
    starred_url: `${base}/users/${LOGIN}/starred{/owner}{/repo}`, subscriptions_url: `${base}/users/${LOGIN}/subscriptions`,
    organizations_url: `${base}/users/${LOGIN}/orgs`, repos_url: `${base}/users/${LOGIN}/repos`, events_url: `${base}/users/${LOGIN}/events{/privacy}`,
    received_events_url: `${base}/users/${LOGIN}/received_events`, type: 'Bot', site_admin: false,
  };
  const nodeId = (kind: string, id: number): string => Buffer.from(`${kind}:${id}`).toString('base64');
  const deploymentJson = (d: Deployment) => ({
    url: `${repoUrl(d.owner, d.repo)}/deployments/${d.id}`, id: d.id, node_id: nodeId('Deployment', d.id), sha: d.sha, ref: d.ref, task: d.task,
    payload: d.payload, original_environment: d.environment, environment: d.environment, description: d.description, creator: user,
    created_at: d.createdAt, updated_at: d.statuses.at(-1)?.createdAt ?? d.createdAt, statuses_url: `${repoUrl(d.owner, d.repo)}/deployments/${d.id}/statuses`,
    repository_url: repoUrl(d.owner, d.repo), transient_environment: d.transient, production_environment: d.production,
  });
  const statusJson = (d: Deployment, s: DeploymentStatus) => ({
    url: `${repoUrl(d.owner, d.repo)}/deployments/${d.id}/statuses/${s.id}`, id: s.id, node_id: nodeId('DeploymentStatus', s.id), state: s.state,
    creator: user, description: s.description, environment: s.environment, target_url: s.logUrl, created_at: s.createdAt, updated_at: s.createdAt,
    deployment_url: `${repoUrl(d.owner, d.repo)}/deployments/${d.id}`, repository_url: repoUrl(d.owner, d.repo),
    ...(s.environmentUrl ? { environment_url: s.environmentUrl } : {}), ...(s.logUrl ? { log_url: s.logUrl } : {}),
  });
  const notFound = (what: string) => ({ status: 404, body: { message: `Not Found: ${what}`, documentation_url: 'https://docs.github.com/rest' } });
  const findDeployment = (p: Record<string, string>): Deployment | undefined =>
    deployments.find((d) => d.owner === p.owner && d.repo === p.repo && d.id === Number(p.deployment_id));

  const routes: Route[] = [];
  const route = (method: string, template: string, handle: Route['handle']): void => {
    const params: string[] = [];
    const pattern = new RegExp(`^${template.replace(/\{(\w+)\}/g, (_, name: string) => (params.push(name), '([^/]+)'))}$`);
    routes.push({ method, template, pattern, params, handle });
  };

  route('GET', '/repos/{owner}/{repo}/commits/{ref}/check-runs', ({ params, query }) => {
    const runs = (checkRuns.get(`${params.owner}/${params.repo}@${params.ref}`) ?? []).filter((r) => !query.get('check_name') || r.name === query.get('check_name'));
    return {
      status: 200,
      body: {
        total_count: runs.length,
        check_runs: runs.map((r) => ({
          id: r.id, head_sha: params.ref, node_id: nodeId('CheckRun', r.id), external_id: String(r.id), url: `${repoUrl(params.owner ?? '', params.repo ?? '')}/check-runs/${r.id}`,
          html_url: `${base}/${params.owner}/${params.repo}/runs/${r.id}`, details_url: null, status: r.status, conclusion: r.conclusion ?? null,
          started_at: r.startedAt, completed_at: r.completedAt, output: { title: null, summary: null, text: null, annotations_count: 0, annotations_url: `${repoUrl(params.owner ?? '', params.repo ?? '')}/check-runs/${r.id}/annotations` },
          name: r.name, check_suite: { id: 1 }, app: null, pull_requests: [],
        })),
      },
    };
  });

  route('GET', '/repos/{owner}/{repo}/deployments', ({ params, query }) => {
    const matches = deployments
      .filter((d) => d.owner === params.owner && d.repo === params.repo)
      .filter((d) => ['sha', 'ref', 'task', 'environment'].every((k) => !query.get(k) || (d as unknown as Record<string, string>)[k] === query.get(k)))
      .sort((a, b) => b.id - a.id);
    return { status: 200, body: matches.map(deploymentJson) };
  });

  route('POST', '/repos/{owner}/{repo}/deployments', ({ params, body }) => {
    const environment = typeof body.environment === 'string' ? body.environment : 'production';
    const d: Deployment = {
      id: nextId++, owner: params.owner ?? '', repo: params.repo ?? '', sha: String(body.ref), ref: String(body.ref), task: typeof body.task === 'string' ? body.task : 'deploy',
      environment, description: typeof body.description === 'string' ? body.description : null,
      payload: (body.payload as Record<string, unknown> | string | undefined) ?? {}, transient: body.transient_environment === true,
      production: typeof body.production_environment === 'boolean' ? body.production_environment : environment === 'production', createdAt: now(), statuses: [],
    };
    deployments.push(d);
    return { status: 201, body: deploymentJson(d) };
  });

  route('GET', '/repos/{owner}/{repo}/deployments/{deployment_id}', ({ params }) => {
    const d = findDeployment(params);
    return d ? { status: 200, body: deploymentJson(d) } : notFound(`deployment ${params.deployment_id}`);
  });

  route('GET', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses', ({ params }) => {
    const d = findDeployment(params);
    return d ? { status: 200, body: [...d.statuses].reverse().map((s) => statusJson(d, s)) } : notFound(`deployment ${params.deployment_id}`);
  });

  route('POST', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses', ({ params, body }) => {
    const d = findDeployment(params);
    if (!d) return notFound(`deployment ${params.deployment_id}`);
    const logUrl = typeof body.log_url === 'string' ? body.log_url : typeof body.target_url === 'string' ? body.target_url : '';
    const s: DeploymentStatus = {
      id: nextId++, state: String(body.state), description: typeof body.description === 'string' ? body.description : '', logUrl,
      environmentUrl: typeof body.environment_url === 'string' ? body.environment_url : '', environment: typeof body.environment === 'string' ? body.environment : d.environment, createdAt: now(),
    };
    // GitHub marks earlier non-transient, non-production deployments of the environment inactive on success when auto_inactive (default true)
    d.statuses.push(s);
    return { status: 201, body: statusJson(d, s) };
  });

  route('POST', '/repos/{owner}/{repo}/statuses/{sha}', ({ params, body }) => {
    const key = `${params.owner}/${params.repo}@${params.sha}`;
    const list = commitStatuses.get(key) ?? [];
    const s = {
      id: nextId++, state: String(body.state), description: typeof body.description === 'string' ? body.description : null,
      targetUrl: typeof body.target_url === 'string' ? body.target_url : null, context: typeof body.context === 'string' ? body.context : 'default', createdAt: now(),
    };
    list.push(s);
    commitStatuses.set(key, list);
    return {
      status: 201,
      body: {
        url: `${repoUrl(params.owner ?? '', params.repo ?? '')}/statuses/${params.sha}`, avatar_url: user.avatar_url, id: s.id, node_id: nodeId('StatusContext', s.id), state: s.state,
        description: s.description, target_url: s.targetUrl, context: s.context, created_at: s.createdAt, updated_at: s.createdAt, creator: user,
      },
    };
  });

  route('GET', '/repos/{owner}/{repo}/commits/{ref}/statuses', ({ params }) => {
    const list = [...(commitStatuses.get(`${params.owner}/${params.repo}@${params.ref}`) ?? [])].reverse();
    return {
      status: 200,
      body: list.map((s) => ({
        url: `${repoUrl(params.owner ?? '', params.repo ?? '')}/statuses/${params.ref}`, avatar_url: user.avatar_url, id: s.id, node_id: nodeId('StatusContext', s.id), state: s.state,
        description: s.description, target_url: s.targetUrl, context: s.context, created_at: s.createdAt, updated_at: s.createdAt, creator: user,
      })),
    };
  });

  const repository = (owner: string, repo: string) => {
    const url = repoUrl(owner, repo);
    const urls = ['archive', 'assignees', 'blobs', 'branches', 'collaborators', 'comments', 'commits', 'compare', 'contents', 'contributors', 'deployments', 'downloads', 'events', 'forks', 'git_commits', 'git_refs', 'git_tags', 'hooks', 'issue_comment', 'issue_events', 'issues', 'keys', 'labels', 'languages', 'merges', 'milestones', 'notifications', 'pulls', 'releases', 'stargazers', 'statuses', 'subscribers', 'subscription', 'tags', 'teams', 'trees'];
    return {
      ...Object.fromEntries(urls.map((u) => [`${u}_url`, `${url}/${u.replace(/_/g, '/')}`])),
      id: 1, node_id: nodeId('Repository', 1), name: repo, full_name: `${owner}/${repo}`, owner: { ...user, login: owner }, private: false,
      html_url: `${base}/${owner}/${repo}`, description: null, fork: false, url,
    };
  };
  const runJson = (r: (typeof runs)[number]) => {
    const outcome = outcomes.get(`${r.owner}/${r.repo}/${r.workflow}`) ?? { conclusion: 'success', afterMs: 1_000 };
    const done = Date.now() - r.createdMs >= outcome.afterMs;
    const url = `${repoUrl(r.owner, r.repo)}/actions/runs/${r.id}`;
    const sha = Buffer.from(`${r.ref}`).toString('hex').padEnd(40, '0').slice(0, 40);
    const created = new Date(r.createdMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      id: r.id, node_id: nodeId('WorkflowRun', r.id), head_branch: r.ref, run_number: r.number, display_title: r.workflow, event: 'workflow_dispatch',
      status: done ? 'completed' : 'in_progress', conclusion: done ? outcome.conclusion : null, head_sha: sha, path: `.github/workflows/${r.workflow}@${r.ref}`,
      workflow_id: 7, url, html_url: `${base}/${r.owner}/${r.repo}/actions/runs/${r.id}`, created_at: created, updated_at: done ? now() : created,
      head_commit: null, head_repository: repository(r.owner, r.repo), repository: repository(r.owner, r.repo), jobs_url: `${url}/jobs`, logs_url: `${url}/logs`,
      check_suite_url: `${repoUrl(r.owner, r.repo)}/check-suites/${r.id}`, cancel_url: `${url}/cancel`, rerun_url: `${url}/rerun`, artifacts_url: `${url}/artifacts`,
      workflow_url: `${repoUrl(r.owner, r.repo)}/actions/workflows/7`, pull_requests: [],
    };
  };

  route('POST', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', ({ params, body }) => {
    const run = { id: nextId++, owner: params.owner ?? '', repo: params.repo ?? '', workflow: params.workflow_id ?? '', ref: String(body.ref), createdMs: Date.now(), number: runs.length + 1 };
    runs.push(run);
    if (body.return_run_details !== true) return { status: 204 };
    return { status: 200, body: { workflow_run_id: run.id, run_url: `${repoUrl(run.owner, run.repo)}/actions/runs/${run.id}`, html_url: `${base}/${run.owner}/${run.repo}/actions/runs/${run.id}` } };
  });

  route('GET', '/repos/{owner}/{repo}/tags', ({ params, query }) => {
    const all = tags.get(`${params.owner}/${params.repo}`) ?? [];
    const perPage = Math.min(100, Number(query.get('per_page') ?? '30'));
    const page = Math.max(1, Number(query.get('page') ?? '1'));
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const owner = params.owner ?? '';
    const repo = params.repo ?? '';
    return {
      status: 200,
      body: slice.map((t, i) => ({
        name: t.name,
        commit: { sha: t.sha, url: `${repoUrl(owner, repo)}/commits/${t.sha}` },
        zipball_url: `${repoUrl(owner, repo)}/zipball/refs/tags/${t.name}`,
        tarball_url: `${repoUrl(owner, repo)}/tarball/refs/tags/${t.name}`,
        node_id: nodeId('Tag', (page - 1) * perPage + i + 1),
      })),
    };
  });

  route('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}', ({ params }) => {
    const r = runs.find((x) => x.owner === params.owner && x.repo === params.repo && x.id === Number(params.run_id));
    return r ? { status: 200, body: runJson(r) } : notFound(`workflow run ${params.run_id}`);
  });

  // ---- the admin API (not GitHub's) ----------------------------------------------------------
  const admin = async (req: IncomingMessage, url: URL, body: unknown): Promise<{ status: number; body: unknown } | undefined> => {
    const checks = /^\/_fake\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/.exec(url.pathname);
    if (checks && req.method === 'PUT') {
      const runs = (body as CheckRunInput[]).map((r) => ({ ...r, id: nextId++, startedAt: now(), completedAt: r.status === 'completed' ? now() : null }));
      checkRuns.set(`${checks[1]}/${checks[2]}@${checks[3]}`, runs);
      return { status: 200, body: runs };
    }
    const outcome = /^\/_fake\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+)\/outcome$/.exec(url.pathname);
    if (outcome && req.method === 'PUT') {
      const { conclusion, afterSeconds } = body as { conclusion: string; afterSeconds?: number };
      outcomes.set(`${outcome[1]}/${outcome[2]}/${outcome[3]}`, { conclusion, afterMs: (afterSeconds ?? 1) * 1000 });
      return { status: 200, body: { conclusion } };
    }
    const tagList = /^\/_fake\/repos\/([^/]+)\/([^/]+)\/tags$/.exec(url.pathname);
    if (tagList && req.method === 'PUT') {
      tags.set(`${tagList[1]}/${tagList[2]}`, body as { name: string; sha: string }[]);
      return { status: 200, body };
    }
    if (url.pathname === '/_fake/calls' && req.method === 'GET') return { status: 200, body: calls };
    if (url.pathname === '/_fake/calls' && req.method === 'DELETE') {
      calls.length = 0;
      return { status: 200, body: {} };
    }
    if (url.pathname === '/_fake/rate-limit' && req.method === 'POST') {
      const { requests, resetInSeconds } = body as { requests: number; resetInSeconds: number };
      rateLimited = requests;
      rateLimitResetAt = Math.ceil(Date.now() / 1000 + resetInSeconds);
      return { status: 200, body: { requests, reset: rateLimitResetAt } };
    }
    if (url.pathname === '/_fake/lose-response' && req.method === 'POST') {
      const { method, path, times } = body as { method: string; path: string; times?: number };
      lost.push({ method, pattern: new RegExp(path), times: times ?? 1 });
      return { status: 200, body: {} };
    }
    if (url.pathname === '/_fake/health') return { status: 200, body: { ok: true, description: description.version } };
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', base);
    const text = await readBody(req);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return send(res, 400, { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/rest' });
    }
    if (url.pathname.startsWith('/_fake/')) {
      const r = await admin(req, url, body);
      return send(res, r?.status ?? 404, r?.body ?? { message: 'no such admin route' });
    }
    const match = routes.map((r) => ({ r, m: r.method === req.method ? r.pattern.exec(url.pathname) : null })).find((x) => x.m);
    const record = (status: number, operation: string, problems?: Problem[]): void => {
      calls.push({ method: req.method ?? '?', path: url.pathname, operation, query: Object.fromEntries(url.searchParams), ...(body !== undefined ? { body } : {}), status, ...(problems?.length ? { problems } : {}), at: new Date().toISOString() });
    };
    if (!match?.m) {
      record(404, 'unknown');
      return send(res, 404, { message: `Not Found (the GitHub fake does not implement ${req.method} ${url.pathname})`, documentation_url: 'https://docs.github.com/rest' });
    }
    const { r, m } = match;
    const operation = `${r.method} ${r.template}`;
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${options.token}` && auth !== `Bearer ${options.token}`) {
      record(401, operation);
      return respond(r, res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    if (rateLimited > 0) {
      rateLimited--;
      record(403, operation);
      return respond(r, res, 403, { message: 'API rate limit exceeded for installation.', documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting' }, {
        'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-reset': String(rateLimitResetAt), 'x-ratelimit-resource': 'core',
      });
    }
    const params = Object.fromEntries(r.params.map((name, i) => [name, decodeURIComponent(m[i + 1] ?? '')]));
    const problems = description.validateRequest(r.method, r.template, { path: params, query: url.searchParams, body });
    if (problems.length > 0) {
      record(422, operation, problems);
      return send(res, 422, { message: 'Invalid request (against the GitHub OpenAPI description)', errors: problems, documentation_url: 'https://docs.github.com/rest' });
    }
    const out = r.handle({ params, query: url.searchParams, body: (body ?? {}) as Record<string, unknown> });
    const loss = lost.find((l) => l.method === r.method && l.pattern.test(url.pathname) && l.times > 0);
    if (loss) {
      loss.times--;
      record(502, operation);
      return send(res, 502, { message: 'Bad Gateway (the fake lost this response; the request took effect)' });
    }
    record(out.status, operation);
    respond(r, res, out.status, out.body, out.headers);
  };

  /** Sends a response after validating it against the operation's documented response. */
  const respond = (r: Route, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const problems = description.validateResponse(r.method, r.template, status, body);
    if (problems.length > 0) {
      send(res, 500, { message: `the GitHub fake built a response that does not conform to the description: ${JSON.stringify(problems.slice(0, 5))}` });
      return;
    }
    send(res, status, body, headers);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { message: err instanceof Error ? err.message : String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  return { url: base, calls, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-api-version-selected': '2022-11-28', ...headers }).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
