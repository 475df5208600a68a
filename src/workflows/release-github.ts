// GitHub reporting: a Deployment per environment and a commit status on source.sha, each linking the
// release. It reports; it never decides: a GitHub failure is recorded in the timeline, the release goes on.
import { patched } from '@temporalio/workflow';
import type { SourceSpec } from '../core/release-spec.js';
import { failureMessage, github } from './release-activities.js';
import type { Ending, ReleaseContext } from './release-context.js';
import { PATCHES } from './patches.js';

type DeploymentState = 'success' | 'failure' | 'inactive';

export class GitHubReport {
  /** Releases started before GitHub reporting existed report nothing. */
  private readonly enabled: boolean;
  private readonly deployments: { environment: string; deploymentId: number; last: string }[] = [];

  constructor(private readonly ctx: ReleaseContext) {
    this.enabled = ctx.spec.source ? patched(PATCHES.githubReporting.id) : false;
  }

  environmentName(env: 'staging' | 'production', service: string): string {
    return this.ctx.spec.services.length === 1 ? env : `${env}/${service}`;
  }

  openDeployment(service: string, env: 'staging' | 'production', image: string): Promise<void> {
    const { releaseId, initiator } = this.ctx;
    return this.report(`open the ${this.environmentName(env, service)} deployment`, async ({ repo, sha }) => {
      const environment = this.environmentName(env, service);
      if (this.deployments.some((d) => d.environment === environment)) return;
      const { deploymentId } = await github.createDeployment({ repo, sha, environment, releaseId, description: `${releaseId}: ${image}, started by ${initiator}` });
      this.deployments.push({ environment, deploymentId, last: 'in_progress' });
      await github.setDeploymentStatus({ repo, deploymentId, state: 'in_progress', description: `releasing ${image}`, releaseId });
    });
  }

  markDeployments(states: DeploymentState[], description: string, only?: string): Promise<void> {
    const { releaseId } = this.ctx;
    return this.report(`update the deployments`, async ({ repo }) => {
      for (const d of this.deployments.filter((x) => only === undefined || x.environment === only)) {
        for (const state of states) {
          if (d.last === state) continue;
          await github.setDeploymentStatus({ repo, deploymentId: d.deploymentId, state, description, releaseId });
          d.last = state;
        }
      }
    });
  }

  commitStatus(state: 'pending' | 'success' | 'failure' | 'error', description: string): Promise<void> {
    const { releaseId, spec } = this.ctx;
    return this.report(`set the commit status`, ({ repo, sha }) => github.setCommitStatus({ repo, sha, context: `tidegate/${spec.name}`, state, description, releaseId }));
  }

  /** The release's end, on its deployments and its commit. */
  async outcome({ outcome, reason }: Ending): Promise<void> {
    const { releaseId, spec } = this.ctx;
    if (outcome === 'released') {
      await this.markDeployments(['success'], `released: ${spec.services.map((s) => s.image).join(', ')} live`);
      await this.commitStatus('success', `${releaseId} released`);
    } else {
      const why = (reason ?? outcome).slice(0, 120);
      await this.markDeployments(['failure'], `${outcome}: ${why}`);
      await this.markDeployments(['inactive'], this.deployments.length > 0 && outcome !== 'failed' ? 'rolled back to the previous release' : `${outcome}`);
      await this.commitStatus('failure', `${releaseId} ${outcome}: ${why}`);
    }
  }

  private async report(what: string, call: (source: SourceSpec) => Promise<void>): Promise<void> {
    const source = this.ctx.spec.source;
    if (!this.enabled || !source) return;
    try {
      await call(source);
    } catch (err) {
      this.ctx.record('github-failed', `GitHub: could not ${what}: ${failureMessage(err)}`);
    }
  }
}
