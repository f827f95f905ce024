import type { components } from '@octokit/openapi-types';
import { sign } from '@octokit/webhooks-methods';
import { randomUUID } from 'node:crypto';

/*
 * Webhook deliveries, as GitHub makes them: signed (`X-Hub-Signature-256`), with a delivery GUID, recorded for the
 * deliveries API; GitHub does not retry a failed delivery by itself, but `POST …/attempts` redelivers it with the
 * same GUID. Faults can drop (recorded as failed), duplicate, reorder (hold back) or delay deliveries.
 */

export type DeliveryItem = components['schemas']['hook-delivery-item'];

export interface WebhookFaults {
  /** Fractions 0..1 of deliveries. */
  drop: number;
  duplicate: number;
  reorder: number;
  /** Extra latency of every delivery. */
  delayMs: number;
  /**
   * `completed` deliveries lost for good: dropped, and every redelivery of them fails too (the receiver down each
   * time, or the delivery past the redelivery lookback): only asking GitHub for the job's state finds them.
   */
  loseCompleted?: number;
}

export interface Delivery {
  readonly id: number;
  readonly guid: string;
  readonly event: string;
  readonly action: string;
  readonly installationId: number;
  readonly repositoryId: number;
  readonly body: string;
  /** The loseCompleted fault chose it: no attempt of it ever gets through. */
  readonly lostForGood?: boolean;
  deliveredAt: number;
  statusCode: number;
  status: string;
  durationMs: number;
  redelivery: boolean;
}

export interface DeliveryStats {
  sent: number;
  failed: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  redelivered: number;
}

export class Deliveries {
  readonly all: Delivery[] = [];
  readonly stats: DeliveryStats = { sent: 0, failed: 0, dropped: 0, duplicated: 0, reordered: 0, redelivered: 0 };
  faults: WebhookFaults = { drop: 0, duplicate: 0, reorder: 0, delayMs: 0 };
  private nextId = 1;
  /** Per job, deliveries go out in order (unless reordered), jobs in parallel. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly target: () => { url?: string; secret: string },
    private readonly random: () => number,
  ) {}

  /** Queue a delivery; `orderKey` (e.g. the job id) keeps one job's events in order. */
  enqueue(event: string, action: string, payload: unknown, meta: { installationId: number; repositoryId: number; orderKey: string }): Delivery {
    const delivery: Delivery = {
      id: this.nextId++,
      guid: randomUUID(),
      event,
      action,
      installationId: meta.installationId,
      repositoryId: meta.repositoryId,
      body: JSON.stringify(payload),
      deliveredAt: Date.now(),
      statusCode: 0,
      status: 'pending',
      durationMs: 0,
      redelivery: false,
    };
    this.all.push(delivery);
    if (action === 'completed' && this.random() < (this.faults.loseCompleted ?? 0)) {
      Object.assign(delivery, { lostForGood: true, status: 'failed to connect to host' });
      this.stats.dropped++;
      this.stats.failed++;
      return delivery;
    }
    const roll = this.random();
    if (roll < this.faults.drop) {
      // Lost on the way: GitHub records it as failed, and never retries it by itself.
      delivery.status = 'failed to connect to host';
      delivery.statusCode = 0;
      this.stats.dropped++;
      this.stats.failed++;
      return delivery;
    }
    const reorder = this.random() < this.faults.reorder;
    const duplicate = this.random() < this.faults.duplicate;
    if (reorder) this.stats.reordered++;
    const send = async () => {
      // Held back: later events of the same job overtake it.
      if (reorder) await sleep(200 + this.faults.delayMs);
      await this.post(delivery);
      if (duplicate) {
        this.stats.duplicated++;
        await this.post(delivery);
      }
    };
    const previous = reorder ? Promise.resolve() : (this.chains.get(meta.orderKey) ?? Promise.resolve());
    const next = previous.then(send, send);
    if (!reorder) this.chains.set(meta.orderKey, next);
    this.track(next);
    return delivery;
  }

  /**
   * `POST /app/hook/deliveries/{id}/attempts`: the same payload and GUID, marked as a redelivery. The attempt can fail
   * as any delivery can (the drop fault applies): it is then listed as failed, and redelivering again is the caller's.
   */
  redeliver(original: Delivery): Delivery {
    const copy: Delivery = { ...original, id: this.nextId++, redelivery: true, status: 'pending', statusCode: 0, deliveredAt: Date.now() };
    this.all.push(copy);
    this.stats.redelivered++;
    if (original.lostForGood || this.random() < this.faults.drop) {
      copy.status = 'failed to connect to host';
      this.stats.dropped++;
      this.stats.failed++;
      return copy;
    }
    this.track(this.post(copy));
    return copy;
  }

  /** Resolves when every delivery queued so far has been attempted. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private track(promise: Promise<void>): void {
    const settled = promise.catch(() => undefined);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
  }

  private async post(delivery: Delivery): Promise<void> {
    const { url, secret } = this.target();
    if (this.faults.delayMs > 0) await sleep(this.faults.delayMs);
    const started = Date.now();
    if (!url) {
      delivery.status = 'no webhook URL configured';
      this.stats.failed++;
      return;
    }
    try {
      const response = await fetch(url, {
        method: 'POST',
        body: delivery.body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/sim',
          'x-github-event': delivery.event,
          'x-github-delivery': delivery.guid,
          'x-github-hook-installation-target-type': 'integration',
          'x-hub-signature-256': await sign(secret, delivery.body),
        },
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      delivery.statusCode = response.status;
      delivery.status = response.ok ? 'OK' : `Invalid HTTP Response: ${response.status}`;
      if (!response.ok) this.stats.failed++;
    } catch {
      delivery.statusCode = 0;
      delivery.status = 'failed to connect to host';
      this.stats.failed++;
    } finally {
      delivery.durationMs = Date.now() - started;
      delivery.deliveredAt = Date.now();
      this.stats.sent++;
    }
  }
}

export function deliveryItem(delivery: Delivery): DeliveryItem {
  return {
    id: delivery.id,
    guid: delivery.guid,
    delivered_at: new Date(delivery.deliveredAt).toISOString(),
    redelivery: delivery.redelivery,
    duration: delivery.durationMs / 1000,
    status: delivery.status,
    status_code: delivery.statusCode,
    event: delivery.event,
    action: delivery.action,
    installation_id: delivery.installationId,
    repository_id: delivery.repositoryId,
    throttled_at: null,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
