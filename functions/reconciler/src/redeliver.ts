import { lostDeliveries, type DeliveryLog, type HookDelivery, type RedeliveryBackoff } from '@runners/shared';
import { type GitHubClient } from '@runners/shared/github';

/*
 * One redelivery pass: the App's deliveries of the last `lookbackMs`, walked page by page with GitHub's cursor until
 * the lookback is covered (at organisation scale that is thousands, most of them other events and GitHub-hosted
 * jobs) → the lost workflow_job ones → each redelivered, or again after its back-off if its redelivery failed too.
 * What a pass read is kept while the execution environment lives (`seen`): the next pass reads only the deliveries
 * since, down to the first it has seen that is older than the settle time — a page or two instead of the lookback.
 * The GUID is claimed before the redelivery (a conditional write: two passes never both redeliver) and released if
 * GitHub refuses, so the next pass tries again. The back-off stays under the lookback, so a failed redelivery is still
 * in the window when its next try is due; past GitHub's 3-day limit a GUID is left to the job-state passes.
 */

export interface RedeliverPorts {
  readonly github: Pick<GitHubClient, 'listDeliveries' | 'redeliver'>;
  readonly log: DeliveryLog;
  readonly now: () => Date;
  readonly lookbackMs: number;
  /** Deliveries younger than this may still be in flight; they wait for a later pass. */
  readonly settleMs: number;
  /** Bounds the GitHub calls of one pass; the rest wait for the next. */
  readonly maxRedeliveries: number;
  /** First retry of a failed redelivery after this; doubling (default: 5 minutes). */
  readonly retryBaseMs?: number;
  /** The deliveries read by earlier passes of this execution environment, by id (pruned to the lookback). */
  readonly seen?: Map<number, HookDelivery>;
}

export interface RedeliverReport {
  readonly examined: number;
  /** Of them, read from GitHub by this pass (the rest were read by earlier passes). */
  readonly read: number;
  readonly lost: number;
  readonly redelivered: number;
  /** Redelivered before and failed again: their next try waits out its back-off. */
  readonly waiting: number;
  /** Past GitHub's redelivery limit: the job-state passes find their jobs. */
  readonly expired: number;
  readonly failed: number;
}

export async function redeliverLost(ports: RedeliverPorts): Promise<RedeliverReport> {
  const since = new Date(ports.now().getTime() - ports.lookbackMs);
  const settledBefore = new Date(ports.now().getTime() - ports.settleMs);
  const seen = ports.seen;
  // Newest first: once a delivery read before is older than the settle time, everything after it was read before too.
  const read = await ports.github.listDeliveries({
    since,
    ...(seen && seen.size > 0 ? { stopAt: (d: HookDelivery) => seen.has(Number(d.id)) && Date.parse(d.delivered_at) < settledBefore.getTime() } : {}),
  });
  if (seen) {
    for (const delivery of read) seen.set(Number(delivery.id), delivery);
    for (const [id, delivery] of seen) if (Date.parse(delivery.delivered_at) < since.getTime()) seen.delete(id);
  }
  const deliveries = seen ? [...seen.values()] : read;
  const lost = lostDeliveries(deliveries, settledBefore);
  const report = { examined: deliveries.length, read: read.length, lost: lost.length, redelivered: 0, waiting: 0, expired: 0, failed: 0 };
  const backoff: RedeliveryBackoff = { baseMs: ports.retryBaseMs ?? 5 * 60_000, maxMs: Math.max(60_000, ports.lookbackMs - 2 * ports.settleMs) };
  for (const delivery of lost) {
    // Refusals count too: a GitHub that refuses every redelivery costs at most this many calls a pass.
    if (report.redelivered + report.failed >= ports.maxRedeliveries) break;
    const claim = await ports.log.claim(delivery.guid, Number(delivery.id), ports.now(), backoff);
    if (claim !== 'claimed') {
      report[claim]++;
      continue;
    }
    try {
      await ports.github.redeliver(Number(delivery.id));
      report.redelivered++;
    } catch {
      await ports.log.release(delivery.guid);
      report.failed++;
    }
  }
  return report;
}
