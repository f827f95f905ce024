import * as z from 'zod';
import { PayloadError } from '../errors';
import { toIssues } from '../zod-issues';

/*
 * The messages between the dispatch functions. Validated where they are written and where they are read: a message
 * that does not match is a bug on one side, never something to guess about.
 */

const poolName = z.string().min(1).max(32);
/** X-Ray trace header (`Root=…;Parent=…;Sampled=…`): the job's trace (or the writer's), for the reader to continue. */
const traceHeader = z.string().max(256).optional();

/** Messenger → publisher (and publisher → itself): these pools have work. No list = every pool (the tick). */
export const publisherNotificationSchema = z.strictObject({
  kind: z.literal('pools-changed'),
  pools: z.array(poolName).max(1_000),
  /** Why: counts of what the messenger saw, for logs and metrics only. */
  reasons: z.record(z.string(), z.int().nonnegative()).default({}),
  /**
   * The pools among `pools` where a job finished (the messenger knows): only their rounds read the finished index.
   * Absent: every pool's round reads it (the publisher's own re-notifications, older senders).
   */
  finished: z.array(poolName).max(1_000).optional(),
  traceHeader,
});
export type PublisherNotification = z.output<typeof publisherNotificationSchema>;

const target = {
  pool: poolName,
  host: z.enum(['docker', 'ec2', 'eks', 'lambda']),
  os: z.enum(['linux', 'windows', 'macos']),
  runnerName: z.string().min(1).max(64),
  traceHeader,
};

/** Publisher → a pool's orchestrator: create a host with a fresh JIT runner for this job. */
export const launchMessageSchema = z.strictObject({
  ...target,
  action: z.literal('launch'),
  jobId: z.int().positive(),
  launchAttempt: z.int().positive(),
  owner: z.string().min(1),
  /** Empty for a warm runner of an org-scope pool: it registers with the organization, for no repository. */
  repo: z.string(),
  installationId: z.int().positive().optional(),
  labels: z.array(z.string()),
  dispatchedAt: z.iso.datetime(),
  /** When GitHub queued the job (else when we first saw it): the TimeToHost metric counts from here. */
  queuedAt: z.iso.datetime({ offset: true }).optional(),
});
export type LaunchMessage = z.output<typeof launchMessageSchema>;

/** Publisher → a pool's orchestrator: remove this runner's registration and host. */
export const teardownMessageSchema = z.strictObject({
  ...target,
  action: z.literal('teardown'),
  /**
   * `finished`: the job it ran completed. `job-failed`: the job it ran failed — perhaps because its host died, and a
   * runner that died keeps its registration (GitHub removes an ephemeral runner only when it finishes its job).
   * `job-cancelled`: the job it was launched for was cancelled before any runner took it. `job-ran-elsewhere`: that job
   * was run by another runner (job stealing), so this one may sit idle. `host-interrupted`: its host is about to be
   * reclaimed (spot interruption, rebalance recommendation) and it is idle: its job gets a fresh host.
   */
  reason: z.enum(['finished', 'job-failed', 'job-cancelled', 'job-ran-elsewhere', 'host-interrupted']),
  /** Only if GitHub says the runner is idle: it may have taken another job meanwhile (job stealing). */
  onlyIfIdle: z.boolean(),
  /** The record holding the runner's slot. */
  jobId: z.int().positive(),
  /** The job the runner ran, when it ran one (with job stealing not always `jobId`): a failure there may be classified. */
  finishedJobId: z.int().positive().optional(),
  /** Where the runner is registered, so that its registration goes without reading its record. */
  registration: z
    .strictObject({ owner: z.string().min(1), repo: z.string(), installationId: z.int().positive().optional(), runnerId: z.int().positive().optional() })
    .optional(),
});
export type TeardownMessage = z.output<typeof teardownMessageSchema>;

export const hostMessageSchema = z.discriminatedUnion('action', [launchMessageSchema, teardownMessageSchema]);
export type HostMessage = z.output<typeof hostMessageSchema>;

/** The SNS/SQS message attributes the per-pool subscriptions filter on. */
export function hostMessageAttributes(message: HostMessage): Record<'pool' | 'host' | 'os' | 'action', string> {
  return { pool: message.pool, host: message.host, os: message.os, action: message.action };
}

/** Validate a received value (already JSON-decoded) against a message schema. */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown): T {
  const result = schema.safeParse(raw);
  if (!result.success) throw new PayloadError(toIssues(result.error));
  return result.data;
}

/** Parse a message body (a JSON string); throws PayloadError naming each bad field. */
export function parseMessage<T>(schema: z.ZodType<T>, body: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new PayloadError([{ path: '(root)', message: 'message body is not JSON' }]);
  }
  return parseWith(schema, raw);
}

/** Validate before sending: a message we write must be one we can read. */
export function checkedMessage<T>(schema: z.ZodType<T>, message: T): T {
  return parseWith(schema, message);
}
