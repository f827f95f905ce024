import type { HookDelivery } from '../github/github-client';

/*
 * Which webhook deliveries to ask GitHub to send again. GitHub does not retry a failed delivery by itself; the App's
 * deliveries API lists every attempt (redeliveries carry the original GUID). A delivery is lost when no attempt of its
 * GUID got a 2xx; only workflow_job events matter here; each lost GUID is redelivered once (the newest attempt), and
 * the caller remembers which (DeliveryLog), so a delivery that fails again is not redelivered again and again.
 */

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

/** Remembers which GUIDs were redelivered; `remember` is true only for the first caller (conditional write). */
export interface DeliveryLog {
  remember(guid: string, deliveryId: number, now: Date): Promise<boolean>;
  /** The redelivery did not happen after all: the next pass may try again. */
  forget(guid: string): Promise<void>;
}
