import { decryptThroughSsm, defineContract, type KeyResource, type ParameterResource, type TableResource } from '@runners/shared/deployment';
import * as z from 'zod';

/** The producer's deployment contract: webhook intake behind the HTTP API (see shared/deployment-contract.ts). */

export interface ProducerResources {
  readonly region: string;
  readonly jobsTable: TableResource;
  /** An SSM SecureString under the stack's secrets key (the stacks), or a Secrets Manager secret. */
  readonly webhookSecret: ParameterResource & ({ readonly store: 'ssm'; readonly key: KeyResource } | { readonly store: 'secrets-manager' });
}

const environment = z
  .object({
    JOBS_TABLE_NAME: z.string().min(1),
    /** SSM SecureString holding the webhook secret … */
    WEBHOOK_SECRET_PARAMETER: z.string().startsWith('/').optional(),
    /** … or a Secrets Manager secret (name or ARN). Exactly one of the two. */
    WEBHOOK_SECRET_ARN: z.string().min(1).optional(),
    /** Bodies over this are refused with 413 before they are parsed. GitHub caps payloads at 25 MB. */
    WEBHOOK_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .max(6 * 1024 * 1024)
      .default(1024 * 1024),
    /** How long a fetched secret is trusted before it is read again (rotation takes effect within this). */
    WEBHOOK_SECRET_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(300),
  })
  .refine((env) => (env.WEBHOOK_SECRET_PARAMETER === undefined) !== (env.WEBHOOK_SECRET_ARN === undefined), {
    path: ['WEBHOOK_SECRET_PARAMETER'],
    message: 'set exactly one of WEBHOOK_SECRET_PARAMETER (SSM) and WEBHOOK_SECRET_ARN (Secrets Manager)',
  });

export const producerContract = defineContract({
  function: 'producer',
  description: 'webhook intake: signature, schema, routing, job state',
  environment,
  environmentFor: (r: ProducerResources) => ({
    JOBS_TABLE_NAME: r.jobsTable.name,
    ...(r.webhookSecret.store === 'ssm' ? { WEBHOOK_SECRET_PARAMETER: r.webhookSecret.name } : { WEBHOOK_SECRET_ARN: r.webhookSecret.arn }),
  }),
  permissions: (r: ProducerResources) => [
    { sid: 'JobWrites', actions: ['dynamodb:UpdateItem'], resources: [r.jobsTable.arn], why: 'one conditional write per job event' },
    ...(r.webhookSecret.store === 'ssm'
      ? [
          { sid: 'WebhookSecret', actions: ['ssm:GetParameter'], resources: [r.webhookSecret.arn], why: 'the webhook secret (cached)' },
          decryptThroughSsm(r.webhookSecret.key, r.region, 'the secret is a SecureString under the stack’s own key'),
        ]
      : [{ sid: 'WebhookSecret', actions: ['secretsmanager:GetSecretValue'], resources: [r.webhookSecret.arn], why: 'the webhook secret (cached)' }]),
  ],
  /** GitHub waits 10 s for a webhook response. */
  timeoutSeconds: 10,
  eventSources: [{ kind: 'http-api', route: 'POST /webhook' }],
});

export type ProducerEnvironment = z.output<typeof environment>;
