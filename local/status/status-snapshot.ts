import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JOBS_TABLE, type JobRecord, type PoolsConfig } from '@runners/shared';
import { DynamoDbDispatchStore, JobsTableAccess } from '@runners/shared/dynamodb';
import { jobTimeline, stepDurations, type Timeline } from '../traces/job-timeline';
import type { TraceStore } from '../traces/trace-collector';

/*
 * What the status page (and `make status`) shows: per pool its capacity, runners in flight, jobs queued, launches in
 * the last minute, failing launches and the oldest wait; recent jobs with their stage timeline; runners and hosts;
 * what the reconcile passes did last. Read-only: Query and BatchGetItem on the Jobs table (works with an operator's
 * credentials against a deployed stack), plus what only the local stack has (traces, containers, the simulator).
 */

export interface PoolStatus {
  readonly pool: string;
  readonly host: string;
  readonly maxRunners: number;
  readonly inFlight: number;
  readonly queued: number;
  readonly launchesLastMinute: number;
  readonly launchesPerMinute: number;
  /** Queued jobs whose last launch failed (retried after a back-off). */
  readonly failingLaunches: number;
  readonly lastLaunchError?: string;
  readonly oldestWaitSeconds?: number;
}

export interface JobStatus {
  readonly jobId: number;
  readonly pool?: string;
  readonly state?: string;
  readonly runnerName?: string;
  readonly notice?: string;
  readonly timeline: Timeline;
  readonly steps: Partial<Record<string, number>>;
}

export interface StatusSnapshot {
  readonly at: string;
  readonly pools: readonly PoolStatus[];
  readonly jobs: readonly JobStatus[];
  readonly hosts: readonly { readonly runnerName: string; readonly pool?: string }[];
  readonly runners: readonly { readonly name: string; readonly status: string; readonly busy: boolean }[];
  readonly passes: readonly { readonly function: string; readonly message: string; readonly at: string; readonly counts: Record<string, number> }[];
}

export interface StatusSources {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly config: Pick<PoolsConfig, 'pools'>;
  readonly now?: () => Date;
  /** Local only: the collected traces, the runner containers, GitHub's runners (the simulator), the passes' log lines. */
  readonly traces?: TraceStore;
  readonly hosts?: () => Promise<readonly { readonly runnerName: string; readonly pool?: string }[]>;
  readonly runners?: () => readonly { readonly name: string; readonly status: string; readonly busy: boolean }[];
  readonly passes?: () => StatusSnapshot['passes'];
}

const { queuedByPool, slotsByPool } = JOBS_TABLE.indexes;

export async function statusSnapshot(sources: StatusSources): Promise<StatusSnapshot> {
  const now = (sources.now ?? (() => new Date()))();
  const dispatch = new DynamoDbDispatchStore(sources.dynamodb, sources.tableName);
  const table = new JobsTableAccess(sources.dynamodb, sources.tableName);
  const pools = await Promise.all(
    sources.config.pools.map(async (pool): Promise<PoolStatus> => {
      const [inFlight, queuedCount, queued, log] = await Promise.all([
        table.count(slotsByPool.name, slotsByPool.partitionKey.name, pool.name),
        table.count(queuedByPool.name, queuedByPool.partitionKey.name, pool.name),
        table.query<JobRecord>(queuedByPool.name, queuedByPool.partitionKey.name, pool.name, 200),
        dispatch.launchLog(pool.name),
      ]);
      const failing = queued.filter((j) => j.launchError);
      const oldest = queued.map((j) => Date.parse(j.job.createdAt ?? j.job.firstSeenAt)).sort((a, b) => a - b)[0];
      return {
        pool: pool.name,
        host: pool.host,
        maxRunners: pool.maxRunners,
        inFlight,
        queued: queuedCount,
        launchesLastMinute: log.recent.filter((l) => now.getTime() - l.at < 60_000).length,
        launchesPerMinute: pool.launchesPerMinute,
        failingLaunches: failing.length,
        ...(failing[0]?.launchError ? { lastLaunchError: `${failing[0].launchError.reason}: ${failing[0].launchError.message}`.slice(0, 200) } : {}),
        ...(oldest !== undefined ? { oldestWaitSeconds: Math.max(0, Math.round((now.getTime() - oldest) / 1000)) } : {}),
      };
    }),
  );
  const recent = sources.traces?.jobIds().slice(-15).reverse().map(Number) ?? [];
  const records = new Map<number, JobRecord>();
  if (recent.length > 0) {
    await table.batchGet(recent, ['jobId', 'state', 'job', 'runnerName', 'notice'], (item) => {
      const record = item as unknown as JobRecord;
      records.set(record.jobId, record);
    });
  }
  const jobs = recent.map((jobId): JobStatus => {
    const record = records.get(jobId);
    const timeline = jobTimeline(sources.traces!.ofJob(jobId));
    return {
      jobId,
      ...(record?.job.pool ? { pool: record.job.pool } : {}),
      ...(record?.state ? { state: record.state } : {}),
      ...(record?.runnerName ? { runnerName: record.runnerName } : {}),
      ...(record?.notice ? { notice: record.notice.reason } : {}),
      timeline,
      steps: stepDurations(timeline),
    };
  });
  return {
    at: now.toISOString(),
    pools,
    jobs,
    hosts: (await sources.hosts?.()) ?? [],
    runners: sources.runners?.() ?? [],
    passes: sources.passes?.() ?? [],
  };
}

/** The reconcile passes' latest reports, from the functions' log lines (local: the stack sees every line). */
export class PassLog {
  private readonly latest = new Map<string, StatusSnapshot['passes'][number]>();

  observe(functionName: string, line: string): void {
    if (!line.includes(' pass"')) return;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (typeof entry.message !== 'string' || !entry.message.endsWith(' pass')) return;
      const counts = Object.fromEntries(
        Object.entries(entry).filter(([key, v]) => typeof v === 'number' && !['sampling_rate', 'jobId'].includes(key) && !key.startsWith('function_')),
      ) as Record<string, number>;
      this.latest.set(`${functionName} ${entry.message}`, {
        function: functionName,
        message: entry.message,
        at: String(entry.timestamp ?? new Date().toISOString()),
        counts,
      });
    } catch {
      // not a structured line
    }
  }

  passes(): StatusSnapshot['passes'] {
    return [...this.latest.values()].sort((a, b) => a.function.localeCompare(b.function) || a.message.localeCompare(b.message));
  }
}
