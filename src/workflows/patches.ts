// Every patch in the workflow code, in one place: its id (what patched() records as a marker in a
// history), what it guards, the commit that added it, and the recorded histories in
// test/fixtures/histories/ that take each branch — `new` ones carry the marker, `old` ones were
// recorded before the patch and replay its old branch. test/workflows/patches.test.ts checks this
// list against the code and the fixtures; a patch may only be removed (or deprecated) once no
// release that started without its marker can still be running.

export interface Patch {
  /** The id passed to patched() and recorded in the history's marker. */
  readonly id: string;
  /** What the new branch does, and what releases without the marker do instead. */
  readonly guards: string;
  /** The commit that added the patch (histories recorded before it take the old branch). */
  readonly since: string;
  /** Fixture names (test/fixtures/histories/<name>.json) that take each branch. */
  readonly fixtures: { readonly new: readonly string[]; readonly old: readonly string[] };
}

export const PATCHES = {
  githubReporting: {
    id: 'github-reporting',
    guards:
      'GitHub reporting for a spec with `source`: a Deployment per environment and a commit status on source.sha. Releases started without it report nothing to GitHub.',
    since: 'a711ddd',
    fixtures: {
      new: ['reported-to-github', 'multi-service-released', 'multi-service-rolled-back', 'build-dispatched', 'build-dispatch-failed', 'before-build-dispatch-checks-awaited', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // recorded at 28327ba
      old: ['before-github-reporting-released'],
    },
  },
  driftGuard: {
    id: 'drift-guard',
    guards:
      'Reading where traffic goes before every step that moves traffic or takes capacity away (setWeight, switch, scale-down) and pausing on drift; in the rollback, skipping a traffic undo and sparing serving colors when traffic changed outside the release. Releases started without it act on their own picture of the traffic, with no reads.',
    since: 'b6ed0fd',
    fixtures: {
      new: ['drift-kept-serving-color', 'drift-rollback-left-alone', 'nan-inconclusive-promoted', 'null-inconclusive', 'multi-service-released', 'multi-service-rolled-back', 'superseded', 'superseding', 'approval-timed-out-proceeded', 'promoted-full', 'inconclusive-paused-promoted', 'compare-staging-monitor-released', 'compare-monitor-rolled-back', 'build-dispatched', 'rollout-timed-out', 'signed-approved', 'signed-promoted-aborted', 'signed-superseded', 'signed-superseding', 'encrypted-released', 'failed-ending-rolled-back', 'failed-ending-aborted', 'traced-signed-approved', 'window-waited-released', 'notified-stalled-released', 'notified-rolled-back', 'notified-sink-down', 'hooks-released', 'hooks-canary-failed-undone', 'monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'queued-released', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // before-drift-guard-scaled-down-serving recorded at 2fdc8c0: traffic reset to blue, blue scaled down anyway
      old: [
        'before-drift-guard-scaled-down-serving',
        'released',
        'rolled-back-by-analysis',
        'aborted-during-pause',
        'compensation-retried',
        'compare-judged',
        'reported-to-github',
        'failed-fast',
        'nan-as-null-failed',
        'before-github-reporting-released',
        'before-build-dispatch-checks-awaited',
        'before-analysis-fail-fast-rolled-back',
        'before-analysis-initial-delay-measured-at-once',
        'before-compare-judge-paused-promoted',
      ],
    },
  },
  analysisFailFast: {
    id: 'analysis-fail-fast',
    guards:
      'The analyses of one step in a cancellation scope: the first verdict that rolls back acts at once and the runs still measuring are cut short. Releases started without it wait for every verdict, then act on them in order.',
    since: 'f021858',
    fixtures: {
      new: ['failed-fast', 'nan-as-null-failed', 'nan-inconclusive-promoted', 'null-inconclusive', 'multi-service-released', 'multi-service-rolled-back', 'promoted-full', 'inconclusive-paused-promoted', 'compare-staging-monitor-released', 'compare-monitor-rolled-back', 'before-analysis-initial-delay-measured-at-once', 'rollout-timed-out', 'signed-approved', 'signed-rejected', 'signed-promoted-aborted', 'encrypted-released', 'failed-ending-rolled-back', 'failed-ending-aborted', 'traced-signed-approved', 'window-waited-released', 'notified-rolled-back', 'hooks-canary-failed-undone', 'monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // before-analysis-fail-fast-rolled-back recorded at 86add04: a failed threshold waits out the 30-minute compare beside it
      old: [
        'before-analysis-fail-fast-rolled-back',
        'released',
        'rolled-back-by-analysis',
        'rejected',
        'aborted-during-pause',
        'compensation-retried',
        'compare-judged',
        'reported-to-github',
        'before-github-reporting-released',
        'before-compare-judge-paused-promoted',
      ],
    },
  },
  compareJudge: {
    id: 'compare-judge',
    guards:
      'Compare analyses judged (Mann-Whitney per metric, scored by weight). Releases started without it find every compare analysis Inconclusive ("the compare judge is not implemented yet"); their compare specs carry `query`, not `metrics`.',
    since: '88fb064',
    fixtures: {
      new: ['compare-judged', 'failed-fast', 'compare-staging-monitor-released', 'compare-monitor-rolled-back', 'before-analysis-fail-fast-rolled-back', 'local-calls-compare-released', 'local-calls-released', 'local-calls-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // recorded at dd30a7a: Inconclusive, a pause, promoted
      old: ['before-compare-judge-paused-promoted'],
    },
  },
  nanInconclusive: {
    id: 'nan-inconclusive',
    guards:
      'A measured value that arrives as null (a NaN an older worker sent as a bare number) judged as NaN, i.e. Inconclusive. Releases started without it judge the null as a number, and fail the threshold.',
    since: 'b6ed0fd',
    fixtures: {
      new: ['null-inconclusive', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      old: ['nan-as-null-failed'],
    },
  },
  analysisInitialDelay: {
    id: 'analysis-initial-delay',
    guards:
      'The minimum-traffic rule: an analysis waits until its initialDelay (by default its query\'s longest range window) has passed since the last traffic change before its first measurement. Releases started without it measure at once.',
    since: 'b6ed0fd',
    fixtures: {
      new: ['nan-inconclusive-promoted', 'null-inconclusive', 'promoted-full', 'inconclusive-paused-promoted', 'rollout-timed-out', 'signed-approved', 'signed-rejected', 'signed-promoted-aborted', 'failed-ending-rolled-back', 'failed-ending-aborted', 'traced-signed-approved', 'window-waited-released', 'notified-rolled-back', 'hooks-canary-failed-undone', 'monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // before-analysis-initial-delay-measured-at-once recorded at 2fdc8c0
      old: [
        'before-analysis-initial-delay-measured-at-once',
        'failed-fast',
        'reported-to-github',
        'nan-as-null-failed',
        'before-github-reporting-released',
        'before-analysis-fail-fast-rolled-back',
      ],
    },
  },
  buildDispatch: {
    id: 'build-dispatch',
    guards:
      'build.dispatch: the build gate dispatches an Actions workflow and waits for its run (after any required checks). Releases started without it await the required checks only, whatever the spec said.',
    since: 'a87ba0d',
    fixtures: {
      new: ['build-dispatched', 'build-dispatch-failed', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // recorded at a711ddd: a dispatch-only build gate awaited checks (none required)
      old: ['before-build-dispatch-checks-awaited'],
    },
  },
  signedDecisions: {
    id: 'signed-decisions',
    guards:
      "Signed approvals: when an approval gate opens, the worker's allowed signers and signature policy are read (readSignerTrust) and the gate gets a nonce that signed approve / reject statements must name. Releases started without it have no nonce or signer list: they accept unsigned decisions only.",
    since: '5f2809d',
    fixtures: {
      new: ['signed-approved', 'signed-rejected', 'signed-superseding', 'awaiting-aborted', 'encrypted-released', 'encrypted-rejected', 'traced-signed-approved', 'window-waited-released', 'frozen-aborted', 'notified-stalled-released', 'notified-sink-down', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every gate recorded before it: no signer list read, no nonce
      old: ['released', 'rejected', 'approval-timed-out-proceeded', 'promoted-full', 'reported-to-github', 'before-github-reporting-released'],
    },
  },
  signedStart: {
    id: 'signed-start',
    guards:
      "Before the locks: the worker's allowed signers and policy are read (readSignerTrust), a signed start is verified (its initiator proven, for the no-self-approval rule), and a release that must be signed but is not stops refused (cause unsigned, exit 3). Releases started without it begin with the locks, their initiator as the client named it.",
    since: '4f2bb96',
    fixtures: {
      new: ['signed-approved', 'signed-rejected', 'unsigned-start-refused', 'signed-promoted-aborted', 'signed-superseded', 'signed-superseding', 'awaiting-aborted', 'encrypted-released', 'failed-ending-rolled-back', 'failed-ending-aborted', 'encrypted-rejected', 'traced-signed-approved', 'window-waited-released', 'frozen-aborted', 'notified-stalled-released', 'notified-rolled-back', 'notified-sink-down', 'hooks-released', 'hooks-canary-failed-undone', 'hook-failed', 'monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'queued-released', 'queued-unsigned-refused', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every release recorded before it begins with its locks
      old: ['released', 'rejected', 'rolled-back-by-analysis', 'superseded', 'before-github-reporting-released'],
    },
  },
  signedControls: {
    id: 'signed-controls',
    guards:
      "Signed promote and abort: the start's signing policy and allowed signers (refreshed when a gate opens) apply to promote and to abort, which gains an update that can carry a signed statement; when signatures are required an unsigned promote or abort is refused, and a supersede must carry the newer release's signed start. Releases started without it accept promote and abort from anyone, unverified.",
    since: '6772fae',
    fixtures: {
      new: ['signed-promoted-aborted', 'signed-superseded', 'signed-superseding', 'awaiting-aborted', 'encrypted-released', 'failed-ending-rolled-back', 'failed-ending-aborted', 'encrypted-rejected', 'traced-signed-approved', 'window-waited-released', 'frozen-aborted', 'notified-stalled-released', 'notified-rolled-back', 'notified-sink-down', 'hooks-released', 'hooks-canary-failed-undone', 'hook-failed', 'monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'queued-released', 'queued-unsigned-refused', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // releases recorded before it took promote and abort unverified
      old: ['signed-approved', 'signed-rejected', 'unsigned-start-refused'],
    },
  },
  awaitingApproval: {
    id: 'awaiting-approval',
    guards:
      'The TidegateAwaiting search attribute: while an approval gate waits it lists who may still approve (updated with every approval, cleared when the gate closes), for saved views like "everything waiting for me". Releases started without it never set it.',
    since: '9bc203a',
    fixtures: {
      new: ['awaiting-aborted', 'encrypted-released', 'encrypted-rejected', 'traced-signed-approved', 'window-waited-released', 'frozen-aborted', 'notified-stalled-released', 'notified-sink-down', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every gate recorded before it advertised nobody
      old: ['released', 'rejected', 'signed-approved', 'signed-rejected', 'signed-superseding'],
    },
  },
  failedEnding: {
    id: 'failed-ending',
    guards:
      "A release that ends rolled back, rejected, aborted or failed closes as a failed workflow execution (failure type ReleaseRolledBack / ReleaseRejected / ReleaseAborted / ReleaseFailed, the ReleaseResult as its details), so the Temporal UI's list tells it apart from a released one. Releases started without it complete with the result, whatever the outcome.",
    since: '743adf4',
    fixtures: {
      new: ['failed-ending-rolled-back', 'failed-ending-aborted', 'encrypted-rejected', 'frozen-aborted', 'notified-rolled-back', 'hooks-canary-failed-undone', 'hook-failed', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'queued-unsigned-refused', 'local-calls-rolled-back', 'local-calls-released', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every release recorded before it completed, rolled back or not
      old: ['rolled-back-by-analysis', 'rejected', 'aborted-during-pause', 'awaiting-aborted'],
    },
  },
  otelTracing: {
    id: 'otel-tracing',
    guards:
      "The OpenTelemetry workflow interceptors (src/workflows/tracing-interceptors.ts): a RunWorkflow span, a StartActivity span per activity, spans for signals and updates, the trace context in activity headers. They run on every worker, tracing on or off, because their awaits order commands differently. Releases started without it never run them (their recorded order stays).",
    since: '222a236',
    fixtures: {
      new: ['traced-signed-approved', 'window-waited-released', 'frozen-aborted', 'notified-stalled-released', 'notified-rolled-back', 'notified-sink-down', 'hooks-released', 'hooks-canary-failed-undone', 'hook-failed', 'monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'queued-released', 'queued-unsigned-refused', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // signed-approved, signed-rejected and signed-superseding do not replay with the interceptors: the patch keeps them off
      old: ['signed-approved', 'signed-rejected', 'signed-superseding', 'released', 'failed-ending-rolled-back', 'encrypted-rejected'],
    },
  },
  releaseCalendar: {
    id: 'release-calendar',
    guards:
      "Before staging, each canary stage and each switch, the release checks its calendar (the spec's windows and freezes, the worker's TIDEGATE_CALENDAR, the global freeze) in a local activity and waits durably while it may not go on. Releases started without it never check and never wait.",
    since: 'daba52c',
    fixtures: {
      new: ['window-waited-released', 'frozen-aborted', 'notified-stalled-released', 'notified-rolled-back', 'notified-sink-down', 'hooks-released', 'hooks-canary-failed-undone', 'hook-failed', 'monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'queued-released', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every release recorded before it went through its stages unchecked
      old: ['released', 'rejected', 'rolled-back-by-analysis', 'signed-approved', 'traced-signed-approved'],
    },
  },
  notifications: {
    id: 'notifications',
    guards:
      'The release sends notifications from an activity (approval needed, released, rolled back, aborted, and one "no progress" notice when an approval gate or a pause for promote has waited an hour): the approval and pause waits are split at the hour, and the end waits up to two minutes for sends in flight. Releases started without it notify nobody and wait in one timer.',
    since: '09a65e3',
    fixtures: {
      new: ['notified-stalled-released', 'notified-rolled-back', 'notified-sink-down', 'hooks-released', 'hooks-canary-failed-undone', 'hook-failed', 'monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'queued-released', 'queued-unsigned-refused', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every release recorded before it notified nobody
      old: ['released', 'rejected', 'rolled-back-by-analysis', 'aborted-during-pause', 'window-waited-released', 'frozen-aborted'],
    },
  },
  hookStages: {
    id: 'hook-stages',
    guards:
      "Hook stages (spec `hooks:`): before staging, before the switch, after the switch and after the monitor window a service's hooks run (a Kubernetes Job or an HTTP call), and a hook's undo joins the saga when it starts. Every release asks once, after its snapshot. Releases started without it run no hooks (their specs have none).",
    since: '3cce681',
    fixtures: {
      new: ['hooks-released', 'hooks-canary-failed-undone', 'hook-failed', 'monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'queued-released', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every release recorded before it ran no hooks
      old: ['released', 'rolled-back-by-analysis', 'notified-rolled-back'],
    },
  },
  monitorWatch: {
    id: 'monitor-watch',
    guards:
      'A threshold analysis in the monitor window is watched: a `watch` activity per batch measures every interval (heartbeating what it measured) and returns at the first Failed or Inconclusive verdict, so a fault after the switch is acted on within an interval. Releases started without it sleep a batch (1–5 minutes), then judge one range query of it.',
    since: 'a25d42d',
    fixtures: {
      new: ['monitor-watched-released', 'monitor-watch-rolled-back', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every release recorded before it measured its monitor window in batches after the fact
      old: ['released', 'reported-to-github', 'traced-signed-approved'],
    },
  },
  localCalls: {
    id: 'local-calls',
    guards:
      "The release's cheap calls (production and staging snapshots, the drift guard's traffic reads before a forward step, canary weights, measurements, the scale-down) run as local activities, recorded as core_local_activity markers; the rollback's calls stay activities. Releases started without it schedule every one as an activity.",
    since: 'a1715d7',
    fixtures: {
      new: ['local-calls-released', 'local-calls-rolled-back', 'local-calls-compare-released', 'monitor-watch-traffic-back', 'monitor-watch-cut-short', 'drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every release recorded before it scheduled them as activities
      old: ['released', 'rolled-back-by-analysis', 'compare-staging-monitor-released', 'monitor-watched-released'],
    },
  },
  driftOwnStep: {
    id: 'drift-own-step',
    guards:
      "The drift guard before a canary weight takes traffic already at that weight, or at a later (non-zero) weight of the same run of back-to-back weights, as the release's own (local activities whose workflow task timed out and is run again), and goes on with it as where the release left traffic. Decided in the release's first workflow task (askEveryPatch), so that a release started before it pauses with traffic-drift there for its whole life.",
    since: '9fbfc77',
    fixtures: {
      new: ['drift-own-step-proceeded', 'drift-own-step-run-proceeded'],
      // every release recorded before it
      old: ['local-calls-released', 'local-calls-rolled-back'],
    },
  },
} as const satisfies Record<string, Patch>;

export type PatchId = (typeof PATCHES)[keyof typeof PATCHES]['id'];
