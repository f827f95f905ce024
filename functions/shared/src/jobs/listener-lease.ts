/*
 * One listener per scale set: a scale set has one message session at a time (GitHub refuses a second with a 409), and
 * its listener holds the pool's lease in the Jobs table while it has that session. The lease is short and renewed
 * while the listener polls, so a listener that dies is replaced within a lease; its successor ends the dead one's
 * session by the id it left here (no wait for GitHub to reap it). A listener that cannot renew stops polling. At the
 * end of its run it hands over: it names the time (`handoverAt`), and the next scheduled invocation waits for it.
 */

/** What a listener leaves its successor. */
export interface ListenerState {
  readonly scaleSetId?: number;
  readonly sessionId?: string;
  /** Withdrawn assignments not followed by a new one yet: record id → when withdrawn (epoch ms). */
  readonly withdrawals: Readonly<Record<string, number>>;
}

export interface LeaseHolder {
  readonly holder: string;
  readonly leaseUntil: number;
  /** When the holder means to hand over (epoch ms). */
  readonly handoverAt?: number;
}

export type LeaseAttempt = { readonly acquired: true; readonly state: ListenerState } | { readonly acquired: false; readonly held: LeaseHolder };

export interface ListenerLease {
  /** Takes the pool's lease when no one holds it, its holder's lease ran out, or it is ours already. */
  acquire(pool: string, holder: string, nowMs: number, leaseUntil: number, handoverAt: number): Promise<LeaseAttempt>;
  /** Extends it and saves the state; false when another listener has taken it (stop at once). */
  renew(pool: string, holder: string, leaseUntil: number, state: ListenerState): Promise<boolean>;
  /** Gives it up with the state the next holder starts from; nothing when it is no longer ours. */
  release(pool: string, holder: string, state: ListenerState): Promise<void>;
}

export const listenerKey = (pool: string): string => `LISTENER#${pool}`;
