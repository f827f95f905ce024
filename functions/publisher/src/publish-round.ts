import type { DispatchBus, DispatchStore, Pool, PoolsConfig } from '@runners/shared';
import type { JobAnnotations } from '@runners/shared/tracing';
import { tearDownFinished } from './finished-jobs';
import { launchQueued, type LaunchRound } from './launch-queued';

/*
 * One publisher round. For each pool asked about: deal with finished jobs first (teardown messages, slots freed,
 * jobs whose runner ran another job back in the queue), then launch as many queued jobs as the pool's limits allow,
 * fairly across repositories, leaving to the pool's idle runners (warm, or spare: launched for a job another runner
 * ran) the jobs GitHub will give them. Every step is a conditional write or idempotent, so a round that crashes
 * anywhere can simply run again.
 */

export interface RoundLimits {
  /** Launches per pool per round; past it the publisher re-notifies itself instead of running long. */
  readonly launchesPerRound: number;
  /** How many of a pool's oldest queued jobs fair sharing looks at. */
  readonly queueWindow: number;
  readonly finishedPerRound: number;
  /** Retries of a pool whose launch log another publisher changed meanwhile. */
  readonly conflictRetries: number;
  /**
   * A job (re)queued less than this long ago, in a pool with idle runners (warm, or spare), is left to them — GitHub
   * gives it to one in seconds — instead of launching a runner of its own; past it, it is launched like any job. A
   * spare runner no queued job needs is retired once it has been spare this long (its busy mark may be on its way).
   */
  readonly idleGraceMs: number;
  /** A warm slot whose launches failed is opened again only after this long. */
  readonly warmFailureCooldownMs: number;
}

export const DEFAULT_ROUND_LIMITS: RoundLimits = {
  launchesPerRound: 100,
  queueWindow: 1_000,
  finishedPerRound: 500,
  conflictRetries: 3,
  idleGraceMs: 20_000,
  warmFailureCooldownMs: 10 * 60_000,
};

export interface PublisherPorts {
  readonly config: PoolsConfig;
  readonly store: DispatchStore;
  readonly bus: DispatchBus;
  readonly now: () => Date;
  readonly traceHeader: () => string | undefined;
  readonly limits: RoundLimits;
  /** Runs one job's step as a stage of its trace (tracing/job-segment.ts); by default just runs it. */
  readonly traceJob?: <T>(stage: string, job: JobAnnotations, work: () => Promise<T>) => Promise<T>;
}

export interface PoolRound extends LaunchRound {
  readonly pool: string;
  readonly teardowns: number;
  readonly slotsReleased: number;
}

export interface RoundResult {
  readonly pools: readonly PoolRound[];
  readonly renotified: readonly string[];
}

export const targetOf = (pool: Pick<Pool, 'name' | 'host' | 'os'>) => ({ pool: pool.name, host: pool.host, os: pool.os });

/**
 * `pools`: names to work on; undefined = every pool (the scheduled tick). Unknown names are skipped. `finished`: the
 * pools among them where a job finished (from the messenger); undefined = any may have (their finished index is read).
 */
export async function publishRound(pools: readonly string[] | undefined, ports: PublisherPorts, finished?: ReadonlySet<string>): Promise<RoundResult> {
  const byName = new Map(ports.config.pools.map((p) => [p.name, p]));
  const targets = pools === undefined ? ports.config.pools : [...new Set(pools)].flatMap((name) => byName.get(name) ?? []);
  const results: PoolRound[] = [];
  const renotify = new Set<string>();
  const pending = new Set(targets.map((p) => p.name));
  for (const pool of targets) {
    pending.delete(pool.name);
    const { round, freedPools } = await poolRound(pool, ports, byName, finished === undefined || finished.has(pool.name));
    results.push(round);
    if (round.moreToLaunch) renotify.add(pool.name);
    // A runner of another pool ran one of this pool's jobs (job stealing across pools): that pool has a free slot,
    // and needs a round of its own unless it still has one coming in this invocation.
    for (const name of freedPools) if (!pending.has(name)) renotify.add(name);
  }
  const renotified = [...renotify];
  if (renotified.length > 0) {
    await ports.bus.notifyPublisher({
      kind: 'pools-changed',
      pools: renotified,
      reasons: { 'publisher-batch-limit': renotified.length },
      traceHeader: ports.traceHeader(),
    });
  }
  return { pools: results, renotified };
}

async function poolRound(
  pool: Pool,
  ports: PublisherPorts,
  pools: ReadonlyMap<string, Pool>,
  anyFinished: boolean,
): Promise<{ round: PoolRound; freedPools: string[] }> {
  // No job of the pool finished since its last round (the messenger says so): its finished index is not read.
  const { freedPools, ...finished } = anyFinished ? await tearDownFinished(pool, ports, pools) : { teardowns: 0, slotsReleased: 0, freedPools: [] };
  for (let attempt = 0; ; attempt++) {
    const launch = await launchQueued(pool, ports);
    if (launch !== 'conflict') return { round: { pool: pool.name, ...finished, ...launch }, freedPools };
    // Another publisher spent this pool's capacity first: recompute from what it wrote.
    if (attempt >= ports.limits.conflictRetries) {
      const gaveUp: LaunchRound = {
        launched: 0,
        inFlight: -1,
        available: 0,
        queued: 0,
        dispatchDelays: [],
        moreToLaunch: false,
        failedPublishes: 0,
        leftToIdle: 0,
        sparesRetired: 0,
      };
      return { round: { pool: pool.name, ...finished, ...gaveUp }, freedPools };
    }
  }
}
