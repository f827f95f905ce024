import { parseRunnerName, RunnerBusyError, wantsRunner, type LaunchStore, type PoolsConfig, type RunnerScope } from '@runners/shared';
import { type GitHubClient } from '@runners/shared/github';
import { appInstallations, installedRepositories, nextWindow, type RepositoriesCache } from './repositories';

/*
 * Runner registrations of ours that nothing will use: offline, not busy, and their record no longer wants them (the
 * job finished, ran elsewhere, or was relaunched under another name). A runner that finished its job is removed by
 * GitHub itself, so teardown does not ask; this pass removes what a runner that died mid-job, or a lost teardown, left.
 * An online runner has a host: the orchestrators' leaked-host rule deals with both. A registration whose record still
 * wants it is booting, or stuck: the boot-timeout rule's. Another deployment's runners — the same prefix and pool
 * names, serving the same organization — are told apart by their deployment label, and left alone.
 */

export interface RegistrationPorts {
  readonly github: Pick<GitHubClient, 'listInstallations' | 'listRepositories' | 'listRunners' | 'deleteRunner'>;
  readonly config: PoolsConfig;
  readonly launches: Pick<LaunchStore, 'job'>;
  readonly now: () => Date;
  /** A record changed more recently than this may be mid-launch: its runner is left alone. */
  readonly registrationGraceMs: number;
  /** Repo scope: repositories whose runners are listed per pass. */
  readonly maxRepositories: number;
  readonly registrationCursor?: { next: number };
  /** The installations and repositories the last passes listed (see RepositoriesCache). */
  readonly repositoriesCache?: RepositoriesCache;
  /** This deployment's runner label: a runner without it is another deployment's, never touched. */
  readonly deploymentLabel?: string;
}

export interface RegistrationReport {
  readonly scopes: number;
  readonly examined: number;
  readonly removed: number;
}

export async function removeLeakedRegistrations(ports: RegistrationPorts): Promise<RegistrationReport> {
  const report = { scopes: 0, examined: 0, removed: 0 };
  const pools = new Set(ports.config.pools.map((p) => p.name));
  for (const { installationId, scope } of await scopes(ports)) {
    report.scopes++;
    for (const runner of await ports.github.listRunners(installationId, scope)) {
      const identity = parseRunnerName(runner.name, ports.config.runnerNamePrefix, pools);
      if (!identity || runner.status !== 'offline' || runner.busy) continue;
      if (ports.deploymentLabel && !runner.labels.some((l) => l.name === ports.deploymentLabel)) continue;
      report.examined++;
      const job = await ports.launches.job(identity.jobId);
      if (wantsRunner(job, runner.name)) continue;
      if (job && ports.now().getTime() - Date.parse(job.updatedAt) < ports.registrationGraceMs) continue;
      try {
        if ((await ports.github.deleteRunner(installationId, scope, runner.id)) === 'deleted') report.removed++;
      } catch (error) {
        // It took a job meanwhile: its completion deals with it.
        if (!(error instanceof RunnerBusyError)) throw error;
      }
    }
  }
  return report;
}

/** Org scope: each installation's account; repo scope: the installed repositories (a window of them per pass). */
async function scopes(ports: RegistrationPorts): Promise<{ installationId: number; scope: RunnerScope }[]> {
  if (ports.config.github.scope === 'org') {
    const organizations = (await appInstallations(ports.github, ports.repositoriesCache, ports.now().getTime())).filter((i) => i.organization);
    return organizations.map((i) => ({ installationId: i.id, scope: { kind: 'org', org: i.account } }));
  }
  const repositories = nextWindow(
    await installedRepositories(ports.github, ports.config, ports.repositoriesCache, ports.now().getTime()),
    ports.maxRepositories,
    ports.registrationCursor,
  );
  return repositories.map((r) => ({ installationId: r.installationId, scope: { kind: 'repo', owner: r.owner, repo: r.repo } }));
}
