import {
  EMPTY_LAUNCH_LOG,
  MAX_ATTEMPT,
  STATE_RANK,
  type Dispatch,
  type DispatchBus,
  type DispatchStore,
  type FinishedJob,
  type HostMessage,
  type JobRecord,
  type PoolLaunchLog,
  type PublisherNotification,
  type QueuedJob,
  type SlotHolder,
  type WarmRunner,
  type WarmSlot,
} from '@runners/shared';

/*
 * The publisher's ports in memory, for unit tests of its steps: job records in a map, each method with the condition
 * of its DynamoDB transition (adapters/dynamodb/job-record-writes.ts; the integration tests run the real ones on moto).
 */

type Rec = { -readonly [K in keyof JobRecord]: JobRecord[K] };

export class MemoryDispatchStore implements DispatchStore {
  readonly records = new Map<number, Rec>();
  readonly logs = new Map<string, PoolLaunchLog>();
  /** Every write, in order: `<method> <jobId>`. */
  readonly writes: string[] = [];

  put(record: Partial<Rec> & Pick<Rec, 'jobId'>): Rec {
    const full: Rec = {
      pk: `JOB#${record.jobId}`,
      job: {
        runId: 1,
        runAttempt: 1,
        owner: 'octo-org',
        repo: 'app',
        labels: ['self-hosted'],
        jobName: 'build',
        firstSeenAt: new Date(0).toISOString(),
        installationId: 7,
        pool: 'docker-linux',
      },
      state: 'queued',
      stateRank: STATE_RANK.queued,
      updatedAt: new Date(0).toISOString(),
      lastDeliveryId: 'd',
      expiresAt: 0,
      ...record,
    } as Rec;
    this.records.set(record.jobId, full);
    return full;
  }

  get(jobId: number): Rec | undefined {
    return this.records.get(jobId);
  }

  private holds(jobId: number, runnerName: string): Rec | undefined {
    const r = this.records.get(jobId);
    return r && r.slotPool !== undefined && r.launchedRunner === runnerName ? r : undefined;
  }

  async queuedJobs(pool: string, limit: number): Promise<QueuedJob[]> {
    return [...this.records.values()]
      .filter((r) => r.queueKey === pool)
      .sort((a, b) => String(a.queueSortKey).localeCompare(String(b.queueSortKey)))
      .slice(0, limit)
      .map((r) => ({
        jobId: r.jobId,
        owner: r.job.owner,
        repo: r.job.repo,
        installationId: r.job.installationId,
        labels: r.job.labels,
        nextAttempt: ((r.launchAttempt ?? 0) % MAX_ATTEMPT) + 1,
        createdAt: r.job.createdAt ?? r.job.firstSeenAt,
        seenAt: r.job.firstSeenAt,
        queuedAt: r.updatedAt,
        notBefore: r.notBefore,
      }));
  }

  async slots(pool: string): Promise<SlotHolder[]> {
    return [...this.records.values()]
      .filter((r) => r.slotPool === pool)
      .map((r) => ({
        jobId: r.jobId,
        runnerName: r.launchedRunner!,
        repository: `${r.job.owner}/${r.job.repo}`,
        registration: {
          owner: r.job.owner,
          repo: r.job.repo,
          installationId: r.job.installationId,
          ...(r.launchedRunnerId !== undefined ? { runnerId: r.launchedRunnerId } : {}),
        },
        state: r.state,
        ...(r.runnerName !== undefined ? { ranOn: r.runnerName } : {}),
        ...(r.busyWith !== undefined ? { busyWith: r.busyWith } : {}),
        ...(r.dispatchedAt !== undefined ? { dispatchedAt: r.dispatchedAt } : {}),
        updatedAt: r.updatedAt,
      }));
  }

  async slotRunners(pool: string): Promise<Map<string, string>> {
    return new Map((await this.slots(pool)).map((s) => [s.runnerName, s.repository]));
  }

  async finishedJobs(pool: string, limit: number): Promise<FinishedJob[]> {
    return [...this.records.values()]
      .filter((r) => r.finishedKey === pool)
      .slice(0, limit)
      .map((r) => ({
        jobId: r.jobId,
        runnerName: r.runnerName,
        ...(r.runnerId !== undefined ? { runnerId: r.runnerId } : {}),
        launchedRunner: r.launchedRunner,
        holdsSlot: r.slotPool !== undefined,
        ...(r.busyWith !== undefined ? { busyWith: r.busyWith } : {}),
        registration: {
          owner: r.job.owner,
          repo: r.job.repo,
          installationId: r.job.installationId,
          ...(r.launchedRunnerId !== undefined ? { runnerId: r.launchedRunnerId } : {}),
        },
        conclusion: r.conclusion,
      }));
  }

  async launchLog(pool: string): Promise<PoolLaunchLog> {
    return this.logs.get(pool) ?? EMPTY_LAUNCH_LOG;
  }

  async saveLaunchLog(pool: string, log: PoolLaunchLog): Promise<boolean> {
    if ((this.logs.get(pool)?.version ?? 0) !== log.version - 1) return false;
    this.logs.set(pool, log);
    return true;
  }

  async markDispatched(jobId: number, d: Dispatch): Promise<boolean> {
    const r = this.records.get(jobId);
    if (!r || r.stateRank !== STATE_RANK.queued) return false;
    this.writes.push(`markDispatched ${jobId}`);
    Object.assign(r, {
      state: 'dispatched',
      stateRank: STATE_RANK.dispatched,
      dispatchedAt: d.at.toISOString(),
      updatedAt: d.at.toISOString(),
      launchAttempt: d.attempt,
      slotPool: d.pool,
      launchedRunner: d.runnerName,
    });
    delete r.queueKey;
    delete r.busyWith;
    return true;
  }

  async requeue(jobId: number, d: Dispatch): Promise<boolean> {
    const r = this.records.get(jobId);
    if (!r || r.stateRank !== STATE_RANK.dispatched || r.launchedRunner !== d.runnerName) return false;
    this.writes.push(`requeue ${jobId}`);
    Object.assign(r, { state: 'queued', stateRank: STATE_RANK.queued, updatedAt: d.at.toISOString(), queueKey: d.pool });
    delete r.slotPool;
    delete r.launchedRunner;
    return true;
  }

  async slotsHeld(runners: readonly { readonly jobId: number; readonly runnerName: string }[]): Promise<Map<string, string>> {
    return new Map(
      runners.flatMap((x) =>
        this.holds(x.jobId, x.runnerName) ? [[x.runnerName, `${this.records.get(x.jobId)!.job.owner}/${this.records.get(x.jobId)!.job.repo}`] as const] : [],
      ),
    );
  }

  async releaseSlot(jobId: number, runnerName: string): Promise<boolean> {
    const r = this.holds(jobId, runnerName);
    if (!r) return false;
    this.writes.push(`releaseSlot ${jobId}`);
    delete r.slotPool;
    return true;
  }

  async releaseLostRunner(jobId: number, pool: string, runnerName: string, at: Date): Promise<'requeued' | 'released' | 'not-held'> {
    const r = this.holds(jobId, runnerName);
    if (!r) return 'not-held';
    this.writes.push(`releaseLostRunner ${jobId}`);
    delete r.slotPool;
    if (r.state !== 'dispatched') return 'released';
    Object.assign(r, { state: 'queued', stateRank: STATE_RANK.queued, updatedAt: at.toISOString(), queueKey: pool });
    delete r.launchedRunner;
    return 'requeued';
  }

  async releaseFinished(jobId: number, runnerName: string): Promise<boolean> {
    const r = this.holds(jobId, runnerName);
    if (!r) return false;
    this.writes.push(`releaseFinished ${jobId}`);
    delete r.slotPool;
    delete r.finishedKey;
    return true;
  }

  async clearFinished(jobId: number): Promise<void> {
    this.writes.push(`clearFinished ${jobId}`);
    delete this.records.get(jobId)?.finishedKey;
  }

  async warmRunners(): Promise<WarmRunner[]> {
    throw new Error('the publisher derives warm runners from slots()');
  }

  async openWarmSlot(slot: WarmSlot, at: Date): Promise<boolean> {
    const r = this.records.get(slot.jobId);
    if (r && (r.slotPool !== undefined || r.queueKey !== undefined)) return false;
    this.writes.push(`openWarmSlot ${slot.jobId}`);
    this.put({
      jobId: slot.jobId,
      state: 'queued',
      stateRank: STATE_RANK.queued,
      updatedAt: at.toISOString(),
      queueKey: slot.pool,
      queueSortKey: `~warm#${slot.jobId}`,
      job: {
        runId: 0,
        runAttempt: 1,
        owner: slot.owner,
        repo: slot.repo,
        labels: [...slot.labels],
        jobName: 'warm runner',
        firstSeenAt: at.toISOString(),
        pool: slot.pool,
      },
    });
    return true;
  }

  async closeWarmSlot(jobId: number): Promise<boolean> {
    const r = this.records.get(jobId);
    if (!r || r.queueKey === undefined) return false;
    this.records.delete(jobId);
    return true;
  }
}

/** The dispatch bus in memory: what was published; `failing` messages are reported failed. */
export class MemoryDispatchBus implements DispatchBus {
  readonly published: HostMessage[] = [];
  readonly notifications: PublisherNotification[] = [];
  failing: (message: HostMessage) => boolean = () => false;

  async publishHostMessages<T extends HostMessage>(messages: readonly T[]): Promise<{ failed: T[] }> {
    const failed = messages.filter((m) => this.failing(m));
    this.published.push(...messages.filter((m) => !this.failing(m)));
    return { failed };
  }

  async notifyPublisher(notification: PublisherNotification): Promise<void> {
    this.notifications.push(notification);
  }
}
