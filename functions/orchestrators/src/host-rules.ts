import {
  isSpareRunner,
  isWarmJobId,
  parseRunnerName,
  wantedIdle,
  wantsRunner,
  type JobRecord,
  type Pool,
  type SlotHolder,
  type TeardownMessage,
} from '@runners/shared';
import { registeredRunnerOf, retireIdleRunner, teardown, type OrchestratorPorts } from './orchestrate';

/*
 * The reconciler's host rules, run by each host kind's orchestrator on a schedule: what the event-driven path missed
 * because a message was lost, a function timed out or a host died. Every action goes through the one teardown
 * procedure, so a busy runner is never removed. Rules:
 *  - leaked host: a host of ours whose job record is gone, finished, or names another runner → torn down; a host of
 *    a pool no longer in the config (renamed, removed) is drained the same way: kept while its record still wants it
 *    (its job runs), torn down after;
 *  - stuck launch: a runner holding a slot, still not running its job past the pool's boot timeout, that GitHub does
 *    not show online → registration and host removed, the job requeued for the publisher (a new runner name, so
 *    never a double launch);
 *  - idle warm surplus: more idle warm runners than the pool's schedule wants now (a window closed, minIdle lowered),
 *    idle longer than the pool's idle timeout → torn down, newest slots first (never a busy one: GitHub is asked);
 *  - never assigned: a runner online and idle past the pool's idle limit whose job is still waiting for it (GitHub
 *    does not give it the job: runner-group policy, public repository, labels) → torn down, the job given up with
 *    that reason (a relaunch would idle the same way);
 *  - past its lifetime: a host older than the pool's maxLifetimeHours → torn down once idle; a busy one only past
 *    GitHub's own limit for a job on a self-hosted runner (5 days), when nothing legitimate can still run on it.
 * Idle runners launched for a job are not surplus: the job they were launched for is still queued (else the publisher
 * tore them down when it finished), so they are what the queue needs.
 */

export interface HostRuleLimits {
  /** From dispatch to a runner that GitHub shows online, per host kind (VMs boot slower than containers). */
  readonly bootTimeoutMs: Record<Pool['host'], number>;
  /** A host younger than this may still be waiting for its record to be written: left alone. */
  readonly graceMs: number;
}

export const DEFAULT_HOST_RULE_LIMITS: HostRuleLimits = {
  bootTimeoutMs: { docker: 5 * 60_000, lambda: 5 * 60_000, eks: 8 * 60_000, ec2: 15 * 60_000 },
  graceMs: 2 * 60_000,
};

export interface HostRulePorts extends OrchestratorPorts {
  readonly hostRuleLimits: HostRuleLimits;
}

export interface HostRulesReport {
  readonly hostsSeen: number;
  readonly leakedHostsRemoved: number;
  readonly busyRunnersKept: number;
  readonly stuckLaunchesRequeued: number;
  readonly idleWarmRemoved: number;
  readonly neverAssignedRemoved: number;
  readonly pastLifetimeRemoved: number;
  /** Spare runners past their boot timeout (dead, never came, or never given a job), removed once idle. */
  readonly sparesRemoved: number;
}

/** "Each job in a workflow can run for up to 5 days of execution time" on a self-hosted runner (docs.github.com, Actions limits). */
export const GITHUB_SELF_HOSTED_JOB_LIMIT_MS = 5 * 24 * 3600_000;

export async function applyHostRules(kind: Pool['host'], ports: HostRulePorts): Promise<HostRulesReport> {
  const pools = ports.config.pools.filter((p) => p.host === kind);
  const poolNames = new Set(pools.map((p) => p.name));
  const report = {
    hostsSeen: 0,
    leakedHostsRemoved: 0,
    busyRunnersKept: 0,
    stuckLaunchesRequeued: 0,
    idleWarmRemoved: 0,
    neverAssignedRemoved: 0,
    pastLifetimeRemoved: 0,
    sparesRemoved: 0,
  };

  // Every host of this kind that is ours, whether or not its pool is still configured; their records in batches.
  const hosts = await ports.host.list();
  report.hostsSeen = hosts.length;
  const hostNames = new Set(hosts.map((host) => host.runnerName));
  const hostRecords = await ports.launches.jobs(hosts.flatMap((host) => (host.jobId === undefined ? [] : [host.jobId])));
  // The jobs those hosts' runners went on to run (job stealing): a runner is wanted while its job runs.
  const busyRecords = await ports.launches.jobs([...hostRecords.values()].flatMap((r) => (r.busyWith === undefined ? [] : [r.busyWith])));
  for (const host of hosts) {
    const job = host.jobId === undefined ? undefined : hostRecords.get(host.jobId);
    if (wantsRunner(job, host.runnerName, job?.busyWith === undefined ? undefined : busyRecords.get(job.busyWith)?.state)) continue;
    if (job && isRecent(job, ports)) continue;
    // A spare (its job ran elsewhere or was cancelled) may still be booting for the next queued job: the publisher
    // retires one no job needs; here, only one that has been spare past its boot timeout.
    if (
      job &&
      host.runnerName === job.launchedRunner &&
      isSpareRunner(job) &&
      ports.now() - Date.parse(job.updatedAt) < ports.hostRuleLimits.bootTimeoutMs[kind]
    )
      continue;
    const outcome = await tearDown(
      host.runnerName,
      host.jobId ?? 0,
      pools.find((p) => p.name === host.pool) ?? { name: host.pool, host: kind, os: 'linux' },
      ports,
    );
    if (outcome === 'busy') report.busyRunnersKept++;
    else report.leakedHostsRemoved++;
  }

  for (const pool of pools) {
    // The pool's slots (one query), then their records in batches (the slots index carries only some attributes).
    const slots = await ports.slots.slots(pool.name);
    const slotRecords = await ports.launches.jobs(slots.map((slot) => slot.jobId));
    for (const { runnerName } of slots) {
      const identity = parseRunnerName(runnerName, ports.config.runnerNamePrefix, poolNames);
      if (!identity) continue;
      const job = slotRecords.get(identity.jobId);
      if (!job || job.launchedRunner !== runnerName) continue;
      if (await pastLifetime(job, runnerName, pool, ports, report)) continue;
      // A spare past its boot timeout with no host (it never came, or died): nothing will free its slot but this —
      // the publisher leaves spares to a long queue. Removed only if GitHub says it is idle. (One with a host was
      // dealt with above.)
      if (isSpareRunner(job) && !hostNames.has(runnerName) && ports.now() - Date.parse(job.updatedAt) >= ports.hostRuleLimits.bootTimeoutMs[kind]) {
        if ((await tearDown(runnerName, identity.jobId, pool, ports)) === 'busy') report.busyRunnersKept++;
        else report.sparesRemoved++;
        continue;
      }
      if (job.state !== 'dispatched') continue;
      if (await neverAssigned(job, runnerName, pool, ports, report)) continue;
      const since = Date.parse(job.dispatchedAt ?? job.updatedAt);
      if (ports.now() - since < ports.hostRuleLimits.bootTimeoutMs[kind]) continue;
      if (await isOnline(job, ports)) continue;
      // Requeue first, conditional on the job still waiting for this runner (it may have started this instant); it
      // frees the slot and counts a failed launch, so a pool that never boots gives up in time. Then the teardown
      // (registration unless busy, host).
      if (!(await ports.launches.failLaunch(job, runnerName, { retryAtMs: ports.now() }, ports.now()))) continue;
      report.stuckLaunchesRequeued++;
      if ((await tearDown(runnerName, identity.jobId, pool, ports)) === 'busy') report.busyRunnersKept++;
    }

    for (const runner of idleWarmSurplus(pool, slots, ports)) {
      if ((await tearDown(runner.runnerName, runner.jobId, pool, ports)) === 'busy') report.busyRunnersKept++;
      else report.idleWarmRemoved++;
    }
  }
  return report;
}

/** Past the pool's lifetime: torn down once idle; a busy one only past GitHub's job limit (its host, the registration stays busy). */
async function pastLifetime(
  job: JobRecord,
  runnerName: string,
  pool: Pool,
  ports: HostRulePorts,
  report: { pastLifetimeRemoved: number; busyRunnersKept: number },
): Promise<boolean> {
  if (job.hostCreatedAt === undefined) return false;
  const age = ports.now() - Date.parse(job.hostCreatedAt);
  if (age < pool.maxLifetimeHours * 3600_000) return false;
  // Its job still waiting for it (an idle limit above the lifetime) is given up, not left dispatched without a slot.
  const failure = {
    kind: 'permanent' as const,
    reason: 'past-lifetime',
    message: `${runnerName} reached the pool's lifetime of ${pool.maxLifetimeHours} h without a job`,
  };
  if ((await retireIdleRunner(job, runnerName, pool, 'job-ran-elsewhere', { outcome: 'give-up', failure }, ports)) !== 'busy') {
    report.pastLifetimeRemoved++;
  } else if (age > GITHUB_SELF_HOSTED_JOB_LIMIT_MS + 3600_000) {
    await ports.host.delete(runnerName);
    report.pastLifetimeRemoved++;
  } else report.busyRunnersKept++;
  return true;
}

/** Online, idle past the pool's idle limit, its job still waiting for it: GitHub will not give it the job. */
async function neverAssigned(job: JobRecord, runnerName: string, pool: Pool, ports: HostRulePorts, report: { neverAssignedRemoved: number }): Promise<boolean> {
  if (isWarmJobId(job.jobId) || job.launchState !== 'created' || job.hostCreatedAt === undefined) return false;
  const idleMinutes = (ports.now() - Date.parse(job.hostCreatedAt)) / 60_000;
  if (idleMinutes < pool.idleLimitMinutes || !(await isOnline(job, ports, { idleOnly: true }))) return false;
  const failure = {
    kind: 'permanent' as const,
    reason: 'never-assigned',
    message: `GitHub gave no job to ${runnerName} in ${Math.round(idleMinutes)} minutes online while its job waited: check the runner group's repository access, public-repository policy and labels`,
  };
  // If GitHub gave it a job this instant, it refuses to remove the registration, and the runner keeps its slot.
  const retired = await retireIdleRunner(job, runnerName, pool, 'job-ran-elsewhere', { outcome: 'give-up', failure }, ports);
  if (retired === 'busy' || !retired.handedOn) return false;
  report.neverAssignedRemoved++;
  return true;
}

/** The idle warm runners beyond what the pool wants now that have been idle past its idle timeout, newest first. */
function idleWarmSurplus(pool: Pool, slots: readonly SlotHolder[], ports: HostRulePorts) {
  const idle = slots
    .filter((slot) => isWarmJobId(slot.jobId) && slot.busyWith === undefined)
    .map((slot) => ({ jobId: slot.jobId, runnerName: slot.runnerName, dispatchedAt: slot.dispatchedAt }));
  const surplus = idle.length - wantedIdle(pool.warm, new Date(ports.now()));
  if (surplus <= 0) return [];
  // Settings removed from the pool: its warm runners are not wanted at all, idle timeout or not.
  const idleTimeoutMs = (pool.warm?.idleTimeoutMinutes ?? 0) * 60_000;
  return idle
    .filter((r) => r.dispatchedAt !== undefined && ports.now() - Date.parse(r.dispatchedAt) >= idleTimeoutMs)
    .sort((a, b) => b.jobId - a.jobId)
    .slice(0, surplus);
}

function isRecent(job: JobRecord, ports: HostRulePorts): boolean {
  return ports.now() - Date.parse(job.updatedAt) < ports.hostRuleLimits.graceMs;
}

/** Whether GitHub shows the record's runner online (or busy); `idleOnly`: online and not busy. */
async function isOnline(job: JobRecord, ports: HostRulePorts, options: { idleOnly?: boolean } = {}): Promise<boolean> {
  const runner = await registeredRunnerOf(job, ports);
  if (options.idleOnly) return runner !== undefined && runner.status === 'online' && !runner.busy;
  return runner !== undefined && (runner.status === 'online' || runner.busy);
}

/** The one teardown procedure, asked only if GitHub says the runner is idle. A host without a job id has job 0. */
function tearDown(runnerName: string, jobId: number, pool: Pick<Pool, 'name' | 'host' | 'os'>, ports: HostRulePorts) {
  const message: TeardownMessage = {
    action: 'teardown',
    reason: 'job-ran-elsewhere',
    onlyIfIdle: true,
    pool: pool.name,
    host: pool.host,
    os: pool.os,
    runnerName,
    jobId,
  };
  return teardown(message, ports);
}
