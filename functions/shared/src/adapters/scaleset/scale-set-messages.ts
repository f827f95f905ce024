import * as z from 'zod';

/*
 * What GitHub's Actions service says about a runner scale set, as the scale-set protocol carries it (actions/scaleset
 * types.go, v0.4.0; field names camelCase on the wire). Objects are loose: the service adds fields over time; what we
 * read is typed. Times may be absent or Go's zero time (0001-01-01), which means "not yet".
 */

const time = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.startsWith('0001-01-01') || Number.isNaN(Date.parse(value)) ? undefined : value));

export const scaleSetStatisticsSchema = z.object({
  totalAvailableJobs: z.int().default(0),
  totalAcquiredJobs: z.int().default(0),
  totalAssignedJobs: z.int().default(0),
  totalRunningJobs: z.int().default(0),
  totalRegisteredRunners: z.int().default(0),
  totalBusyRunners: z.int().default(0),
  totalIdleRunners: z.int().default(0),
});
export type ScaleSetStatistics = z.infer<typeof scaleSetStatisticsSchema>;

export const scaleSetSchema = z.object({
  id: z.int().positive(),
  name: z.string(),
  runnerGroupId: z.int().optional(),
  runnerGroupName: z.string().optional(),
  labels: z.array(z.object({ type: z.string().optional(), name: z.string() })).default([]),
  statistics: scaleSetStatisticsSchema.optional(),
});
export type ScaleSet = z.infer<typeof scaleSetSchema>;

export const sessionSchema = z.object({
  sessionId: z.string().min(1),
  ownerName: z.string().optional(),
  runnerScaleSet: scaleSetSchema.optional(),
  messageQueueUrl: z.url(),
  messageQueueAccessToken: z.string().min(1),
  // actions/scaleset listener.go refuses a session without statistics: they seed the desired runner count.
  statistics: scaleSetStatisticsSchema,
});
export type SessionData = z.infer<typeof sessionSchema>;

const jobMessageBase = {
  // garm PR #459: some messages carry runnerRequestId 0 and a jobId; neither alone is a safe key.
  runnerRequestId: z.int().nonnegative().default(0),
  repositoryName: z.string(),
  ownerName: z.string(),
  /** The scale set's id of the job: a string, not the REST workflow job id (garm PR #622). */
  jobId: z.string().default(''),
  jobWorkflowRef: z.string().optional(),
  jobDisplayName: z.string().optional(),
  workflowRunId: z.int().nonnegative().default(0),
  eventName: z.string().optional(),
  // Go marshals a nil slice as null.
  requestLabels: z
    .array(z.string())
    .nullish()
    .transform((labels) => labels ?? []),
  queueTime: time,
  scaleSetAssignTime: time,
  runnerAssignTime: time,
  finishTime: time,
};

export const jobMessageSchema = z.discriminatedUnion('messageType', [
  z.object({ messageType: z.literal('JobAvailable'), ...jobMessageBase, acquireJobUrl: z.string().optional() }),
  z.object({ messageType: z.literal('JobAssigned'), ...jobMessageBase }),
  z.object({ messageType: z.literal('JobStarted'), ...jobMessageBase, runnerId: z.int(), runnerName: z.string() }),
  z.object({
    messageType: z.literal('JobCompleted'),
    ...jobMessageBase,
    result: z
      .string()
      .nullish()
      .transform((result) => result ?? undefined),
    runnerId: z
      .int()
      .nullish()
      .transform((id) => id || undefined),
    // No runner (a withdrawn assignment, a job cancelled while assigned): absent, null or Go's zero value "".
    runnerName: z
      .string()
      .nullish()
      .transform((name) => name || undefined),
  }),
]);
export type JobMessage = z.infer<typeof jobMessageSchema>;

/** A message holds at most this many job messages (actions/scaleset README, "How the Message API Works"). */
export const MAX_JOB_MESSAGES = 50;

/** A message of the scale set's queue: job messages (at most 50) and the statistics at the time it was made. */
export interface ScaleSetMessage {
  readonly messageId: number;
  readonly jobMessages: readonly JobMessage[];
  /** Job messages of a type this client does not know: ignored, as actions/scaleset does, but counted. */
  readonly unknownJobMessages: number;
  /** Job messages of a known type that do not parse: skipped (one bad item must not block the queue), with why. */
  readonly invalidJobMessages: readonly string[];
  readonly statistics: ScaleSetStatistics;
}

const envelopeSchema = z.object({
  messageId: z.int().positive(),
  messageType: z.string(),
  body: z.string().default(''),
  statistics: scaleSetStatisticsSchema,
});

/** The one envelope type the service sends; any other is an error (actions/scaleset session_client.go parseMessage). */
export const JOB_MESSAGES_ENVELOPE = 'RunnerScaleSetJobMessages';

/**
 * A message as the queue answers it: an envelope whose `body` is a JSON string holding the array of job messages (a
 * second parse), empty when there are none.
 */
export function parseScaleSetMessage(raw: unknown): ScaleSetMessage {
  const envelope = envelopeSchema.parse(raw);
  if (envelope.messageType !== JOB_MESSAGES_ENVELOPE) throw new Error(`unexpected message type ${JSON.stringify(envelope.messageType)}`);
  const items: unknown = envelope.body === '' ? [] : JSON.parse(envelope.body);
  if (!Array.isArray(items)) throw new Error('message body is not an array of job messages');
  const jobMessages: JobMessage[] = [];
  let unknownJobMessages = 0;
  const invalidJobMessages: string[] = [];
  for (const item of items) {
    const type = (item as { messageType?: unknown } | null)?.messageType;
    if (!['JobAvailable', 'JobAssigned', 'JobStarted', 'JobCompleted'].includes(String(type))) {
      unknownJobMessages++;
      continue;
    }
    const parsed = jobMessageSchema.safeParse(item);
    if (parsed.success) jobMessages.push(parsed.data);
    else invalidJobMessages.push(`${String(type)}: ${z.prettifyError(parsed.error).replaceAll('\n', ' ')}`);
  }
  return { messageId: envelope.messageId, jobMessages, unknownJobMessages, invalidJobMessages, statistics: envelope.statistics };
}
