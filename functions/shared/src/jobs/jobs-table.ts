/*
 * The Jobs table's layout, shared by the stacks (cdktf), the local stack (moto) and the store that writes it, so
 * that they cannot drift. Plain data: each consumer turns it into its own API's shape.
 */

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /** ALL where readers need the record; a few attributes where they only count or group. */
  readonly projection: 'ALL' | { readonly include: readonly string[] };
}

export const JOBS_TABLE = {
  partitionKey: { name: 'pk', type: 'S' },
  ttlAttribute: 'expiresAt',
  /** Old and new images: the messenger acts on transitions (e.g. queued → completed frees a runner). */
  streamView: 'NEW_AND_OLD_IMAGES',
  indexes: {
    /**
     * Sparse: a job is in it only while it is queued and routed to a pool. Partition = pool, sort = GitHub's
     * creation time then job id, so the publisher reads each pool's queue oldest first.
     */
    queuedByPool: {
      name: 'queued-by-pool',
      partitionKey: { name: 'queueKey', type: 'S' },
      sortKey: { name: 'queueSortKey', type: 'S' },
      projection: 'ALL',
    },
    /**
     * Sparse: the runner slots a pool has in flight. A job record holds the slot of the runner launched for it from
     * dispatch until that runner is finished or torn down; in-flight is derived from this index, never a counter.
     * The job's description comes along, so fair sharing can count in-flight runners per repository; and what the
     * publisher needs to tell the pool's idle runners (warm, or spare: their job ran elsewhere) and to retire one
     * without reading its record (state, the runner that ran the job, busyWith, the registration's id).
     */
    slotsByPool: {
      name: 'slots-by-pool',
      partitionKey: { name: 'slotPool', type: 'S' },
      sortKey: { name: 'launchedRunner', type: 'S' },
      projection: { include: ['job', 'jobId', 'state', 'runnerName', 'busyWith', 'dispatchedAt', 'updatedAt', 'launchedRunnerId'] },
    },
    /** Sparse: completed jobs whose runner the publisher has not dealt with yet (teardown, slot release). */
    finishedByPool: {
      name: 'finished-by-pool',
      partitionKey: { name: 'finishedKey', type: 'S' },
      sortKey: { name: 'pk', type: 'S' },
      projection: 'ALL',
    },
  },
} as const satisfies {
  partitionKey: KeyAttribute;
  ttlAttribute: string;
  streamView: string;
  indexes: Record<string, IndexDefinition>;
};

/** Every attribute that a key of the table or of an index uses, once each. */
export function jobsTableKeyAttributes(): KeyAttribute[] {
  const all: KeyAttribute[] = [JOBS_TABLE.partitionKey];
  for (const index of Object.values(JOBS_TABLE.indexes)) all.push(index.partitionKey, index.sortKey);
  return [...new Map(all.map((a) => [a.name, a])).values()];
}

export const jobKey = (jobId: number): string => `JOB#${jobId}`;
/** The per-pool record of recent launches (launch-rate budget, slots not yet visible in the index). */
export const poolKey = (pool: string): string => `POOL#${pool}`;
