import type { HostMessage, PublisherNotification } from './messages';

/** Where the publisher's messages go: the Jobs topic (fanned out to one queue per pool) and the Publisher topic. */
export interface DispatchBus {
  /** Publishes launch/teardown messages; returns those SNS did not accept, for the caller to retry later. */
  publishHostMessages<T extends HostMessage>(messages: readonly T[]): Promise<{ failed: T[] }>;
  notifyPublisher(notification: PublisherNotification): Promise<void>;
}
