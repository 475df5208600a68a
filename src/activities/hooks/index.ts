// Runs a release's hook stages (spec `hooks:`, src/core/hooks.ts): a Kubernetes Job made from the
// hook's template, created once under the name the workflow fixed (a retried attempt finds it and
// goes on waiting) and waited for until its timeout, with the tail of its pod's log on failure; or an
// HTTP call carrying the run's key as Idempotency-Key. A failed Job or a refused call is returned as
// data; only a system that is down or busy throws (and the attempt is retried). Secret headers are
// read here from the worker's environment, by the names the spec gives.
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { failure } from '../../core/failures.js';
import { callTarget, hookJob, tail, type HookOutcome, type HookRun } from '../../core/hooks.js';
import { activityContext, waitOrCancel } from '../context.js';
import { perContext } from '../kubernetes/clusters.js';
import { isConflict, kube, kubeOptional } from '../kubernetes/errors.js';
import type { HookActivities } from '../types.js';

export interface HookConfig {
  /** The cluster job hooks run in; none: a job hook fails naming the missing adapter (HTTP hooks still run). */
  kubeConfig?: KubeConfig;
  /** Where headersFromEnv are read: the worker's environment. */
  env: NodeJS.ProcessEnv;
  /** How often a running Job is read (default 2 s). */
  pollMs?: number;
}

const LOG_LINES = 20;

export function createHookActivities(config: HookConfig): HookActivities {
  // a Job runs in the cluster of the context its run names (a release across clusters), else the current one
  const apisOf = config.kubeConfig ? perContext(config.kubeConfig, (kc) => ({ batch: kc.makeApiClient(BatchV1Api), core: kc.makeApiClient(CoreV1Api) })) : undefined;
  return {
    async runHook(run) {
      if (run.action.kind === 'http') return call(run, config.env);
      if (!apisOf) throw failure('AdapterUnavailable', `hook ${run.hook} runs a Kubernetes Job, and this worker has no Kubernetes adapter configured (KUBECONFIG)`);
      return job(run, apisOf(run.job?.cluster), config.pollMs ?? 2_000);
    },
  };
}

type Apis = { batch: BatchV1Api; core: CoreV1Api };

/** Creates the hook's Job, or adopts the one an earlier attempt of this run created; refuses a Job of the same name that is not this run's. */
async function createOrAdopt(run: HookRun, apis: Apis): Promise<V1Job> {
  const { name, namespace } = run.job ?? { name: '', namespace: '' };
  const what = `create Job ${namespace}/${name} for hook ${run.hook}`;
  try {
    return await apis.batch.createNamespacedJob({ namespace, body: hookJob(run) as V1Job });
  } catch (err) {
    if (!isConflict(err)) return kube(what, () => Promise.reject(err));
  }
  const existing = await kube(`read Job ${namespace}/${name}`, () => apis.batch.readNamespacedJob({ namespace, name }));
  if (existing.metadata?.annotations?.['tidegate.io/key'] !== run.key) {
    throw failure('HookInvalid', `Job ${namespace}/${name} exists and was not created by this run of ${run.releaseId} (hook ${run.hook}); delete it or rename the hook`);
  }
  return existing;
}

function condition(j: V1Job, type: string): { reason?: string; message?: string } | undefined {
  const c = j.status?.conditions?.find((x) => x.type === type && x.status === 'True');
  return c ? { ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) } : undefined;
}

/** The newest pod of the Job: how it ended, and the tail of its log (from the log API, else its termination message). */
async function lastPod(run: HookRun, apis: Apis): Promise<{ line: string; logTail?: string[] }> {
  const { name, namespace } = run.job ?? { name: '', namespace: '' };
  const pods = await apis.core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` }).catch(() => undefined);
  const pod = (pods?.items ?? []).sort((a, b) => (a.metadata?.creationTimestamp?.getTime() ?? 0) - (b.metadata?.creationTimestamp?.getTime() ?? 0)).at(-1);
  if (!pod) return { line: 'no pod of it was found' };
  const terminated = (pod.status?.containerStatuses ?? []).map((c) => ({ name: c.name, t: c.state?.terminated })).find((c) => c.t && c.t.exitCode !== 0) ??
    (pod.status?.containerStatuses ?? []).map((c) => ({ name: c.name, t: c.state?.terminated })).find((c) => c.t);
  const line = `pod ${pod.metadata?.name ?? '?'} ${terminated?.t ? `exited ${terminated.t.exitCode}${terminated.t.reason ? ` (${terminated.t.reason})` : ''}` : `is ${pod.status?.phase ?? 'in an unknown phase'}`}`;
  const logTail = (await podLog(apis, pod, terminated?.name)) ?? (terminated?.t?.message ? tail(terminated.t.message, LOG_LINES) : undefined);
  return { line, ...(logTail?.length ? { logTail } : {}) };
}

async function podLog(apis: Apis, pod: V1Pod, container: string | undefined): Promise<string[] | undefined> {
  try {
    const text = await apis.core.readNamespacedPodLog({ namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', tailLines: LOG_LINES, ...(container ? { container } : {}) });
    const lines = tail(String(text), LOG_LINES);
    return lines.length ? lines : undefined;
  } catch {
    return undefined; // no kubelet to ask (the node is gone), or no log kept: the termination message stands in
  }
}

async function job(run: HookRun, apis: Apis, pollMs: number): Promise<HookOutcome> {
  if (run.action.kind !== 'job' || !run.job) throw failure('HookInvalid', `hook ${run.hook} is not a job`);
  const { name, namespace } = run.job;
  const ctx = activityContext();
  const created = await createOrAdopt(run, apis);
  // the deadline runs from the Job's creation, so a retried attempt does not grant a new timeout
  const deadline = (created.metadata?.creationTimestamp?.getTime() ?? Date.now()) + run.action.timeout;
  const ref = `Job ${namespace}/${name}`;
  try {
    for (;;) {
      const j = await kubeOptional(`read ${ref}`, () => apis.batch.readNamespacedJob({ namespace, name }));
      if (!j) return { phase: 'Failed', detail: `${ref} was deleted before it finished` };
      if (condition(j, 'Complete')) return { phase: 'Succeeded', detail: `${ref} succeeded` };
      const failed = condition(j, 'Failed');
      if (failed) {
        const pod = await lastPod(run, apis);
        return { phase: 'Failed', detail: `${ref} failed${failed.reason ? ` (${failed.reason})` : ''}: ${pod.line}`, ...(pod.logTail ? { logTail: pod.logTail } : {}) };
      }
      if (Date.now() >= deadline) {
        const pod = await lastPod(run, apis);
        await deleteJob(apis, namespace, name);
        return { phase: 'TimedOut', detail: `${ref} did not finish within ${Math.round(run.action.timeout / 1000)}s and was deleted: ${pod.line}`, ...(pod.logTail ? { logTail: pod.logTail } : {}) };
      }
      ctx?.heartbeat({ job: name, active: j.status?.active ?? 0, failed: j.status?.failed ?? 0 });
      await waitOrCancel(ctx, Math.max(100, Math.min(pollMs, deadline - Date.now())));
    }
  } catch (err) {
    // The release was aborted while the hook ran: stop its Job before the rollback runs the undo.
    // Only then: a worker shutting down (a rolling update, a drained node) or a heartbeat timeout also
    // cancel the activity, and the retry on another worker must find the Job running and adopt it.
    if (ctx?.cancellationSignal.aborted && ctx.cancellationDetails?.cancelRequested) await deleteJob(apis, namespace, name).catch(() => undefined);
    throw err;
  }
}

async function deleteJob(apis: Apis, namespace: string, name: string): Promise<void> {
  await kubeOptional(`delete Job ${namespace}/${name}`, () => apis.batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' }));
}

/** The hook's HTTP call: 2xx succeeds; 5xx, 408, 429 and no answer retry (same key); any other answer fails with its body's tail. */
async function call(run: HookRun, env: NodeJS.ProcessEnv): Promise<HookOutcome> {
  if (run.action.kind !== 'http') throw failure('HookInvalid', `hook ${run.hook} is not a call`);
  const { url, method, body, timeout } = run.action;
  const headers: Record<string, string> = { ...run.action.headers, 'idempotency-key': run.key, 'x-tidegate-release': run.releaseId, 'x-tidegate-hook': `${run.hook}/${run.phase}` };
  for (const [header, variable] of Object.entries(run.action.headersFromEnv)) {
    const value = env[variable];
    if (!value) throw failure('HookInvalid', `hook ${run.hook}: header ${header} is read from ${variable}, which the worker's environment does not set`);
    headers[header] = value;
  }
  const target = callTarget(method, url);
  let res: Response;
  try {
    res = await fetch(url, { method, headers, ...(body !== undefined && method !== 'GET' ? { body } : {}), signal: AbortSignal.timeout(timeout), redirect: 'manual' });
  } catch (err) {
    const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${Math.round(timeout / 1000)}s` : err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw failure('HookUnavailable', `hook ${run.hook}: ${target}: ${why}; calling again with the same Idempotency-Key`);
  }
  const text = await res.text().catch(() => '');
  if (res.status >= 200 && res.status < 300) return { phase: 'Succeeded', detail: `${target} → ${res.status}` };
  if (res.status >= 500 || res.status === 408 || res.status === 429) throw failure('HookUnavailable', `hook ${run.hook}: ${target} → ${res.status}; calling again with the same Idempotency-Key`);
  const logTail = tail(text, LOG_LINES);
  return { phase: 'Failed', detail: `${target} → ${res.status}`, ...(logTail.length ? { logTail } : {}) };
}
