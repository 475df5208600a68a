// The release workflow: build gate → staging → canary steps → approval → blue-green
// switch → monitor window, for one service or several in order. Every forward effect registers its
// undo first; any failure, rejection, abort or timeout runs the undos, traffic first, in a scope that
// cannot be cancelled. All decisions come from src/core; activities only act and observe.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { BuildCheckResult, CoordinationActivities, GitHubActivities, KubernetesActivities, MetricsActivities } from '../activities/types.js';
import { classify, judgeRun, type Measurement, type Observation, type RunVerdict } from '../core/analysis.js';
import { classifyMetric, scoreMetrics } from '../core/compare.js';
import { expectedAfterSwitch, expectedAfterWeight, expectedFromSnapshot, matchesSnapshot, servingColors, trafficDrift, type ExpectedTraffic, type TrafficState } from '../core/drift.js';
import { checkApprove, checkReject, approvalsNeeded, isApproved, type ApprovalGate } from '../core/approval.js';
import { rollbackOrder, type Compensation, type UndoAction } from '../core/compensation.js';
import { serviceLockId } from '../core/ids.js';
import { monitorBatchMs, planRelease, type PlannedStep, type Stage } from '../core/plan.js';
import { longestWindowMs, waitBeforeMeasuringMs } from '../core/promql.js';
import { otherColor, type Color, type ProductionSnapshot, type ProductionTarget } from '../core/snapshot.js';
import { initialStatus, type AnalysisRun, type Cause, type CompareMetricResult, type Outcome, type ReleaseResult, type ReleaseStatus, type ServiceStatus } from '../core/status.js';
import { renderQuery } from '../core/template.js';
import { toMetricValue, toNumber, type MetricValue } from '../core/values.js';
import type { AnalysisSpec, CompareAnalysisSpec, ServiceSpec } from '../spec/schema.js';
import {
  abortSignal,
  approveUpdate,
  lockFreedSignal,
  promoteUpdate,
  rejectUpdate,
  statusQuery,
  unlockSignal,
  type AbortRequest,
  type ReleaseInput,
} from './definitions.js';
import { serviceLock } from './lock.js';
import { PATCHES } from './patches.js';
import { OUTCOME_KEY, STAGE_KEY } from './search-attributes.js';

const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 };

const k8s = proxyActivities<KubernetesActivities>({ startToCloseTimeout: '2m', retry: RETRY });
const coordination = proxyActivities<CoordinationActivities>({ startToCloseTimeout: '30s', retry: RETRY });
const github = proxyActivities<GitHubActivities>({ startToCloseTimeout: '2m', retry: RETRY });
const metrics = proxyActivities<MetricsActivities>({ startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 } });
/** Compensations retry in the workflow, so that every failed attempt is on record in `status`. */
const undo = proxyActivities<KubernetesActivities>({ startToCloseTimeout: '2m', retry: { maximumAttempts: 1 } });
const COMPENSATION_ATTEMPTS = 6;

interface AnalysisOptions {
  /** Canary step index. */
  step?: number;
  /** Monitor window length. */
  windowMs?: number;
  /** The stable color. */
  baselineColor?: Color;
  /** Compare analyses outside the canary: the baseline is the window ending here (before the change). */
  baselineEnd?: number;
}

/** How a release stops early; thrown inside the pipeline, caught once at the top. */
class ReleaseStop extends Error {
  constructor(
    readonly outcome: Exclude<Outcome, 'released'>,
    readonly stopCause: Cause,
    message: string,
  ) {
    super(message);
    this.name = 'ReleaseStop';
  }
}

export async function release(input: ReleaseInput): Promise<ReleaseResult> {
  const { spec, initiator } = input;
  const releaseId = workflowInfo().workflowId;
  const plan = planRelease(spec);
  const now = (): string => new Date().toISOString();
  const specOf = new Map(spec.services.map((s) => [s.service, s]));

  const status: ReleaseStatus = initialStatus({ releaseId, spec, plan, initiator, startedAt: now() });
  const compensations: Compensation[] = [];
  const registered = new Set<string>();
  const heldLocks: string[] = [];
  let gate: ApprovalGate | undefined;
  let abortRequest: AbortRequest | undefined;
  let promoted = false;
  let skipCanary = false;
  /** When each service's traffic last changed (`<service>/production`, `<service>/staging`): analyses wait for their window after it. */
  const trafficChangedAt = new Map<string, number>();
  /** Where each service's production traffic is as this release left it: the picture drift is measured against. */
  const expectedTraffic = new Map<string, ExpectedTraffic>();
  /** Parts of the rollback left alone because traffic changed outside this release. */
  const leftAlone: string[] = [];

  const record = (event: string, extra: { service?: string; stage?: ReleaseStatus['timeline'][number]['stage'] } = {}): void => {
    status.timeline.push({ at: now(), ...extra, event });
    log.info(event, { releaseId, ...extra });
  };
  const setStage = (stage: ReleaseStatus['stage']): void => {
    status.stage = stage;
    upsertSearchAttributes([{ key: STAGE_KEY, value: stage }]);
  };
  const register = (key: string, service: string, label: string, action: UndoAction): void => {
    if (registered.has(key)) return;
    registered.add(key);
    compensations.push({ seq: compensations.length, service, label, action });
  };

  // ---- GitHub reporting -----------------------------------------------------------
  // Deployments per environment and a commit status on source.sha, each linking the release. They
  // report; they never decide: a GitHub failure is recorded in the timeline, the release goes on.
  const reportsToGitHub = spec.source ? patched(PATCHES.githubReporting.id) : false;
  const ghDeployments: { environment: string; deploymentId: number; last: string }[] = [];
  const environmentName = (env: 'staging' | 'production', service: string): string => (spec.services.length === 1 ? env : `${env}/${service}`);

  async function toGitHub(what: string, call: (source: NonNullable<typeof spec.source>) => Promise<void>): Promise<void> {
    if (!reportsToGitHub || !spec.source) return;
    try {
      await call(spec.source);
    } catch (err) {
      record(`GitHub: could not ${what}: ${failureMessage(err)}`);
    }
  }

  const openDeployment = (service: string, env: 'staging' | 'production', image: string): Promise<void> =>
    toGitHub(`open the ${environmentName(env, service)} deployment`, async ({ repo, sha }) => {
      const environment = environmentName(env, service);
      if (ghDeployments.some((d) => d.environment === environment)) return;
      const { deploymentId } = await github.createDeployment({ repo, sha, environment, releaseId, description: `${releaseId}: ${image}, started by ${initiator}` });
      ghDeployments.push({ environment, deploymentId, last: 'in_progress' });
      await github.setDeploymentStatus({ repo, deploymentId, state: 'in_progress', description: `releasing ${image}`, releaseId });
    });

  const markDeployments = (states: ('success' | 'failure' | 'inactive')[], description: string, only?: string): Promise<void> =>
    toGitHub(`update the deployments`, async ({ repo }) => {
      for (const d of ghDeployments.filter((x) => only === undefined || x.environment === only)) {
        for (const state of states) {
          if (d.last === state) continue;
          await github.setDeploymentStatus({ repo, deploymentId: d.deploymentId, state, description, releaseId });
          d.last = state;
        }
      }
    });

  const commitStatus = (state: 'pending' | 'success' | 'failure' | 'error', description: string): Promise<void> =>
    toGitHub(`set the commit status`, ({ repo, sha }) => github.setCommitStatus({ repo, sha, context: `tidegate/${spec.name}`, state, description, releaseId }));

  // ---- handlers ------------------------------------------------------------------------------
  setHandler(statusQuery, () => status);

  setHandler(
    approveUpdate,
    ({ by, comment }) => {
      if (!gate) throw new Error('no approval gate is open');
      gate.approvals.push({ by, at: now(), ...(comment ? { comment } : {}) });
      const svc = status.services.find((s) => s.service === gate?.service);
      if (svc) {
        svc.approvals = [...gate.approvals];
        svc.approvalsNeeded = approvalsNeeded(gate);
      }
      record(`approved by ${by}${comment ? `: ${comment}` : ''} (${gate.approvals.length}/${gate.rule.minApprovals})`, {
        service: gate.service,
        stage: 'approval',
      });
      return { service: gate.service, approvals: gate.approvals.length, needed: approvalsNeeded(gate) };
    },
    {
      validator: ({ by }) => {
        const verdict = checkApprove(gate, by, status.stage);
        if (!verdict.ok) throw new Error(verdict.reason);
      },
    },
  );

  setHandler(
    rejectUpdate,
    ({ by, reason }) => {
      if (!gate) throw new Error('no approval gate is open');
      gate.rejection = { by, at: now(), reason };
      const svc = status.services.find((s) => s.service === gate?.service);
      if (svc) svc.rejection = gate.rejection;
      record(`rejected by ${by}: ${reason}`, { service: gate.service, stage: 'approval' });
      return { service: gate.service };
    },
    {
      validator: ({ by, reason }) => {
        const verdict = checkReject(gate, by, reason, status.stage);
        if (!verdict.ok) throw new Error(verdict.reason);
      },
    },
  );

  setHandler(
    promoteUpdate,
    ({ by, full }) => {
      if (full) skipCanary = true;
      const what = full ? 'skipping the remaining canary steps' : (status.pausedFor ?? 'pause');
      promoted = true;
      record(`promoted by ${by}: ${what}`, { ...(status.service ? { service: status.service } : {}), stage: 'canary' });
      return { promoted: what };
    },
    {
      validator: ({ full }) => {
        if (status.outcome || status.stage === 'rollback') throw new Error(`the release is ${status.outcome ?? 'rolling back'}`);
        if (full && status.stage !== 'canary') throw new Error(`promote --full applies during the canary stage; the release is in stage "${status.stage}"`);
        if (!full && !status.pausedFor) throw new Error(`nothing to promote: the release is not paused (stage "${status.stage}")`);
      },
    },
  );

  const freedLocks = new Set<string>();
  setHandler(lockFreedSignal, (service) => void freedLocks.add(service));

  let pipelineScope: CancellationScope | undefined;
  setHandler(abortSignal, (req) => {
    if (abortRequest || status.outcome) return;
    abortRequest = req;
    record(req.supersededBy ? `superseded by ${req.supersededBy} (${req.by})` : `abort requested by ${req.by}: ${req.reason}`);
    pipelineScope?.cancel();
  });

  // ---- building blocks -----------------------------------------------------------------------
  const serviceStatus = (service: string): ServiceStatus => {
    const found = status.services.find((s) => s.service === service);
    if (!found) throw new Error(`unknown service ${service}`);
    return found;
  };

  async function stage(service: string, name: Stage, body: () => Promise<void>): Promise<void> {
    const st = serviceStatus(service);
    if (st.stages[name] === 'skipped') {
      record(`${name} skipped (not in the spec)`, { service, stage: name });
      return;
    }
    status.service = service;
    setStage(name);
    st.stages[name] = 'running';
    record(`${name} started`, { service, stage: name });
    try {
      await body();
      st.stages[name] = 'done';
      record(`${name} done`, { service, stage: name });
    } catch (err) {
      st.stages[name] = 'failed';
      throw err;
    }
  }

  /** Waits for `promote` (or the duration); a durable condition, not a sleeping activity. */
  async function pause(why: string, durationMs?: number): Promise<void> {
    promoted = false;
    status.pausedFor = why;
    record(`paused: ${why}`);
    if (durationMs === undefined) await condition(() => promoted);
    else await condition(() => promoted, durationMs, { summary: why });
    status.pausedFor = undefined;
  }

  /** Where the service's production traffic goes now (a read; retried like any activity). */
  const observeTraffic = (target: ProductionTarget, why: string): Promise<TrafficState> =>
    k8s.observeTraffic.executeWithOptions({ startToCloseTimeout: '1m', retry: RETRY, summary: `read where ${target.service} traffic goes ${why}` }, [target]);

  /**
   * Before a step that moves traffic or takes capacity away: reads where the service's traffic goes
   * now and, when someone else changed it since this release last did (drift), pauses with the
   * difference instead of acting on a stale picture. A promote means "do it anyway"; an abort rolls
   * back what is still this release's. Returns the traffic as read last (undefined for releases
   * recorded before this guard existed, which replay without it).
   */
  async function guardAgainstDrift(target: ProductionTarget, before: string, promoteMeans: string): Promise<TrafficState | undefined> {
    const expected = expectedTraffic.get(target.service);
    if (!expected || !patched(PATCHES.driftGuard.id)) return undefined;
    const observed = await observeTraffic(target, `before ${before}`);
    const drift = trafficDrift(expected, observed);
    if (!drift) return observed;
    record(`drift: ${target.service} traffic changed outside this release: ${drift}`, { service: target.service });
    await pause(`traffic of ${target.service} changed outside this release (${drift}); not ${before} — promote to ${promoteMeans}, abort to roll back what is still this release's`);
    return observeTraffic(target, `after promote, before ${before}`);
  }

  async function acquireLock(service: string): Promise<void> {
    let signalled = false;
    const giveUpAt = Date.now() + 3_600_000;
    for (let attempt = 0; ; attempt++) {
      try {
        await startChild(serviceLock, {
          workflowId: serviceLockId(service),
          args: [{ service, holder: releaseId }],
          // The lock outlives this run's scopes: an abort cancels the pipeline, never the lock, which
          // is released explicitly after the rollback (or notices that its holder is gone).
          parentClosePolicy: ParentClosePolicy.ABANDON,
          cancellationType: ChildWorkflowCancellationType.ABANDON,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          memo: { holder: releaseId },
          staticSummary: `${service} is being released by ${releaseId}`,
        });
        heldLocks.push(service);
        return;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      const lock = await coordination.describeServiceLock({ service });
      if (lock.holder === releaseId) {
        heldLocks.push(service);
        return;
      }
      if (!lock.holder) continue; // released between our start and the describe: try again
      if (!lock.holderRunning) {
        record(`breaking stale lock on ${service} held by ${lock.holder}, which no longer runs`, { stage: 'release' });
        await coordination.breakStaleLock({ service, holder: lock.holder });
        continue;
      }
      if (!input.supersede) {
        throw new ReleaseStop('failed', 'locked', `${service} is being released by ${lock.holder}; wait for it, abort it, or start with --supersede`);
      }
      if (!signalled) {
        record(`superseding ${lock.holder}: asking it to roll back`, { service });
        await getExternalWorkflowHandle(lock.holder).signal(abortSignal, {
          by: initiator,
          reason: `superseded by ${releaseId}`,
          supersededBy: releaseId,
        });
        signalled = true;
      }
      if (Date.now() > giveUpAt) throw ApplicationFailure.nonRetryable(`${lock.holder} did not finish rolling back within an hour`, 'SupersedeTimeout');
      // The superseded release signals lockFreed once it has unlocked; the timer is only a fallback
      // (2 s, 4 s, 8 s, then every 16 s) for a holder that ends without signalling.
      // A lockFreed that already arrived means: retry at once (and wait normally next time).
      if (!freedLocks.delete(service)) {
        await condition(() => freedLocks.has(service), 2_000 * 2 ** Math.min(attempt, 3), { summary: `waiting for ${lock.holder} to roll back` });
      }
    }
  }

  async function runAnalyses(svc: ServiceSpec, where: Stage, names: string[], color: Color | 'staging', opts: AnalysisOptions = {}): Promise<void> {
    const at = where === 'canary' && opts.step !== undefined ? `canary step ${opts.step + 1}` : where;
    /** A verdict that ends the release now, or undefined (Successful, or Inconclusive under "pause"). */
    const stopFor = (name: string, verdict: RunVerdict): ReleaseStop | undefined => {
      if (verdict.phase === 'Failed') return new ReleaseStop('rolled-back', 'analysis', `analysis ${name} failed at ${at} of ${svc.service}: ${verdict.reason ?? 'failed'}`);
      if (verdict.phase === 'Inconclusive' && spec.analyses[name]?.onInconclusive === 'rollback') {
        return new ReleaseStop('rolled-back', 'analysis', `analysis ${name} inconclusive at ${at} of ${svc.service}: ${verdict.reason ?? 'inconclusive'}`);
      }
      return undefined;
    };
    let verdicts: RunVerdict[];
    if (patched(PATCHES.analysisFailFast.id)) {
      // The first verdict that rolls back acts at once: the analyses still measuring are cancelled
      // (their runs are recorded as cut short), so traffic leaves a bad canary within seconds.
      const scope = new CancellationScope();
      const runs = names.map((name) =>
        scope.run(async () => {
          const verdict = await runAnalysis(svc, where, name, color, opts);
          const stop = stopFor(name, verdict);
          if (stop) throw stop;
          return verdict;
        }),
      );
      try {
        verdicts = await Promise.all(runs);
      } catch (err) {
        scope.cancel();
        await Promise.allSettled(runs);
        for (const run of status.analyses.filter((a) => a.phase === 'Running' && a.service === svc.service && a.stage === where)) {
          run.phase = 'Inconclusive';
          run.reason = 'cut short: another analysis of this step decided the rollback';
          run.endedAt = now();
        }
        throw err;
      }
    } else {
      // how releases started before fail-fast replay: every verdict first, then act in order
      verdicts = await Promise.all(names.map((name) => runAnalysis(svc, where, name, color, opts)));
      for (const [i, verdict] of verdicts.entries()) {
        const name = names[i] ?? '?';
        const stop = stopFor(name, verdict);
        if (stop) throw stop;
        if (verdict.phase === 'Inconclusive') await pause(`analysis ${name} inconclusive at ${at} of ${svc.service}: ${verdict.reason ?? 'inconclusive'} — promote to continue, abort to roll back`);
      }
      return;
    }
    for (const [i, verdict] of verdicts.entries()) {
      if (verdict.phase === 'Inconclusive') {
        await pause(`analysis ${names[i] ?? '?'} inconclusive at ${at} of ${svc.service}: ${verdict.reason ?? 'inconclusive'} — promote to continue, abort to roll back`);
      }
    }
  }

  async function runAnalysis(svc: ServiceSpec, where: Stage, name: string, color: Color | 'staging', opts: AnalysisOptions): Promise<RunVerdict> {
    const analysis = spec.analyses[name];
    if (!analysis) throw ApplicationFailure.nonRetryable(`unknown analysis ${name}`, 'InvalidSpec');
    const namespace = color === 'staging' ? svc.staging?.namespace : svc.production.namespace;
    const render = (template: string, forColor: Color | 'staging'): string =>
      renderQuery(template, {
        service: svc.service,
        version: svc.version,
        color: forColor,
        ...(opts.baselineColor ? { baselineColor: opts.baselineColor } : {}),
        ...(namespace ? { namespace } : {}),
      });
    // (releases started before compare analyses had metrics carry `query` in their input)
    const template = analysis.kind === 'threshold' ? analysis.query : (analysis.metrics?.[0]?.query ?? (analysis as { query?: string }).query ?? '');
    const query = render(template, color);
    const run: AnalysisRun = {
      id: `${svc.service}/${where}${opts.step !== undefined ? `/${opts.step}` : ''}/${name}`,
      analysis: name,
      kind: analysis.kind,
      service: svc.service,
      stage: where,
      ...(opts.step !== undefined ? { step: opts.step } : {}),
      color,
      query,
      phase: 'Running',
      startedAt: now(),
      measurements: [],
    };
    status.analyses.push(run);
    await waitForWindow(svc, where, name, analysis, color);
    if (analysis.kind === 'compare') {
      if (!patched(PATCHES.compareJudge.id)) {
        // How releases started before the compare judge existed replay: a compare analysis never passed.
        run.phase = 'Inconclusive';
        run.reason = 'the compare judge is not implemented yet';
        record(`analysis ${name}: Inconclusive (${run.reason})`, { service: svc.service, stage: where });
        return { phase: 'Inconclusive', reason: run.reason };
      }
      const verdict = await runCompare(svc, where, name, analysis, color, opts, run, render);
      run.endedAt = now();
      run.phase = verdict.phase;
      if (verdict.reason) run.reason = verdict.reason;
      record(`analysis ${name}: ${verdict.phase}${verdict.reason ? ` (${verdict.reason})` : ''}`, { service: svc.service, stage: where });
      return verdict;
    }
    const take = (observations: { at: string; observation: Observation }[]): void => {
      for (const { at, observation } of observations) {
        // A NaN recorded as a bare number arrives as null. Releases recorded before values were
        // spelled out judged that null as a number; new ones judge it NaN, i.e. Inconclusive.
        const legacyNull = observation.kind === 'value' && (observation.value as MetricValue | null) === null && !patched(PATCHES.nanInconclusive.id);
        const c = classify(analysis, observation, { legacyNull });
        const m: Measurement = { at, phase: c.phase, ...(c.message ? { message: c.message } : {}) };
        if (observation.kind === 'value') m.value = toMetricValue(toNumber(observation.value));
        run.measurements.push(m);
      }
    };
    let verdict: RunVerdict = { phase: 'Running' };
    if (opts.windowMs === undefined) {
      const limits = analysis;
      for (;;) {
        take(await metrics.measure.executeWithOptions({ startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 }, summary: `measure ${name} on ${color}` }, [{ query }]));
        verdict = judgeRun(limits, run.measurements);
        if (verdict.phase !== 'Running') break;
        await sleep(analysis.interval, { summary: `next ${name} measurement` });
      }
    } else {
      // Monitor window: one range query per batch; the run must hold for the whole window.
      const count = Math.max(1, Math.floor(opts.windowMs / analysis.interval));
      const limits = { ...analysis, count };
      const end = Date.now() + opts.windowMs;
      let from = Date.now();
      while (verdict.phase === 'Running' && Date.now() < end) {
        await sleep(Math.min(monitorBatchMs(opts.windowMs, analysis.interval), end - Date.now()), { summary: `monitor ${name}` });
        const to = Date.now();
        take(await metrics.measure.executeWithOptions({ startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 }, summary: `measure ${name} on ${color} (window)` }, [
          { query, range: { start: new Date(from + 1).toISOString(), end: new Date(to).toISOString(), stepMs: analysis.interval } },
        ]));
        from = to;
        verdict = judgeRun(limits, run.measurements);
      }
      if (verdict.phase === 'Running' || (verdict.phase === 'Successful' && run.measurements.length === 0)) {
        verdict = { phase: 'Inconclusive', reason: `the window ended with ${run.measurements.filter((m) => m.phase !== 'Error').length} of ${count} measurements` };
      }
    }
    run.endedAt = now();
    run.phase = verdict.phase;
    if (verdict.reason) run.reason = verdict.reason;
    record(`analysis ${name}: ${verdict.phase}${verdict.reason ? ` (${verdict.reason})` : ''}`, { service: svc.service, stage: where });
    return verdict;
  }

  /**
   * The minimum-traffic rule: the first measurement waits until `initialDelay` (by default the
   * query's longest range window) after the last traffic change of what it measures, so that a
   * window right after a weight change holds the new traffic only — never a 0/0 from a color that
   * had no requests yet, nor a mix of before and after.
   */
  async function waitForWindow(svc: ServiceSpec, where: Stage, name: string, analysis: AnalysisSpec, color: Color | 'staging'): Promise<void> {
    // (releases started before compare analyses had `metrics` carry one `query` in their input)
    const queries = analysis.kind === 'threshold' ? [analysis.query] : (analysis.metrics?.map((m) => m.query) ?? [(analysis as { query?: string }).query ?? '']);
    const delayMs = analysis.initialDelay ?? longestWindowMs(queries);
    const changedAt = trafficChangedAt.get(`${svc.service}/${color === 'staging' ? 'staging' : 'production'}`);
    const waitMs = waitBeforeMeasuringMs({ delayMs, now: Date.now(), ...(changedAt !== undefined ? { changedAt } : {}) });
    // (releases recorded before this rule measured at once)
    if (waitMs <= 0 || !patched(PATCHES.analysisInitialDelay.id)) return;
    record(`analysis ${name}: first measurement in ${Math.ceil(waitMs / 1000)}s, once its ${Math.round(delayMs / 1000)}s window holds only traffic after the last change`, { service: svc.service, stage: where });
    await sleep(waitMs, { summary: `${name}: wait for the window to hold only new traffic` });
  }

  /**
   * A compare analysis (Kayenta style): `count` samples per `interval` of each metric, for the color
   * under test and for a baseline, judged by the Mann-Whitney test and scored by weight. The baseline
   * is the stable color over the same window during the canary; in staging and the monitor window,
   * where nothing else serves the same traffic, it is the same series before the release changed it
   * (staging before its deploy, the old color before traffic first moved). A metrics backend that
   * keeps failing makes the run Inconclusive — never a pass.
   */
  async function runCompare(
    svc: ServiceSpec,
    where: Stage,
    name: string,
    analysis: CompareAnalysisSpec,
    color: Color | 'staging',
    opts: AnalysisOptions,
    run: AnalysisRun,
    render: (template: string, forColor: Color | 'staging') => string,
  ): Promise<RunVerdict> {
    const windowMs = where === 'monitor' && opts.windowMs !== undefined ? opts.windowMs : analysis.count * analysis.interval;
    const baselineColor: Color | 'staging' = color === 'staging' ? 'staging' : (opts.baselineColor ?? otherColor(color));
    await sleep(windowMs, { summary: `collect ${name} samples on ${color} and ${baselineColor} (${Math.round(windowMs / 1000)}s)` });
    const end = Date.now();
    const start = end - windowMs;
    const baselineEnd = where === 'canary' ? end : Math.min(opts.baselineEnd ?? start, start);
    const windows = {
      canary: { color, start: new Date(start).toISOString(), end: new Date(end).toISOString() },
      baseline: { color: baselineColor, start: new Date(baselineEnd - windowMs).toISOString(), end: new Date(baselineEnd).toISOString() },
    };
    run.compare = { windows, metrics: [] };

    /** The series' values in a window; a failing backend is retried up to consecutiveErrorLimit times. */
    const sample = async (metric: string, query: string, side: 'canary' | 'baseline', from: number, to: number): Promise<{ values: number[] } | { error: string }> => {
      for (let attempt = 0; ; attempt++) {
        const observations = await metrics.measure.executeWithOptions(
          { startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 }, summary: `measure ${name}${analysis.metrics.length > 1 ? `/${metric}` : ''} on ${side === 'canary' ? color : baselineColor}` },
          [{ query, range: { start: new Date(from).toISOString(), end: new Date(to).toISOString(), stepMs: analysis.interval } }],
        );
        const failed = observations.find((o) => o.observation.kind === 'error');
        const tag = analysis.metrics.length > 1 ? { metric } : {};
        if (!failed) {
          const values: number[] = [];
          for (const { at, observation } of observations) {
            if (observation.kind === 'value') {
              const value = toNumber(observation.value); // non-finite values are dropped by the judge
              values.push(value);
              const recorded = toMetricValue(value);
              run.measurements.push({ at, phase: 'Successful', ...tag, ...(side === 'canary' ? { value: recorded } : { baseline: recorded }) });
            } else if (observation.kind === 'empty') {
              run.measurements.push({ at, phase: 'Inconclusive', ...tag, message: `${side}: ${observation.message}` });
            }
          }
          return { values };
        }
        const message = failed.observation.kind === 'error' ? failed.observation.message : 'error';
        run.measurements.push({ at: failed.at, phase: 'Error', ...tag, message: `${side}: ${message}` });
        if (attempt >= analysis.consecutiveErrorLimit) return { error: message };
        await sleep(analysis.interval, { summary: `retry ${name} measurement` });
      }
    };

    const results = await Promise.all(
      analysis.metrics.map(async (metric): Promise<CompareMetricResult & { backendDown: boolean }> => {
        const [canary, baseline] = await Promise.all([
          sample(metric.name, render(metric.query, color), 'canary', start, end),
          sample(metric.name, render(metric.query, baselineColor), 'baseline', baselineEnd - windowMs, baselineEnd),
        ]);
        // a single-metric analysis (`query:` shorthand) is named after the analysis itself
        const base = { name: analysis.metrics.length === 1 ? name : metric.name, weight: metric.weight, critical: metric.critical };
        if ('error' in canary || 'error' in baseline) {
          const why = 'error' in canary ? canary.error : 'error' in baseline ? baseline.error : '';
          return { ...base, classification: 'NoData', verdict: 'NoData', reason: `metrics backend failing after ${analysis.consecutiveErrorLimit + 1} attempts: ${why}`, backendDown: true };
        }
        const judged = classifyMetric(
          { canary: canary.values, baseline: baseline.values },
          { direction: metric.direction, confidence: analysis.confidence, minEffect: analysis.minEffect, outliers: analysis.outliers },
        );
        return {
          ...base,
          classification: judged.classification,
          verdict: judged.verdict,
          reason: judged.reason,
          backendDown: false,
          ...(judged.test ? { pValue: judged.test.pValue, shift: judged.test.shift } : {}),
          ...(judged.relativeEffect !== undefined ? { relativeEffect: judged.relativeEffect } : {}),
          ...(judged.medians ? { medians: judged.medians } : {}),
        };
      }),
    );
    run.compare.metrics = results.map(({ backendDown: _, ...r }) => r);
    const scored = scoreMetrics(results, { passScore: analysis.passScore, marginalScore: analysis.marginalScore });
    if (scored.score !== undefined) run.compare.score = scored.score;
    const down = results.filter((r) => r.backendDown);
    if (down.length > 0 && scored.phase === 'Successful') {
      return { phase: 'Inconclusive', reason: `the metrics backend failed for ${down.map((d) => d.name).join(', ')}; ${scored.reason}` };
    }
    if (scored.phase === 'Successful') return { phase: scored.phase, reason: scored.reason };
    const why = results.filter((r) => r.verdict !== 'Pass').map((r) => `${r.name}: ${r.reason}`);
    return { phase: scored.phase, reason: `${scored.reason} — ${why.join('; ')}` };
  }

  // ---- one service ---------------------------------------------------------------------------
  const targetOf = (svc: ServiceSpec): ProductionTarget => ({
    service: svc.service,
    namespace: svc.production.namespace,
    blueGreen: svc.production.blueGreen,
    ...(svc.production.canary ? { traffic: svc.production.canary.traffic } : {}),
  });

  /** The pre-release state of every service, taken before the release changes anything. */
  async function snapshotAll(): Promise<Map<string, ProductionSnapshot>> {
    const snapshots = new Map<string, ProductionSnapshot>();
    for (const p of plan.services) {
      const svc = specOf.get(p.service);
      if (!svc) continue;
      const snapshot = await k8s.snapshotProduction.executeWithOptions(
        { startToCloseTimeout: '2m', retry: RETRY, summary: `snapshot ${svc.service} in ${svc.production.namespace}` },
        [targetOf(svc)],
      );
      const st = serviceStatus(svc.service);
      st.activeColor = snapshot.activeColor;
      st.newColor = otherColor(snapshot.activeColor);
      record(`snapshot: ${snapshot.activeColor} live with ${snapshot.deployments[snapshot.activeColor].image ?? 'no image'}; releasing to ${st.newColor}`, { service: svc.service });
      expectedTraffic.set(svc.service, expectedFromSnapshot(snapshot, svc.production.canary?.traffic.router));
      snapshots.set(svc.service, snapshot);
    }
    return snapshots;
  }

  async function releaseService(svc: ServiceSpec, steps: PlannedStep[], snapshot: ProductionSnapshot): Promise<{ target: ProductionTarget; snapshot: ProductionSnapshot; newColor: Color }> {
    const st = serviceStatus(svc.service);
    const prod = svc.production;
    const target = targetOf(svc);
    status.service = svc.service;
    const newColor = otherColor(snapshot.activeColor);
    /** When traffic first left the old color: the end of the monitor window's baseline. */
    let trafficMovedAt: number | undefined;

    await stage(svc.service, 'staging', async () => {
      const stg = svc.staging;
      if (!stg) return;
      const stagingSnapshot = await k8s.snapshotStaging({ namespace: stg.namespace, deployment: stg.deployment });
      const beforeDeploy = Date.now();
      await openDeployment(svc.service, 'staging', svc.image);
      register(`staging:${svc.service}`, svc.service, `restore staging ${stg.namespace}/${stg.deployment} to ${stagingSnapshot.deployment.image ?? 'its previous state'}`, {
        type: 'restoreStaging',
        snapshot: stagingSnapshot,
      });
      await k8s.deployImage.executeWithOptions(
        { startToCloseTimeout: stg.rolloutTimeout + 60_000, heartbeatTimeout: '30s', retry: RETRY, summary: `deploy ${svc.image} to staging` },
        [{ namespace: stg.namespace, deployment: stg.deployment, image: svc.image, timeoutMs: stg.rolloutTimeout }],
      );
      trafficChangedAt.set(`${svc.service}/staging`, Date.now());
      if (stg.verify.length > 0) await runAnalyses(svc, 'staging', stg.verify, 'staging', { baselineEnd: beforeDeploy });
      await markDeployments(['success'], `${svc.image} verified in staging`, environmentName('staging', svc.service));
    });

    const deployNewColor = async (): Promise<void> => {
      await openDeployment(svc.service, 'production', svc.image);
      register(`workloads:${svc.service}`, svc.service, `restore ${prod.blueGreen.deploymentPrefix}-blue/-green to their snapshot`, { type: 'restoreWorkloads', target, snapshot });
      const replicas = Math.max(1, snapshot.deployments[snapshot.activeColor].replicas);
      await k8s.deployImage.executeWithOptions(
        { startToCloseTimeout: prod.rolloutTimeout + 60_000, heartbeatTimeout: '30s', retry: RETRY, summary: `deploy ${svc.image} to ${newColor}` },
        [{ namespace: prod.namespace, deployment: `${prod.blueGreen.deploymentPrefix}-${newColor}`, image: svc.image, replicas, timeoutMs: prod.rolloutTimeout }],
      );
      if (prod.blueGreen.previewService) {
        register(`traffic:${svc.service}`, svc.service, `return ${svc.service} traffic to ${snapshot.activeColor}`, { type: 'restoreTraffic', target, snapshot });
        await k8s.pointPreview({ target, color: newColor });
      }
    };

    await stage(svc.service, 'canary', async () => {
      await deployNewColor();
      for (const planned of steps) {
        if (skipCanary) {
          record(`canary step ${planned.index + 1} (${planned.label}) skipped by promote --full`, { service: svc.service, stage: 'canary' });
          continue;
        }
        st.step = { index: planned.index, label: planned.label, total: steps.length };
        const step = planned.step;
        if (step.kind === 'setWeight') {
          await guardAgainstDrift(target, `setting ${step.weight}% on ${newColor}`, `set ${step.weight}% on ${newColor} anyway`);
          register(`traffic:${svc.service}`, svc.service, `return ${svc.service} traffic to ${snapshot.activeColor}`, { type: 'restoreTraffic', target, snapshot });
          trafficMovedAt ??= Date.now();
          await k8s.setCanaryWeight.executeWithOptions({ startToCloseTimeout: '2m', retry: RETRY, summary: `${step.weight}% to ${newColor}` }, [{ target, color: newColor, weight: step.weight }]);
          expectedTraffic.set(svc.service, expectedAfterWeight(target.traffic?.router, snapshot.activeColor, newColor, step.weight));
          trafficChangedAt.set(`${svc.service}/production`, Date.now());
          st.canaryWeight = step.weight;
          record(`canary weight ${step.weight}% on ${newColor}`, { service: svc.service, stage: 'canary' });
        } else if (step.kind === 'pause') {
          await pause(step.durationMs === undefined ? `canary step ${planned.index + 1}: waiting for promote` : `canary step ${planned.index + 1}: ${planned.label}`, step.durationMs);
        } else {
          await runAnalyses(svc, 'canary', step.analyses, newColor, { step: planned.index, baselineColor: snapshot.activeColor });
        }
      }
      st.step = undefined;
    });

    await stage(svc.service, 'approval', async () => {
      const rule = prod.approval;
      if (!rule) return;
      gate = { service: svc.service, rule, initiator, open: true, approvals: [] };
      st.approvalsNeeded = rule.minApprovals;
      const decided = await condition(() => isApproved(gate as ApprovalGate) || Boolean(gate?.rejection), rule.timeout, {
        summary: `approval of ${svc.service}: ${rule.minApprovals} of ${rule.approvers.join(', ')}`,
      });
      const closed = gate;
      gate.open = false;
      gate = undefined;
      if (closed.rejection) throw new ReleaseStop('rejected', 'rejected', `${closed.rejection.by} rejected ${svc.service}: ${closed.rejection.reason}`);
      if (!decided) {
        const why = `approval of ${svc.service} timed out after ${Math.round(rule.timeout / 60_000)}m with ${closed.approvals.length} of ${rule.minApprovals} approvals`;
        if (rule.onTimeout === 'rollback') throw new ReleaseStop('rolled-back', 'timeout', why);
        record(`${why}; proceeding (onTimeout: proceed)`, { service: svc.service, stage: 'approval' });
      }
    });

    await stage(svc.service, 'switch', async () => {
      if (!prod.canary) await deployNewColor();
      await guardAgainstDrift(target, `switching to ${newColor}`, `switch to ${newColor} anyway`);
      register(`traffic:${svc.service}`, svc.service, `return ${svc.service} traffic to ${snapshot.activeColor}`, { type: 'restoreTraffic', target, snapshot });
      trafficMovedAt ??= Date.now();
      await k8s.switchActive.executeWithOptions({ startToCloseTimeout: '2m', retry: RETRY, summary: `switch ${svc.service} to ${newColor}` }, [{ target, color: newColor }]);
      expectedTraffic.set(svc.service, expectedAfterSwitch(target.traffic?.router, newColor));
      trafficChangedAt.set(`${svc.service}/production`, Date.now());
      st.canaryWeight = 100;
      st.activeColor = newColor;
    });

    await stage(svc.service, 'monitor', async () => {
      const mon = prod.monitor;
      if (!mon) return;
      if (mon.analyses.length === 0) await sleep(mon.duration, { summary: `monitor ${svc.service}` });
      else await runAnalyses(svc, 'monitor', mon.analyses, newColor, { windowMs: mon.duration, baselineColor: snapshot.activeColor, ...(trafficMovedAt !== undefined ? { baselineEnd: trafficMovedAt } : {}) });
    });
    return { target, snapshot, newColor };
  }

  // ---- the pipeline --------------------------------------------------------------------------
  async function pipeline(): Promise<void> {
    for (const service of [...specOf.keys()].sort()) await acquireLock(service);
    if (abortRequest) throw new ReleaseStop('aborted', abortRequest.supersededBy ? 'superseded' : 'aborted', abortRequest.reason);
    record(`locked ${heldLocks.join(', ')}`, { stage: 'release' });
    await commitStatus('pending', `${releaseId} is being released`);

    if (plan.build && spec.build && spec.source) {
      const build = spec.build;
      const source = spec.source;
      setStage('build');
      for (const st of status.services) st.stages.build = 'running';
      // (releases started before dispatch was supported called awaitChecks whatever the spec said)
      const dispatch = build.dispatch && patched(PATCHES.buildDispatch.id) ? build.dispatch : undefined;
      const gates: { what: string; run: () => Promise<BuildCheckResult> }[] = [];
      if (build.requiredChecks.length > 0 || !dispatch) {
        gates.push({
          what: `${build.requiredChecks.join(', ')} on ${source.repo}@${source.sha}`,
          run: () =>
            github.awaitChecks.executeWithOptions(
              { startToCloseTimeout: build.timeout + 60_000, heartbeatTimeout: '1m', retry: RETRY, summary: `checks on ${source.sha}` },
              [{ repo: source.repo, sha: source.sha, requiredChecks: build.requiredChecks, timeoutMs: build.timeout }],
            ),
        });
      }
      if (dispatch) {
        gates.push({
          what: `a run of workflow ${dispatch.workflow} on ${source.repo}@${dispatch.ref}`,
          run: () =>
            github.dispatchWorkflow.executeWithOptions(
              { startToCloseTimeout: build.timeout + 60_000, heartbeatTimeout: '1m', retry: RETRY, summary: `workflow ${dispatch.workflow} on ${dispatch.ref}` },
              [{ repo: source.repo, workflow: dispatch.workflow, ref: dispatch.ref, ...(dispatch.inputs ? { inputs: dispatch.inputs } : {}), timeoutMs: build.timeout }],
            ),
        });
      }
      for (const gate of gates) {
        record(`build gate: waiting for ${gate.what}`, { stage: 'build' });
        const result = await gate.run().catch((err: unknown) => {
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
      record('build gate passed', { stage: 'build' });
    } else {
      record('build skipped (not in the spec)', { stage: 'build' });
    }

    const snapshots = await snapshotAll();
    const released: { svc: ServiceSpec; target: ProductionTarget; snapshot: ProductionSnapshot; newColor: Color }[] = [];
    for (const p of plan.services) {
      const svc = specOf.get(p.service);
      const snapshot = snapshots.get(p.service);
      if (!svc || !snapshot) continue;
      released.push({ svc, ...(await releaseService(svc, p.steps, snapshot)) });
    }

    // Old colors stay warm for instant rollback, then scale down.
    setStage('scale-down');
    await Promise.all(
      released.map(async ({ svc, snapshot, target }) => {
        const delay = svc.production.blueGreen.scaleDownDelay;
        const old = `${svc.production.blueGreen.deploymentPrefix}-${snapshot.activeColor}`;
        record(`keeping ${snapshot.activeColor} warm for ${Math.round(delay / 1000)}s`, { service: svc.service });
        await sleep(delay, { summary: `scale-down delay for ${svc.service}-${snapshot.activeColor}` });
        // never take down the color that serves: traffic may have been moved back since the switch
        const observed = await guardAgainstDrift(target, `scaling ${old} down`, `end the release without scaling ${old} down`);
        if (observed && servingColors(observed).includes(snapshot.activeColor)) {
          record(`left ${old} running: it serves ${svc.service} traffic`, { service: svc.service });
          return;
        }
        await k8s.scaleDeployment({ namespace: svc.production.namespace, deployment: old, replicas: 0 });
        record(`scaled ${old} down`, { service: svc.service });
      }),
    );
  }

  /**
   * What of an undo is still this release's to do, read from the cluster first (drift guard): a
   * traffic undo is skipped when traffic is neither where the release left it nor back as before
   * (someone else moved it: their change stands), and a workload undo spares every color that
   * serves now but did not before the release (restoring it would take capacity from live traffic).
   */
  async function stillOurs(c: Compensation): Promise<{ skip: string } | { spare: Color[] }> {
    const action = c.action;
    if (action.type === 'restoreStaging' || !patched(PATCHES.driftGuard.id)) return { spare: [] };
    const router = action.target.traffic?.router;
    const observed = await observeTraffic(action.target, `before: ${c.label}`);
    if (action.type === 'restoreTraffic') {
      const expected = expectedTraffic.get(c.service);
      const drift = expected ? trafficDrift(expected, observed) : undefined;
      if (drift && !matchesSnapshot(action.snapshot, router, observed)) return { skip: `${c.service} traffic changed outside this release (${drift}); left as it is` };
      return { spare: [] };
    }
    const before = expectedFromSnapshot(action.snapshot, router);
    const servedBefore = servingColors({ ...before, replicas: { blue: action.snapshot.deployments.blue.replicas, green: action.snapshot.deployments.green.replicas } });
    return { spare: servingColors(observed).filter((color) => !servedBefore.includes(color)) };
  }

  async function compensate(): Promise<string[]> {
    const failures: string[] = [];
    for (const c of rollbackOrder(compensations)) {
      const rec = { label: c.label, service: c.service, status: 'pending' as const, attempts: 0, errors: [] as string[] };
      status.compensations.push(rec);
      const entry = status.compensations[status.compensations.length - 1];
      if (!entry) continue;
      const scope = await stillOurs(c).catch((err: unknown) => ({ failed: `could not read where ${c.service} traffic goes before undoing: ${failureMessage(err)}` }));
      if ('failed' in scope) {
        entry.status = 'failed';
        entry.errors.push(scope.failed);
        failures.push(`${c.label}: ${scope.failed}`);
        record(`rollback step failed: ${c.label}: ${scope.failed}`, { service: c.service, stage: 'rollback' });
        continue;
      }
      if ('skip' in scope) {
        entry.status = 'skipped';
        entry.note = scope.skip;
        leftAlone.push(`${c.label}: ${scope.skip}`);
        record(`rollback: skipped "${c.label}": ${scope.skip}`, { service: c.service, stage: 'rollback' });
        continue;
      }
      if (scope.spare.length > 0) {
        entry.note = `left ${scope.spare.join(' and ')} as it is: it serves traffic now`;
        record(`rollback: ${entry.note}`, { service: c.service, stage: 'rollback' });
      }
      for (let attempt = 1; attempt <= COMPENSATION_ATTEMPTS; attempt++) {
        entry.attempts = attempt;
        try {
          const opts = { startToCloseTimeout: '2m', retry: { maximumAttempts: 1 }, summary: c.label };
          if (c.action.type === 'restoreTraffic') await undo.restoreTraffic.executeWithOptions(opts, [{ target: c.action.target, snapshot: c.action.snapshot }]);
          else if (c.action.type === 'restoreWorkloads') {
            await undo.restoreWorkloads.executeWithOptions(opts, [{ target: c.action.target, snapshot: c.action.snapshot, ...(scope.spare.length > 0 ? { spare: scope.spare } : {}) }]);
          } else await undo.restoreStaging.executeWithOptions(opts, [{ snapshot: c.action.snapshot }]);
          entry.status = 'done';
          record(`rollback: ${c.label}${attempt > 1 ? ` (attempt ${attempt})` : ''}`, { service: c.service, stage: 'rollback' });
          break;
        } catch (err) {
          const message = failureMessage(err);
          entry.errors.push(message);
          const permanent = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable;
          if (permanent || attempt === COMPENSATION_ATTEMPTS) {
            entry.status = 'failed';
            failures.push(`${c.label}: ${message}`);
            record(`rollback step failed: ${c.label}: ${message}`, { service: c.service, stage: 'rollback' });
            break;
          }
          await sleep(Math.min(30_000, 1_000 * 2 ** (attempt - 1)), { summary: `retry: ${c.label}` });
        }
      }
    }
    return failures;
  }

  // ---- run -----------------------------------------------------------------------------------
  let outcome: Outcome = 'released';
  let cause: Cause | undefined;
  let reason: string | undefined;
  record(`release ${releaseId} started by ${initiator}`, { stage: 'release' });
  try {
    pipelineScope = new CancellationScope();
    await pipelineScope.run(pipeline);
  } catch (err) {
    if (err instanceof ReleaseStop) {
      outcome = err.outcome;
      cause = err.stopCause;
      reason = err.message;
    } else if (abortRequest && isCancellation(err)) {
      outcome = 'aborted';
      cause = abortRequest.supersededBy ? 'superseded' : 'aborted';
      reason = abortRequest.supersededBy ? `superseded by ${abortRequest.supersededBy}` : `aborted by ${abortRequest.by}: ${abortRequest.reason}`;
    } else {
      outcome = 'failed';
      cause = 'error';
      reason = failureMessage(err);
    }
    const rollingBack = compensations.length > 0;
    setStage('rollback');
    record(`${outcome}: ${reason}${rollingBack ? '; rolling back' : ''}`, { stage: 'rollback' });
    const failures = await CancellationScope.nonCancellable(compensate);
    if (failures.length > 0) {
      reason = `${reason}; rollback incomplete: ${failures.join('; ')}`;
      outcome = 'failed';
    } else if (outcome === 'failed' && rollingBack) {
      outcome = 'rolled-back';
    }
    if (leftAlone.length > 0) reason = `${reason}; the rollback left alone what changed outside this release: ${leftAlone.join('; ')}`;
  } finally {
    await CancellationScope.nonCancellable(async () => {
      for (const service of heldLocks) {
        await getExternalWorkflowHandle(serviceLockId(service))
          .signal(unlockSignal, releaseId)
          .catch((err: unknown) => log.warn('could not unlock', { service, error: failureMessage(err) }));
        if (abortRequest?.supersededBy) {
          await getExternalWorkflowHandle(abortRequest.supersededBy)
            .signal(lockFreedSignal, service)
            .catch((err: unknown) => log.warn('could not tell the superseding release', { service, error: failureMessage(err) }));
        }
      }
    });
  }
  await CancellationScope.nonCancellable(async () => {
    if (outcome === 'released') {
      await markDeployments(['success'], `released: ${spec.services.map((s) => s.image).join(', ')} live`);
      await commitStatus('success', `${releaseId} released`);
    } else {
      const why = (reason ?? outcome).slice(0, 120);
      await markDeployments(['failure'], `${outcome}: ${why}`);
      await markDeployments(['inactive'], ghDeployments.length > 0 && outcome !== 'failed' ? 'rolled back to the previous release' : `${outcome}`);
      await commitStatus('failure', `${releaseId} ${outcome}: ${why}`);
    }
  });
  status.outcome = outcome;
  if (cause) status.cause = cause;
  if (reason) status.reason = reason;
  status.stage = 'done';
  status.pausedFor = undefined;
  status.endedAt = now();
  upsertSearchAttributes([
    { key: STAGE_KEY, value: 'done' },
    { key: OUTCOME_KEY, value: outcome },
  ]);
  record(`release ${outcome}${reason ? `: ${reason}` : ''}`, { stage: 'release' });
  return { releaseId, outcome, ...(cause ? { cause } : {}), ...(reason ? { reason } : {}), status };
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
