import * as z from 'zod';

/*
 * A function's deployment needs, declared once: the environment it reads (a schema), the AWS actions it performs on
 * which resources, and what invokes it. Resources are logical ("the Jobs table", "this pool's queue"): the stacks bind
 * them to Terraform references, the local stack to the emulator's ARNs, the permissions table (docs/security.md) to their
 * names. The stacks synthesize the role policy, environment and event sources from it; the local stack provisions,
 * wires and starts functions from it and enforces the policy the stacks synthesize; the function parses its
 * environment with it.
 */

export interface PermissionCondition {
  readonly test: string;
  readonly variable: string;
  readonly values: readonly string[];
}

/** One statement of a role's policy, in terms of the resources it was bound to. */
export interface Permission {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: readonly PermissionCondition[];
  /** Why: which call of the code needs it (the permissions table (docs/security.md)). */
  readonly why: string;
}

/** What invokes a function, with the settings both the stacks and the local runtime use. */
export type EventSourceSpec =
  | { readonly kind: 'http-api'; readonly route: string }
  | { readonly kind: 'dynamodb-stream'; readonly batchSize: number; readonly maximumBatchingWindowSeconds: number; readonly maximumRetryAttempts: number }
  | { readonly kind: 'sns-topic'; readonly topic: string }
  | { readonly kind: 'sqs-queue'; readonly queues: string; readonly batchSize: number; readonly maximumBatchingWindowSeconds: number }
  | { readonly kind: 'schedule'; readonly name: string; readonly everyMinutes: number; readonly description: string }
  /** An EventBridge rule on events of AWS services (`source`, `detail-type`), e.g. EC2's spot interruption warnings. */
  | { readonly kind: 'event-pattern'; readonly name: string; readonly source: string; readonly detailTypes: readonly string[]; readonly description: string }
  | { readonly kind: 'async-invoke'; readonly by: string };

export interface DeploymentContract<Resources, Schema extends z.ZodType = z.ZodType> {
  /** `<prefix>-<function>` is the function's (and its role's) name. */
  readonly function: string;
  readonly description: string;
  /** What the function reads from its environment, and nothing else. */
  readonly environment: Schema;
  /** The variables the deployment sets, from the bound resources (the rest of the schema has defaults). */
  environmentFor(resources: Resources): Record<string, string>;
  permissions(resources: Resources): readonly Permission[];
  readonly eventSources: readonly EventSourceSpec[];
  /** The function's timeout, when the code fixes it (the orchestrators derive their stale-claim window from theirs). */
  readonly timeoutSeconds?: number;
}

export function defineContract<Resources, Schema extends z.ZodType>(contract: DeploymentContract<Resources, Schema>): DeploymentContract<Resources, Schema> {
  return contract;
}

/* Logical resources that several contracts name. */
export interface TableResource {
  readonly name: string;
  readonly arn: string;
}
export interface StreamTableResource extends TableResource {
  readonly streamArn: string;
}
export interface ParameterResource {
  readonly name: string;
  readonly arn: string;
}
export interface TopicResource {
  readonly arn: string;
}
/** The topics' KMS key and the region (kms:ViaService names the regional SNS endpoint). */
export interface MessagesKeyResource {
  readonly region: string;
  readonly messagesKey: KeyResource;
}
export interface QueueResource {
  readonly arn: string;
}
export interface GitHubAppResources {
  readonly appId: ParameterResource;
  readonly privateKey: ParameterResource;
  /** The KMS key the secrets are encrypted with. */
  readonly secretsKey: KeyResource;
}
export interface KeyResource {
  readonly arn: string;
}

/** Publishing to an encrypted topic: a data key from its KMS key, only through SNS (SNS developer guide, encryption at rest). */
export const publishEncrypted = (key: KeyResource, region: string): Permission => ({
  sid: 'EncryptedTopics',
  actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
  resources: [key.arn],
  conditions: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`sns.${region}.amazonaws.com`] }],
  why: 'the topics are encrypted with the stack’s messages key',
});

/** Decrypting a SecureString: kms:Decrypt on its key, only through SSM. */
export const decryptThroughSsm = (key: KeyResource, region: string, why: string): Permission => ({
  sid: 'DecryptSecrets',
  actions: ['kms:Decrypt'],
  resources: [key.arn],
  conditions: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`ssm.${region}.amazonaws.com`] }],
  why,
});

/** A consumer of the Jobs table's stream: the event source mapping reads it with the function's role. */
export const readStream = (table: StreamTableResource): Permission => ({
  sid: 'ReadStream',
  actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
  resources: [table.streamArn],
  why: 'the event source mapping reads the stream with the function role',
});

/** The Jobs table and its indexes: every reader of an index needs both ARNs. */
export const tableAndIndexes = (table: TableResource) => [table.arn, `${table.arn}/index/*`];

/**
 * Resources as their own names (`‹jobsTable.arn›`), for documentation: a contract bound to these shows, in words,
 * what each statement is on. Works for nested objects, lists (a list shows as one item) and string methods;
 * `overrides` fixes the values a contract branches on (`{ 'webhookSecret.store': 'ssm' }`).
 */
export function symbolicResources<Resources>(overrides: Readonly<Record<string, unknown>> = {}, root = ''): Resources {
  const text = `‹${root}›`;
  const handler: ProxyHandler<object> = {
    get(_target, key) {
      if (key === Symbol.toPrimitive || key === 'toString' || key === 'valueOf') return () => text;
      if (key === Symbol.iterator)
        return function* () {
          yield symbolicResources(overrides, `${root}[]`);
        };
      if (key === 'map' || key === 'flatMap') return (f: (item: unknown, i: number) => unknown) => [f(symbolicResources(overrides, `${root}[]`), 0)].flat();
      if (key === 'length') return 1;
      if (typeof key === 'symbol') return undefined;
      const path = root ? `${root}.${key}` : key;
      if (path in overrides) return overrides[path];
      const method = (String.prototype as unknown as Record<string, unknown>)[key];
      if (typeof method === 'function') return (...args: unknown[]) => (method as (...a: unknown[]) => unknown).apply(text, args);
      return symbolicResources(overrides, path);
    },
  };
  return new Proxy({}, handler) as Resources;
}

/** The reconcile passes (the reconciler, each orchestrator's host rules), on AWS and in the local stack. */
export const HOST_RULES_EVERY_MINUTES = 5;

/** The GitHub App's id and key, read once per cold start by every function that calls GitHub. */
export const githubAppPermissions = (app: GitHubAppResources, region: string): Permission[] => [
  {
    sid: 'GitHubApp',
    actions: ['ssm:GetParameter', 'ssm:GetParameters'],
    resources: [app.appId.arn, app.privateKey.arn],
    why: 'the GitHub App id and private key (once per cold start)',
  },
  decryptThroughSsm(app.secretsKey, region, 'the secrets are SecureStrings under the stack’s own key'),
];

/** Another GitHub App's id and key parameters (SecureStrings under the same key as the default App's). */
export interface ExtraGitHubApp {
  readonly name: string;
  readonly appId: { readonly name: string; readonly arn: string };
  readonly privateKey: { readonly name: string; readonly arn: string };
}

/** A JSON object in one variable (keyed by pool or App name). */
export function jsonRecord<T extends z.ZodType>(value: T) {
  return z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), value));
}

/** `GITHUB_APPS`: the other Apps a function's pools use, name → its id and key parameters (JSON). */
export const otherGitHubAppsVariable = jsonRecord(
  z.strictObject({ appIdParameter: z.string().startsWith('/'), privateKeyParameter: z.string().startsWith('/') }),
);

export const otherGitHubAppsEnvironment = (apps: readonly ExtraGitHubApp[] | undefined): Record<string, string> =>
  apps && apps.length > 0
    ? { GITHUB_APPS: JSON.stringify(Object.fromEntries(apps.map((a) => [a.name, { appIdParameter: a.appId.name, privateKeyParameter: a.privateKey.name }]))) }
    : {};

export const otherGitHubAppsPermissions = (apps: readonly ExtraGitHubApp[] | undefined, who: string): Permission[] =>
  apps && apps.length > 0
    ? [
        {
          sid: 'OtherGitHubApps',
          actions: ['ssm:GetParameter', 'ssm:GetParameters'],
          resources: apps.flatMap((a) => [a.appId.arn, a.privateKey.arn]),
          why: `the ids and keys of the other GitHub Apps ${who} (once per cold start)`,
        },
      ]
    : [];
