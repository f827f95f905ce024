import { isWarmJobId, wantedIdle, warmJobId, warmSlotOf, type Pool, type QueuedJob, type SlotHolder } from '@runners/shared';
import type { PublisherPorts } from './publish-round';

/*
 * Keeps the pool's idle warm runners (idle or booting, plus queued warm slots) at what its schedule wants now: opens
 * warm slots when short (launched from the next round, after the pool's jobs), closes queued ones when over. Idle
 * runners beyond it are the host rules' (after the pool's idle timeout). Also runs for a pool whose warm settings were
 * removed, to close what is left.
 */

export interface WarmRound {
  /** Warm runners holding a slot that no job has taken. */
  readonly idle: number;
  /** The pool's warm slots still queued (to launch). */
  readonly queued: QueuedJob[];
  /** Warm slots opened this round (launched from the next). */
  readonly opened: number;
}

export async function tendWarmSlots(pool: Pool, queuedSlots: QueuedJob[], slots: readonly SlotHolder[], ports: PublisherPorts): Promise<WarmRound> {
  if (!pool.warm && queuedSlots.length === 0) return { idle: 0, queued: [], opened: 0 };
  const { store } = ports;
  const runners = slots.filter((slot) => isWarmJobId(slot.jobId));
  const idle = runners.filter((r) => r.busyWith === undefined).length;
  const wanted = wantedIdle(pool.warm, ports.now());
  let queued = queuedSlots;
  let opened = 0;
  if (idle + queued.length > wanted) {
    const surplus = [...queued].sort((a, b) => b.jobId - a.jobId).slice(0, idle + queued.length - wanted);
    const closed = new Set<number>();
    for (const slot of surplus) if (await store.closeWarmSlot(slot.jobId)) closed.add(slot.jobId);
    queued = queued.filter((slot) => !closed.has(slot.jobId));
  } else if (idle + queued.length < wanted && pool.warm) {
    const used = new Set([...runners, ...queued].map((r) => warmSlotOf(pool.name, r.jobId)));
    const at = ports.now();
    // At most busy + wanted slots: one whose launches failed (cooling down) is not replaced by the next number, so
    // a pool whose hosts cannot start stays small instead of trying slot after slot.
    const highest = Math.min(pool.maxRunners, runners.length - idle + wanted);
    for (let slot = 1; opened < wanted - idle - queued.length && slot <= highest; slot++) {
      if (used.has(slot)) continue;
      const record = { pool: pool.name, jobId: warmJobId(pool.name, slot), owner: pool.warm.owner, repo: pool.warm.repo ?? '', labels: pool.labels };
      if (await store.openWarmSlot(record, at, new Date(at.getTime() - ports.limits.warmFailureCooldownMs))) opened++;
    }
  }
  return { idle, queued, opened };
}
