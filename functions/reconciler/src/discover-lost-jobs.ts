import { acceptJobEvent, type IntakePorts, type WorkflowJob } from '@runners/shared';
import { type GitHubClient } from '@runners/shared/github';
import { jobEventFromApi, type JobLocation } from './job-event-from-api';
import { installedRepositories, nextWindow, type RepositoriesCache } from './repositories';

/*
 * Jobs queued on GitHub that no webhook brought us (lost for good: never delivered, or past the redelivery lookback)
 * are recorded as queued, exactly as their webhook would have been: same allowlist, routing and conditional write, so
 * a job we know already (in any state) is left as it is. GitHub calls are bounded: the installations, their
 * repositories, per repository its queued and in-progress runs (conditional requests: an unchanged list costs a 304,
 * which the rate limit does not count), and the jobs of those runs.
 */

export interface DiscoverPorts extends IntakePorts {
  readonly github: Pick<GitHubClient, 'listInstallations' | 'listRepositories' | 'listWorkflowRuns' | 'listRunJobs'>;
  /** A job younger than this may still have its webhook on the way: left for a later pass. */
  readonly settleMs: number;
  /** Repositories looked at per pass, and runs per repository: the bound on GitHub calls. */
  readonly maxRepositories: number;
  readonly maxRunsPerRepository: number;
  /** Where the next pass starts in the list of repositories, when there are more than one pass looks at. */
  readonly cursor?: { next: number };
  /** The installations and repositories the last passes listed (see RepositoriesCache). */
  readonly repositoriesCache?: RepositoriesCache;
}

export interface DiscoverReport {
  readonly repositories: number;
  readonly runs: number;
  readonly queuedOnGitHub: number;
  /** Queued on GitHub, unknown to the table: recorded now. */
  readonly recorded: number;
  /** Queued on GitHub in a pool no longer configured: routed to a pool of the config now (or out of every queue). */
  readonly rerouted: number;
}

export async function discoverLostJobs(ports: DiscoverPorts): Promise<DiscoverReport> {
  const report = { repositories: 0, runs: 0, queuedOnGitHub: 0, recorded: 0, rerouted: 0 };
  const configuredPools = new Set(ports.config.pools.map((p) => p.name));
  const settledBefore = ports.now().getTime() - ports.settleMs;
  // More repositories than one pass looks at: each pass takes the next ones, round the list.
  const repositories = nextWindow(
    await installedRepositories(ports.github, ports.config, ports.repositoriesCache, ports.now().getTime()),
    ports.maxRepositories,
    ports.cursor,
  );
  for (const { owner, repo, installationId } of repositories) {
    report.repositories++;
    // A run with a job running may still have queued jobs (a matrix waiting for runners).
    const runs = [
      ...(await ports.github.listWorkflowRuns(installationId, owner, repo, 'queued', ports.maxRunsPerRepository)),
      ...(await ports.github.listWorkflowRuns(installationId, owner, repo, 'in_progress', ports.maxRunsPerRepository)),
    ].slice(0, ports.maxRunsPerRepository);
    for (const run of runs) {
      report.runs++;
      const queued = (await ports.github.listRunJobs(installationId, owner, repo, Number(run.id))).filter(
        (job) => job.status === 'queued' && Date.parse(job.created_at) < settledBefore,
      );
      report.queuedOnGitHub += queued.length;
      // Read before writing: most of them are known (queued here too), and a read costs a quarter of a write.
      const known = await ports.store.knownJobs(queued.map((job) => Number(job.id)));
      for (const job of queued.filter((j) => !known.has(Number(j.id)))) if (await record(job, { owner, repo, installationId }, ports)) report.recorded++;
      // Known, but queued in a pool the config no longer has (renamed, removed): routed again, as a webhook would be now.
      for (const stranded of await ports.store.strandedJobs([...known], configuredPools)) {
        const route = ports.router.route(stranded.labels);
        const routing = route.kind === 'pool' ? { pool: route.pool.name } : { pool: undefined, reason: route.reason };
        if (await ports.store.reroute(stranded.jobId, stranded.pool, routing, ports.now())) report.rerouted++;
      }
    }
  }
  return report;
}

/** The job as its `queued` webhook would have carried it, through the producer's own intake. */
async function record(job: WorkflowJob, where: JobLocation, ports: DiscoverPorts): Promise<boolean> {
  const result = await acceptJobEvent(jobEventFromApi(job, where, 'queued'), ports);
  return result.outcome === 'recorded';
}
