import { lostDeliveries, type DeliveryLog, type GitHubClient } from '@runners/shared';

/*
 * One redelivery pass: the App's deliveries of the last `lookbackMs` → the lost workflow_job ones → each redelivered
 * once. The GUID is remembered before the redelivery (a conditional write: two passes never both redeliver) and
 * forgotten again if GitHub refuses, so the next pass tries again.
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
}

export interface RedeliverReport {
  readonly examined: number;
  readonly lost: number;
  readonly redelivered: number;
  readonly alreadyRedelivered: number;
  readonly failed: number;
}

export async function redeliverLost(ports: RedeliverPorts): Promise<RedeliverReport> {
  const deliveries = await ports.github.listDeliveries({ since: new Date(ports.now().getTime() - ports.lookbackMs) });
  const lost = lostDeliveries(deliveries, new Date(ports.now().getTime() - ports.settleMs));
  const report = { examined: deliveries.length, lost: lost.length, redelivered: 0, alreadyRedelivered: 0, failed: 0 };
  for (const delivery of lost) {
    if (report.redelivered >= ports.maxRedeliveries) break;
    if (!(await ports.log.remember(delivery.guid, Number(delivery.id), ports.now()))) {
      report.alreadyRedelivered++;
      continue;
    }
    try {
      await ports.github.redeliver(Number(delivery.id));
      report.redelivered++;
    } catch {
      await ports.log.forget(delivery.guid);
      report.failed++;
    }
  }
  return report;
}
