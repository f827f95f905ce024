import type { components } from '@octokit/openapi-types';
import { randomBytes } from 'node:crypto';

/*
 * The simulator's GitHub: installations, runners, workflow runs and jobs, and GitHub's assignment rule — an idle
 * runner whose labels contain all of a job's labels (case-insensitive) gets the oldest such job it may serve; any
 * matching runner may take any matching job (job stealing); an ephemeral runner de-registers after one job.
 */

export type RunnerSchema = components['schemas']['runner'];
export type JobSchema = components['schemas']['job'];

export type Scope = { readonly kind: 'org'; readonly org: string } | { readonly kind: 'repo'; readonly owner: string; readonly repo: string };

export interface SimRunner {
  readonly id: number;
  readonly name: string;
  readonly labels: readonly string[];
  readonly os: string;
  readonly scope: Scope;
  readonly groupId: number;
  /** The runner's credential, inside its JIT config. */
  readonly secret: string;
  status: 'offline' | 'online';
  busy: boolean;
  jobId?: number;
  readonly createdAt: number;
  /** A waiting `next job` request of the runner, resolved on assignment. */
  waiter?: (job: SimJob | undefined) => void;
}

export type JobStatus = 'queued' | 'in_progress' | 'completed';

export interface SimJob {
  readonly id: number;
  readonly runId: number;
  readonly owner: string;
  readonly repo: string;
  readonly repoId: number;
  readonly name: string;
  readonly workflowName: string;
  readonly labels: readonly string[];
  readonly durationMs: number;
  readonly outcome: 'success' | 'failure';
  readonly installationId: number;
  status: JobStatus;
  conclusion: string | null;
  runnerId?: number;
  runnerName?: string;
  runnerGroupId?: number;
  readonly createdAt: number;
  startedAt?: number;
  completedAt?: number;
}

export interface SimInstallation {
  readonly id: number;
  readonly account: { readonly login: string; readonly id: number; readonly type: 'Organization' | 'User' };
}

export type JobEvent = { readonly job: SimJob; readonly action: 'queued' | 'in_progress' | 'completed' };

export class SimModel {
  readonly installations = new Map<number, SimInstallation>();
  readonly runners = new Map<number, SimRunner>();
  readonly jobs = new Map<number, SimJob>();
  readonly runnerGroups = [{ id: 1, name: 'Default', default: true }];
  private nextRunnerId = 1;
  private nextJobId = 1_000_000;
  private nextRunId = 50_000;
  private readonly repoIds = new Map<string, number>();

  constructor(
    accounts: readonly string[],
    private readonly onJobEvent: (event: JobEvent) => void,
    private readonly now: () => number = Date.now,
  ) {
    accounts.forEach((login, i) => this.installations.set(1_000 + i, { id: 1_000 + i, account: { login, id: 9_000 + i, type: 'Organization' } }));
  }

  installationFor(owner: string): SimInstallation | undefined {
    return [...this.installations.values()].find((i) => i.account.login.toLowerCase() === owner.toLowerCase());
  }

  repoId(owner: string, repo: string): number {
    const key = `${owner}/${repo}`.toLowerCase();
    if (!this.repoIds.has(key)) this.repoIds.set(key, 100_000 + this.repoIds.size);
    return this.repoIds.get(key)!;
  }

  /** The repositories of an account that the simulator knows (those that have had runs), with their ids. */
  repositoriesOf(login: string): { id: number; owner: string; name: string }[] {
    return [...this.repoIds.entries()]
      .map(([key, id]) => ({ id, owner: key.split('/')[0]!, name: key.split('/')[1]! }))
      .filter((r) => r.owner === login.toLowerCase());
  }

  /** `generate-jitconfig`: registers an (offline) ephemeral runner. Names are unique per scope, as on GitHub. */
  registerRunner(scope: Scope, name: string, labels: readonly string[], groupId: number): SimRunner | 'conflict' {
    const clash = [...this.runners.values()].some((r) => r.name === name && sameScope(r.scope, scope));
    if (clash) return 'conflict';
    const os = labels.map((l) => l.toLowerCase()).find((l) => ['linux', 'windows', 'macos'].includes(l)) ?? 'linux';
    const runner: SimRunner = {
      id: this.nextRunnerId++,
      name,
      labels,
      os: { linux: 'Linux', windows: 'Windows', macos: 'macOS' }[os] ?? 'Linux',
      scope,
      groupId,
      secret: randomBytes(16).toString('hex'),
      status: 'offline',
      busy: false,
      createdAt: this.now(),
    };
    this.runners.set(runner.id, runner);
    return runner;
  }

  /** Removes a runner registration; refuses a busy one, as GitHub does. */
  deleteRunner(runner: SimRunner): 'deleted' | 'busy' {
    if (runner.busy) return 'busy';
    runner.waiter?.(undefined);
    this.runners.delete(runner.id);
    return 'deleted';
  }

  queueRun(owner: string, repo: string, workflowName: string, jobs: readonly { name: string; labels: readonly string[]; durationMs: number; outcome: 'success' | 'failure' }[]): SimJob[] {
    const installation = this.installationFor(owner);
    if (!installation) throw new Error(`no installation for ${owner}`);
    const runId = this.nextRunId++;
    const created = jobs.map((spec) => {
      const job: SimJob = {
        ...spec,
        id: this.nextJobId++,
        runId,
        owner,
        repo,
        repoId: this.repoId(owner, repo),
        workflowName,
        installationId: installation.id,
        status: 'queued',
        conclusion: null,
        createdAt: this.now(),
      };
      this.jobs.set(job.id, job);
      return job;
    });
    for (const job of created) this.onJobEvent({ job, action: 'queued' });
    this.assign();
    return created;
  }

  /** A runner connects with its JIT credential: online, idle. */
  connect(runner: SimRunner): void {
    runner.status = 'online';
  }

  /** The runner waits for a job; resolved at once if one matches. */
  waitForJob(runner: SimRunner, resolve: (job: SimJob | undefined) => void): void {
    runner.waiter = resolve;
    this.assign();
  }

  completeJob(runner: SimRunner, jobId: number, conclusion: string): 'completed' | 'not-assigned' {
    const job = this.jobs.get(jobId);
    if (!job || runner.jobId !== jobId) return 'not-assigned';
    if (job.status !== 'completed') this.finish(job, conclusion);
    runner.busy = false;
    runner.jobId = undefined;
    // Ephemeral: one job, then the registration is gone.
    this.runners.delete(runner.id);
    return 'completed';
  }

  /** Cancel: a queued job completes as cancelled with no runner; a running one is cancelled on its runner. */
  cancelJob(job: SimJob): void {
    if (job.status === 'completed') return;
    this.finish(job, 'cancelled');
  }

  /** Jobs queued longer than `timeoutMs` are cancelled (GitHub: 24 h). */
  expireQueued(timeoutMs: number): void {
    for (const job of this.jobs.values()) if (job.status === 'queued' && this.now() - job.createdAt > timeoutMs) this.finish(job, 'cancelled');
  }

  private finish(job: SimJob, conclusion: string): void {
    job.status = 'completed';
    job.conclusion = conclusion;
    job.completedAt = this.now();
    this.onJobEvent({ job, action: 'completed' });
  }

  /** GitHub's rule: each waiting idle runner gets the oldest queued job it can run. */
  assign(): void {
    const queued = [...this.jobs.values()].filter((j) => j.status === 'queued').sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    if (queued.length === 0) return;
    const waiting = [...this.runners.values()].filter((r) => r.status === 'online' && !r.busy && r.waiter).sort((a, b) => a.createdAt - b.createdAt);
    for (const runner of waiting) {
      const index = queued.findIndex((job) => canRun(runner, job));
      if (index < 0) continue;
      const [job] = queued.splice(index, 1) as [SimJob];
      job.status = 'in_progress';
      job.startedAt = this.now();
      job.runnerId = runner.id;
      job.runnerName = runner.name;
      job.runnerGroupId = runner.groupId;
      runner.busy = true;
      runner.jobId = job.id;
      const waiter = runner.waiter!;
      runner.waiter = undefined;
      this.onJobEvent({ job, action: 'in_progress' });
      waiter(job);
    }
  }
}

function sameScope(a: Scope, b: Scope): boolean {
  if (a.kind === 'org' && b.kind === 'org') return a.org.toLowerCase() === b.org.toLowerCase();
  if (a.kind === 'repo' && b.kind === 'repo') return `${a.owner}/${a.repo}`.toLowerCase() === `${b.owner}/${b.repo}`.toLowerCase();
  return false;
}

/** Labels: every job label among the runner's, case-insensitively. Scope: an org runner serves the org's repos. */
export function canRun(runner: Pick<SimRunner, 'labels' | 'scope'>, job: Pick<SimJob, 'labels' | 'owner' | 'repo'>): boolean {
  const has = new Set(runner.labels.map((l) => l.toLowerCase()));
  if (!job.labels.every((l) => has.has(l.toLowerCase()))) return false;
  return runner.scope.kind === 'org'
    ? runner.scope.org.toLowerCase() === job.owner.toLowerCase()
    : `${runner.scope.owner}/${runner.scope.repo}`.toLowerCase() === `${job.owner}/${job.repo}`.toLowerCase();
}

export function runnerBody(runner: SimRunner): RunnerSchema {
  return {
    id: runner.id,
    name: runner.name,
    os: runner.os,
    status: runner.status,
    busy: runner.busy,
    ephemeral: true,
    runner_group_id: runner.groupId,
    labels: runner.labels.map((name, i) => ({ id: i + 1, name, type: i < 3 ? 'read-only' : 'custom' })),
  };
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function jobBody(job: SimJob, apiUrl: string): JobSchema {
  const repoApi = `${apiUrl}/repos/${job.owner}/${job.repo}`;
  return {
    id: job.id,
    run_id: job.runId,
    run_url: `${repoApi}/actions/runs/${job.runId}`,
    run_attempt: 1,
    node_id: `CR_sim${job.id}`,
    head_sha: '0000000000000000000000000000000000000000',
    url: `${repoApi}/actions/jobs/${job.id}`,
    html_url: `https://github.com/${job.owner}/${job.repo}/actions/runs/${job.runId}/job/${job.id}`,
    status: job.status,
    conclusion: job.conclusion as JobSchema['conclusion'],
    created_at: iso(job.createdAt)!,
    started_at: iso(job.startedAt ?? job.createdAt)!,
    completed_at: iso(job.completedAt),
    name: job.name,
    steps: [],
    check_run_url: `${repoApi}/check-runs/${job.id}`,
    labels: [...job.labels],
    runner_id: job.runnerId ?? null,
    runner_name: job.runnerName ?? null,
    runner_group_id: job.runnerGroupId ?? null,
    runner_group_name: job.runnerGroupId ? 'Default' : null,
    workflow_name: job.workflowName,
    head_branch: 'main',
  };
}
