import type { HookDelivery } from '../github/github-model';

/*
 * Which webhook deliveries to ask GitHub to send again. GitHub does not retry a failed delivery by itself; the App's
 * deliveries API lists every attempt (redeliveries carry the original GUID). A delivery is lost when no attempt of its
 * GUID got a 2xx; only workflow_job events matter here; a lost GUID is redelivered (its newest attempt), and the caller
 * remembers it (DeliveryLog): a redelivery that fails too is tried again after a growing back-off, until GitHub's
 * 3-day limit ("you can redeliver webhook deliveries that occurred in the past 3 days", docs.github.com, Redelivering
 * webhooks) — after that the job-state passes (lost jobs, open jobs) are what finds the job.
 */

/** GitHub keeps a delivery redeliverable this long. */
export const REDELIVERY_LIMIT_MS = 3 * 24 * 3600_000;

/** When the next redelivery of a GUID may go: base × 2^(attempts-1), at most `maxMs`. */
export interface RedeliveryBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

export function nextRedeliveryAt(attempts: number, now: Date, backoff: RedeliveryBackoff): number {
  return now.getTime() + Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempts - 1));
}

export const REDELIVERED_EVENTS = new Set(['workflow_job']);

/**
 * `settledBefore`: attempts newer than this may still be under way (listed while pending, or a redelivery in flight):
 * a GUID whose newest attempt is newer waits for a later pass.
 */
export function lostDeliveries(deliveries: readonly HookDelivery[], settledBefore: Date): HookDelivery[] {
  const byGuid = new Map<string, HookDelivery[]>();
  for (const delivery of deliveries) {
    if (!REDELIVERED_EVENTS.has(delivery.event)) continue;
    byGuid.set(delivery.guid, [...(byGuid.get(delivery.guid) ?? []), delivery]);
  }
  const lost: HookDelivery[] = [];
  for (const attempts of byGuid.values()) {
    if (attempts.some((a) => a.status_code >= 200 && a.status_code < 300)) continue;
    const newest = attempts.reduce((latest, a) => (Date.parse(a.delivered_at) > Date.parse(latest.delivered_at) ? a : latest));
    if (Date.parse(newest.delivered_at) > settledBefore.getTime()) continue;
    lost.push(newest);
  }
  return lost.sort((a, b) => Date.parse(a.delivered_at) - Date.parse(b.delivered_at));
}

/**
 * Remembers which GUIDs were redelivered, how often and when the next try may go. `claim` is a conditional write:
 * of two passes, one claims; a GUID in its back-off is `waiting`; one first redelivered longer ago than GitHub's limit
 * is `expired`.
 */
export interface DeliveryLog {
  claim(guid: string, deliveryId: number, now: Date, backoff: RedeliveryBackoff): Promise<'claimed' | 'waiting' | 'expired'>;
  /** The redelivery did not happen after all (GitHub refused it): the next pass may try again at once. */
  release(guid: string): Promise<void>;
}
