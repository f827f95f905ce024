import { parseRunnerName, type FinishedJob, type Pool, type TeardownMessage } from '@runners/shared';
import { targetOf, type PublisherPorts } from './publish-round';

/*
 * The publisher's part of a finished job (its `completed` webhook put it in the finished index):
 *  - the runner that ran it, when it is ours, is torn down — a `finished` runner has deregistered itself, so only its
 *    host goes; the runner of a failed job may have died and kept its registration (`job-failed` removes it) — and its
 *    slot is freed. The slot is held by the record of the job that runner was launched for: with job stealing another
 *    job, which lost its runner and goes back to the queue if it still waits for it.
 *  - the runner launched for it, when another runner ran it (or none did: cancelled while queued): if GitHub gave it
 *    another job (`busyWith`), that job's completion frees it; else it is a spare runner of the pool, kept for the next
 *    queued job GitHub gives it. The launch step counts it as idle and retires the spares no queued job needs.
 * A job's own runner is torn down before its slot is freed: a crash in between re-sends an idempotent teardown.
 */

interface Teardown {
  readonly message: TeardownMessage;
  readonly job: FinishedJob;
  /** The pool and record of the job the runner was launched for. */
  readonly launchedFor: { readonly jobId: number; readonly pool: string };
}

export interface FinishedRound {
  readonly teardowns: number;
  readonly slotsReleased: number;
  /** Pools with a slot freed or a job requeued here: they need a round (this one's launch step sees its own). */
  readonly freedPools: string[];
}

export async function tearDownFinished(pool: Pool, ports: PublisherPorts, pools: ReadonlyMap<string, Pool>): Promise<FinishedRound> {
  const { store, config } = ports;
  const finished = await store.finishedJobs(pool.name, ports.limits.finishedPerRound);
  const poolNames = new Set(pools.keys());
  const at = ports.now();
  let slotsReleased = 0;
  const freedPools = new Set<string>();
  const dealtWith = new Set<number>();
  const own: Teardown[] = [];
  const stolen: Teardown[] = [];
  for (const job of finished) {
    const ran = job.runnerName ? parseRunnerName(job.runnerName, config.runnerNamePrefix, poolNames) : undefined;
    const ranPool = ran && pools.get(ran.pool);
    if (!ran || !ranPool || !job.runnerName) continue;
    const teardown: Teardown = { job, launchedFor: { jobId: ran.jobId, pool: ran.pool }, message: teardownOf(job, job.runnerName, ran.jobId, ranPool, ports) };
    // Its own runner: the record says whether it still holds the slot (no read). Another job's runner (job stealing):
    // that job's record is not at hand — its slot is released first, conditionally, and only a runner whose slot
    // was ours to release is torn down (a name that merely looks like ours, another deployment's, is left alone).
    if (ran.jobId === job.jobId) {
      if (job.holdsSlot && job.launchedRunner === job.runnerName) own.push(teardown);
      continue;
    }
    const outcome = await store.releaseLostRunner(ran.jobId, ran.pool, job.runnerName, at);
    if (outcome === 'not-held') continue;
    slotsReleased++;
    // That job lost its runner: back in its pool's queue, or its pool has a free slot (another pool: it needs a round).
    if (outcome === 'requeued' || ran.pool !== pool.name) freedPools.add(ran.pool);
    stolen.push(teardown);
  }

  // A stolen runner's teardown that cannot be published now is lost to this path: its host ends by itself after its
  // job, and the host rules and the registration pass remove what is left. Its own runner's teardown is retried: the
  // job stays in the finished index until it is published.
  const { failed } = await ports.bus.publishHostMessages([...own, ...stolen].map((t) => t.message));
  const unpublished = new Set(failed);
  for (const { message, job } of own) {
    if (unpublished.has(message)) continue;
    // The slot freed and the job dealt with in one write (unless someone freed the slot first: then cleared below).
    if (await store.releaseFinished(job.jobId, message.runnerName, at)) {
      slotsReleased++;
      dealtWith.add(job.jobId);
    }
  }
  const retryLater = new Set(own.filter((t) => unpublished.has(t.message)).map((t) => t.job.jobId));
  for (const job of finished) if (!retryLater.has(job.jobId) && !dealtWith.has(job.jobId)) await store.clearFinished(job.jobId);
  return { teardowns: own.length + stolen.length - unpublished.size, slotsReleased, freedPools: [...freedPools] };
}

function teardownOf(job: FinishedJob, runnerName: string, holder: number, ranPool: Pool, ports: PublisherPorts): TeardownMessage {
  const failed = job.conclusion === 'failure';
  return {
    ...targetOf(ranPool),
    action: 'teardown',
    runnerName,
    reason: failed ? 'job-failed' : 'finished',
    onlyIfIdle: false,
    jobId: holder,
    finishedJobId: job.jobId,
    // The runner that ran the job is registered where the job's runners are, under the id GitHub gave with it.
    ...(failed ? { registration: { ...job.registration, ...(job.runnerId !== undefined ? { runnerId: job.runnerId } : {}) } } : {}),
    traceHeader: job.traceHeader ?? ports.traceHeader(),
  };
}
