import type { components } from '@octokit/openapi-types';
import { randomBytes } from 'node:crypto';
import { headShaOf } from './check-runs';

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
  /** The listener's message session (one per runner, as on GitHub). */
  session?: string;
  /** Long polls of the runner open right now: while one is open, GitHub sees the runner. */
  openPolls: number;
  /** The last time the runner was heard from (a poll began or ended, a renewal). */
  lastSeenAt: number;
  /** A runner of a runner scale set (generatejitconfig on the Actions service): it takes only that scale set's jobs. */
  scaleSetId?: number;
}

/**
 * GitHub's clocks, which the simulator keeps (scaled down in tests). Realistic defaults in REALISTIC_TIMING.
 */
export interface SimTiming {
  /** GitHub assigns queued jobs to idle runners asynchronously, not inside the request that queued them. */
  readonly assignDelayMs: number;
  /** A runner with no open poll that has not been heard from this long shows `offline`. */
  readonly offlineAfterMs: number;
  /** How long a job request holds without renewal; then the job fails ("lost communication with the server"). */
  readonly jobLockMs: number;
  /** How often a runner renews its job request. */
  readonly renewEveryMs: number;
  /** A running job cancelled this long ago whose runner has not reported is terminated by the server. */
  readonly cancelTimeoutMs: number;
}

/*
 * actions/runner, src/Runner.Listener/JobDispatcher.cs: the job request is renewed every 60 s and is "valid till" now
 * + 10 minutes; a runner whose renewals stop loses the job, which GitHub fails with "The self-hosted runner: … lost
 * communication with the server" (seen in actions/runner #1546, #3539). The listener's long poll lasts ~50 s
 * (MessageListener.cs); GitHub does not document when a silent runner turns offline: the simulator says 90 s (one
 * poll and a margin). An idle runner gets its job within a second or two of it queueing. Cancelling a running job
 * sends its runner a cancellation and the job completes when the runner reports back; "after the 5 minute cancellation
 * timeout period, the server will forcibly terminate all jobs" (docs.github.com, Workflow cancellation reference).
 */
export const REALISTIC_TIMING: SimTiming = { assignDelayMs: 1_000, offlineAfterMs: 90_000, jobLockMs: 600_000, renewEveryMs: 60_000, cancelTimeoutMs: 300_000 };

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
  /** In progress: the job request holds until then unless renewed. */
  lockedUntil?: number;
  /** A re-run job is a new job (a new id) of the next attempt of its run. */
  readonly runAttempt?: number;
  /** The job this one re-runs. */
  readonly rerunOf?: number;
  /** Every runner GitHub gave this job to, in order: more than one would be a job run twice. */
  assignments?: { readonly runnerName: string; readonly at: number }[];
  /** In progress and cancelled then: its runner has been asked to stop; the job completes when it reports. */
  cancelRequestedAt?: number;
  /** Why a job ended other than by its runner (`lost communication`, `cancelled`). */
  endedBy?: 'runner' | 'lost-communication' | 'cancel' | 'queue-timeout';
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
  /** Runners ever registered (JIT configs GitHub issued): what the duplicate-runner count is taken from. */
  registered = 0;
  private nextRunnerId = 1;
  private nextJobId = 1_000_000;
  private nextRunId = 50_000;
  private readonly repoIds = new Map<string, number>();
  private assignTimer: NodeJS.Timeout | undefined;
  /**
   * A further condition of the assignment rule, beyond labels and scope: runner scale sets (sim/scale-sets.ts) keep
   * their jobs to their runners and their runners to their jobs. Everything is eligible by default.
   */
  eligible: (runner: SimRunner, job: SimJob) => boolean = () => true;

  constructor(
    accounts: readonly string[],
    private readonly onJobEvent: (event: JobEvent) => void,
    private readonly now: () => number = Date.now,
    /** Immediate assignment by default (unit tests); the simulator server keeps GitHub's clocks. */
    public timing: SimTiming = { ...REALISTIC_TIMING, assignDelayMs: 0 },
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
      openPolls: 0,
      lastSeenAt: this.now(),
    };
    this.runners.set(runner.id, runner);
    this.registered++;
    return runner;
  }

  /** Removes a runner registration; refuses a busy one, as GitHub does. */
  deleteRunner(runner: SimRunner): 'deleted' | 'busy' {
    if (runner.busy) return 'busy';
    runner.waiter?.(undefined);
    this.runners.delete(runner.id);
    return 'deleted';
  }

  queueRun(
    owner: string,
    repo: string,
    workflowName: string,
    jobs: readonly { name: string; labels: readonly string[]; durationMs: number; outcome: 'success' | 'failure' }[],
  ): SimJob[] {
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
    this.requestAssignment();
    return created;
  }

  /**
   * A listener opens its message session with its JIT credential: the runner is online. One session per runner: a
   * second listener gets a conflict while the first is heard from (actions/runner MessageListener.cs retries a
   * session conflict, then exits with SessionConflict).
   */
  openSession(runner: SimRunner): string | 'conflict' {
    if (runner.session && runner.status === 'online') return 'conflict';
    runner.session = randomBytes(8).toString('hex');
    runner.status = 'online';
    runner.lastSeenAt = this.now();
    return runner.session;
  }

  /** The listener leaves: it deleted its session (GitHub shows the runner offline at once). */
  closeSession(runner: SimRunner, session: string): void {
    if (runner.session !== session) return;
    runner.session = undefined;
    runner.status = 'offline';
    runner.waiter?.(undefined);
  }

  /** The runner waits for a job (a long poll is open); given one after GitHub's assignment delay. */
  waitForJob(runner: SimRunner, resolve: (job: SimJob | undefined) => void): void {
    runner.waiter = resolve;
    runner.lastSeenAt = this.now();
    this.requestAssignment();
  }

  /** The runner renews its job request: it holds for another `jobLockMs`. `cancelled`: the job was cancelled. */
  renewJob(runner: SimRunner, jobId: number): { cancelled: boolean } | 'not-assigned' {
    const job = this.jobs.get(jobId);
    runner.lastSeenAt = this.now();
    if (!job || runner.jobId !== jobId || job.status === 'completed') return 'not-assigned';
    job.lockedUntil = this.now() + this.timing.jobLockMs;
    return { cancelled: job.cancelRequestedAt !== undefined };
  }

  /**
   * GitHub's clocks: a runner with no open poll that has not been heard from for `offlineAfterMs` is offline (its
   * session gone); a job whose request was not renewed for `jobLockMs` fails, and its runner is no longer busy. The
   * registration stays (GitHub removes an offline ephemeral runner only after a day): deleting it is ours to do.
   */
  sweep(): void {
    const t = this.now();
    for (const runner of this.runners.values()) {
      if (runner.status === 'online' && runner.openPolls === 0 && t - runner.lastSeenAt > this.timing.offlineAfterMs) {
        runner.status = 'offline';
        runner.session = undefined;
      }
    }
    for (const job of this.jobs.values()) {
      if (job.status !== 'in_progress') continue;
      if (job.cancelRequestedAt !== undefined && t - job.cancelRequestedAt > this.timing.cancelTimeoutMs) this.finish(job, 'cancelled', 'cancel');
      else if (job.lockedUntil !== undefined && job.lockedUntil <= t)
        this.finish(job, job.cancelRequestedAt === undefined ? 'failure' : 'cancelled', 'lost-communication');
      else continue;
      // The job is over without its runner: the registration stays, no longer busy.
      const runner = job.runnerId === undefined ? undefined : this.runners.get(job.runnerId);
      if (runner && runner.jobId === job.id) {
        runner.busy = false;
        runner.jobId = undefined;
      }
    }
  }

  /** Stops the assignment timer (the simulator's shutdown). */
  stop(): void {
    clearTimeout(this.assignTimer);
    this.assignTimer = undefined;
  }

  completeJob(runner: SimRunner, jobId: number, conclusion: string): 'completed' | 'not-assigned' {
    const job = this.jobs.get(jobId);
    if (!job || runner.jobId !== jobId) return 'not-assigned';
    // A job cancelled while it ran ends cancelled, whatever the runner made of its last steps.
    if (job.status !== 'completed')
      this.finish(job, job.cancelRequestedAt === undefined ? conclusion : 'cancelled', job.cancelRequestedAt === undefined ? 'runner' : 'cancel');
    runner.busy = false;
    runner.jobId = undefined;
    // Ephemeral: one job, then the registration is gone.
    this.runners.delete(runner.id);
    return 'completed';
  }

  /**
   * Re-run of one completed job: GitHub queues it again as a new job (a new id) in the next attempt of its run
   * (docs.github.com, "Re-run a job from a workflow run"). Refused while the job, or any job of its run, has not
   * completed ("The workflow run containing this job is already running").
   */
  rerunJob(job: SimJob): SimJob | 'not-completed' | 'run-in-progress' {
    if (job.status !== 'completed') return 'not-completed';
    if ([...this.jobs.values()].some((j) => j.runId === job.runId && j.status !== 'completed')) return 'run-in-progress';
    const {
      id: _id,
      status: _status,
      conclusion: _conclusion,
      runnerId: _runnerId,
      runnerName: _runnerName,
      runnerGroupId: _group,
      startedAt: _started,
      completedAt: _completed,
      endedBy: _endedBy,
      cancelRequestedAt: _cancel,
      lockedUntil: _lock,
      ...spec
    } = job;
    const { assignments: _assignments, ...fresh } = spec;
    const rerun: SimJob = {
      ...fresh,
      id: this.nextJobId++,
      status: 'queued',
      conclusion: null,
      createdAt: this.now(),
      runAttempt: (job.runAttempt ?? 1) + 1,
      rerunOf: job.id,
    };
    this.jobs.set(rerun.id, rerun);
    this.onJobEvent({ job: rerun, action: 'queued' });
    this.requestAssignment();
    return rerun;
  }

  /**
   * Cancel: a queued job completes as cancelled with no runner. A running one is cancelled on its runner and completes
   * (the `completed` webhook) only when the runner reports back, or when the server's cancellation timeout forces it
   * (docs.github.com, Workflow cancellation reference): until then it is in progress and its runner busy.
   */
  cancelJob(job: SimJob): void {
    if (job.status === 'queued') this.finish(job, 'cancelled', 'cancel');
    else if (job.status === 'in_progress') job.cancelRequestedAt ??= this.now();
  }

  /** Jobs queued longer than `timeoutMs` are cancelled (GitHub: 24 h). */
  expireQueued(timeoutMs: number): void {
    for (const job of this.jobs.values()) if (job.status === 'queued' && this.now() - job.createdAt > timeoutMs) this.finish(job, 'cancelled', 'queue-timeout');
  }

  private finish(job: SimJob, conclusion: string, endedBy: NonNullable<SimJob['endedBy']>): void {
    job.status = 'completed';
    job.conclusion = conclusion;
    job.endedBy = endedBy;
    job.lockedUntil = undefined;
    job.completedAt = this.now();
    this.onJobEvent({ job, action: 'completed' });
  }

  /** Assignment runs `assignDelayMs` after something changed (at once when 0), as GitHub's does: asynchronously. */
  requestAssignment(): void {
    if (this.timing.assignDelayMs <= 0) return this.assign();
    this.assignTimer ??= setTimeout(() => {
      this.assignTimer = undefined;
      this.assign();
    }, this.timing.assignDelayMs);
  }

  /** GitHub's rule: each waiting idle runner gets the oldest queued job it can run. */
  assign(): void {
    const queued = [...this.jobs.values()].filter((j) => j.status === 'queued').sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    if (queued.length === 0) return;
    const waiting = [...this.runners.values()].filter((r) => r.status === 'online' && !r.busy && r.waiter).sort((a, b) => a.createdAt - b.createdAt);
    for (const runner of waiting) {
      const index = queued.findIndex((job) => canRun(runner, job) && this.eligible(runner, job));
      if (index < 0) continue;
      const [job] = queued.splice(index, 1) as [SimJob];
      job.status = 'in_progress';
      job.startedAt = this.now();
      job.runnerId = runner.id;
      job.runnerName = runner.name;
      job.runnerGroupId = runner.groupId;
      job.assignments = [...(job.assignments ?? []), { runnerName: runner.name, at: this.now() }];
      job.lockedUntil = this.now() + this.timing.jobLockMs;
      runner.busy = true;
      runner.jobId = job.id;
      const waiter = runner.waiter!;
      runner.waiter = undefined;
      this.onJobEvent({ job, action: 'in_progress' });
      waiter(job);
    }
  }
}

export function sameScope(a: Scope, b: Scope): boolean {
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

/** GitHub's timestamps have whole seconds (`"2019-08-08T08:00:00Z"`: the REST API's and webhooks' examples). */
const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'));

export function jobBody(job: SimJob, apiUrl: string): JobSchema {
  const repoApi = `${apiUrl}/repos/${job.owner}/${job.repo}`;
  return {
    id: job.id,
    run_id: job.runId,
    run_url: `${repoApi}/actions/runs/${job.runId}`,
    run_attempt: job.runAttempt ?? 1,
    node_id: `CR_sim${job.id}`,
    head_sha: headShaOf(job.runId),
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
