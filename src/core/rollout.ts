// Whether a Deployment's rollout is complete, still progressing, or has failed — the same rules as
// `kubectl rollout status`, plus pods that can never become ready (crash loops, image pulls).
// Pure: the Kubernetes activity reads the objects and heartbeats; this decides.

/** The fields of a Deployment this decision reads. */
export interface DeploymentLike {
  metadata?: { generation?: number };
  spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

export interface PodLike {
  metadata?: { name?: string };
  spec?: { containers?: { image?: string }[] };
  status?: {
    containerStatuses?: { name?: string; restartCount?: number; state?: { waiting?: { reason?: string; message?: string } } }[];
  };
}

export type RolloutState =
  | { phase: 'complete'; ready: number }
  | { phase: 'progressing'; detail: string; ready: number }
  | { phase: 'failed'; reason: string };

/** Waiting reasons of a container that will not recover on its own. */
const STUCK = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

/**
 * The rollout state of a Deployment whose desired image is `image`, given its pods.
 *
 *   generation 3, observed 2                              → progressing "waiting for the controller"
 *   replicas 3, updated 3, available 3, old pods gone     → complete
 *   condition Progressing=False ProgressDeadlineExceeded  → failed
 *   a new pod waiting in CrashLoopBackOff                 → failed, naming the pod
 *   replicas 0                                            → complete (nothing to wait for)
 */
export function rolloutState(d: DeploymentLike, pods: readonly PodLike[], image: string): RolloutState {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const deadline = s.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
  if (deadline) return { phase: 'failed', reason: `exceeded its progress deadline: ${deadline.message ?? 'no progress'}` };
  for (const pod of pods) {
    if (!pod.spec?.containers?.some((c) => c.image === image)) continue;
    for (const cs of pod.status?.containerStatuses ?? []) {
      const waiting = cs.state?.waiting;
      if (waiting?.reason && STUCK.has(waiting.reason)) {
        return { phase: 'failed', reason: `pod ${pod.metadata?.name ?? '?'} container ${cs.name ?? '?'} is in ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''} (restarts: ${cs.restartCount ?? 0})` };
      }
    }
  }
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 1)) return { phase: 'progressing', detail: 'waiting for the deployment controller to see the change', ready };
  if (updated < want) return { phase: 'progressing', detail: `${updated} of ${want} replicas updated`, ready };
  if ((s.replicas ?? 0) > updated) return { phase: 'progressing', detail: `${(s.replicas ?? 0) - updated} old replicas pending termination`, ready };
  if (available < updated) return { phase: 'progressing', detail: `${available} of ${updated} updated replicas available`, ready };
  return { phase: 'complete', ready };
}
