import {
  acceptJobEvent,
  isScaleSetJobNumber,
  isWarmJobId,
  runnerScopeOf,
  STATE_RANK,
  type DispatchStore,
  type IntakePorts,
  type OpenJob,
  type PoolsConfig,
} from '@runners/shared';
import { type GitHubClient } from '@runners/shared/github';
import { jobEventFromApi } from './job-event-from-api';
import { nextWindow } from './repositories';

/*
 * GitHub is the truth about a job; our records learn it from webhooks. A record that holds a slot (dispatched, or
 * running as far as we know) and has not changed for a while is asked about on GitHub: if GitHub has moved it on —
 * started on some runner, or completed (its `completed` lost beyond redelivery) — the record is moved on through the
 * producer's own intake, exactly as the lost webhook would have, and the publisher then tears down its runner and
 * frees its slot. Without this a lost `completed` holds a slot, and an idle paid host, until the record's TTL.
 *
 * A record holding a slot whose runner GitHub gave another job (busyWith) waits for that job's completion to free it:
 * that job is asked about too, so a lost `completed` of it does not hold the slot for ever.
 *
 * A record GitHub still shows queued whose runner is up (its host made) but no longer registered has lost that
 * runner to another job (job stealing) whose `completed` never came — an ephemeral runner is gone once its one job
 * ended: the slot is freed and the job requeued for a new runner, as the publisher does when that `completed` comes.
 *
 * Bounded: at most `maxJobChecks` records per pass (a conditional job read each — an unchanged job costs a 304, which
 * the rate limit does not count — and a runner read for the queued ones), round the open records with a cursor.
 * Warm slots have no GitHub job.
 */

export interface SyncPorts extends IntakePorts {
  readonly config: PoolsConfig;
  readonly github: Pick<GitHubClient, 'getJob' | 'getRunner'>;
  readonly slots: Pick<DispatchStore, 'requeue'>;
  /** A record changed more recently than this may still have its webhook on the way: left for a later pass. */
  readonly settleMs: number;
  readonly maxJobChecks: number;
  readonly syncCursor?: { next: number };
}

export interface SyncReport {
  /** Records holding a slot, over all pools. */
  readonly open: number;
  readonly checked: number;
  /** GitHub had the job further on (started, or completed): the record was moved on. */
  readonly advanced: number;
  /** ... of which completed: their slots are the publisher's to free now. */
  readonly completed: number;
  /** GitHub does not know the job (its run deleted): left to the record's TTL and the host rules. */
  readonly missing: number;
  /** Still queued, its runner gone (it ran another job whose `completed` was lost): slot freed, job requeued. */
  readonly requeued: number;
}

export async function syncOpenJobs(ports: SyncPorts): Promise<SyncReport> {
  const report = { open: 0, checked: 0, advanced: 0, completed: 0, missing: 0, requeued: 0 };
  const settledBefore = ports.now().getTime() - ports.settleMs;
  const open: OpenJob[] = [];
  for (const pool of ports.config.pools) open.push(...(await ports.store.openJobs(pool.name)));
  report.open = open.length;
  // The jobs the slot holders' runners went on to run (job stealing): their completion frees those slots.
  const known = new Set(open.map((r) => r.jobId));
  const busyWith = open.flatMap((r) => (r.busyWith !== undefined && !known.has(r.busyWith) ? [r.busyWith] : []));
  if (busyWith.length > 0) open.push(...(await ports.store.jobRecords(busyWith)));
  // A scale-set job's id is the scale set's, not a REST one: its listener's messages (acknowledged only once written)
  // are its truth, and the REST API cannot be asked about it by that id.
  const settled = open.filter(
    (r) =>
      !isWarmJobId(r.jobId) &&
      !isScaleSetJobNumber(r.jobId) &&
      (r.state === 'dispatched' || r.state === 'in_progress') &&
      Date.parse(r.updatedAt) < settledBefore,
  );

  for (const record of nextWindow(settled, ports.maxJobChecks, ports.syncCursor)) {
    const { owner, repo, installationId } = record.job;
    if (installationId === undefined) continue;
    report.checked++;
    const job = await ports.github.getJob(installationId, owner, repo, record.jobId);
    if (!job) {
      report.missing++;
      continue;
    }
    if (job.status === 'queued') {
      if (await runnerGone(record, installationId, ports)) report.requeued++;
      continue;
    }
    if (job.status !== 'in_progress' && job.status !== 'completed') continue;
    if (STATE_RANK[job.status] <= STATE_RANK[record.state]) continue;
    const result = await acceptJobEvent(jobEventFromApi(job, { owner, repo, installationId }, job.status), ports);
    if (result.outcome !== 'recorded') continue;
    report.advanced++;
    if (job.status === 'completed') report.completed++;
  }
  return report;
}

/** A dispatched record whose runner was made and registered but GitHub no longer has: freed and requeued. */
async function runnerGone(record: OpenJob, installationId: number, ports: SyncPorts): Promise<boolean> {
  if (record.state !== 'dispatched' || record.launchState !== 'created' || record.launchedRunnerId === undefined || record.launchedRunner === undefined)
    return false;
  const scope = runnerScopeOf(ports.config.github.scope, record.job.owner, record.job.repo);
  if ((await ports.github.getRunner(installationId, scope, record.launchedRunnerId)) !== undefined) return false;
  return ports.slots.requeue(record.jobId, { pool: record.job.pool!, runnerName: record.launchedRunner, attempt: record.launchAttempt ?? 1, at: ports.now() });
}
