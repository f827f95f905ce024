import { isSpareRunner, isWarmJobId, type Pool, type SlotHolder, type TeardownMessage } from '@runners/shared';
import { targetOf } from './publish-round';

/*
 * A pool's idle runners: warm runners no job has taken yet, and spare runners — launched for a job that another runner
 * ran (job stealing) or that ended without one (cancelled), and given no job since. GitHub gives each of them the next
 * queued job of the pool within seconds, so each stands in for a launch instead of a new runner that could only end
 * idle. Spares beyond the queued jobs are retired (only if GitHub confirms they are idle: the teardown's delete is the
 * check).
 */

export interface IdleRunners {
  readonly warm: number;
  /** Oldest spare first. */
  readonly spares: readonly SlotHolder[];
}

export function idleRunners(slots: readonly SlotHolder[]): IdleRunners {
  return {
    warm: slots.filter((slot) => isWarmJobId(slot.jobId) && slot.busyWith === undefined).length,
    spares: slots
      .filter(
        (slot) =>
          !isWarmJobId(slot.jobId) && isSpareRunner({ launchedRunner: slot.runnerName, state: slot.state, runnerName: slot.ranOn, busyWith: slot.busyWith }),
      )
      .sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt)),
  };
}

/** The spares no queued job needs that have been spare longer than `graceMs` (a busy mark may still be on its way). */
export function surplusSpares(spares: readonly SlotHolder[], queuedJobs: number, nowMs: number, graceMs: number): SlotHolder[] {
  return spares.slice(0, Math.max(0, spares.length - queuedJobs)).filter((spare) => nowMs - Date.parse(spare.updatedAt) >= graceMs);
}

/** The teardown of a spare: only if GitHub says it is idle, its registration's whereabouts in the message. */
export function retireSpare(pool: Pick<Pool, 'name' | 'host' | 'os'>, spare: SlotHolder, traceHeader: string | undefined): TeardownMessage {
  return {
    ...targetOf(pool),
    action: 'teardown',
    runnerName: spare.runnerName,
    reason: spare.ranOn ? 'job-ran-elsewhere' : 'job-cancelled',
    onlyIfIdle: true,
    jobId: spare.jobId,
    registration: spare.registration,
    traceHeader,
  };
}
