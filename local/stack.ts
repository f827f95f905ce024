/*
 * The local stack, programmatically: moto as AWS, the function bundles under the emulated Lambda runtime, the event
 * sources that connect them, the producer behind the emulated HTTP API. `make local` (local/main.ts) and the
 * benchmarks start it through here.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parsePoolsConfig, type PoolsConfig } from '@runners/shared';
import poolsConfigFile from '../pools.config';
import { dispatchTopology } from '../stacks/dispatch-topology';
import { DEFAULT_PREFIX, resourceNames } from '../stacks/resource-names';
import { awsTarget, type AwsTarget } from './aws-target';
import { createStreamSource } from './event-sources/dynamodb-stream-source';
import type { EventSource } from './event-sources/event-source';
import { createScheduleSource } from './event-sources/schedule-source';
import { createSqsSource } from './event-sources/sqs-source';
import { startHttpApi, type HttpApi } from './http-api';
import { startLocalFunction, type LocalFunction } from './lambda-runtime';
import { startMotoServer } from './moto-server.mjs';
import { provisionDispatchTopology, provisionJobsTable, provisionWebhookSecret } from './provision';

export interface LocalStackOptions {
  readonly root: string;
  readonly stackDir: string;
  readonly httpPort: number;
  readonly motoPort: number;
  readonly webhookSecret: string;
  readonly logLevel?: string;
  /** How often the publisher's scheduled tick fires (AWS: every minute). */
  readonly publisherTickMs?: number;
  /** Extra environment for every function. */
  readonly functionEnvironment?: Record<string, string>;
  /** Another pools config (the bundles in `distDir` must have been built with it: POOLS_CONFIG=… OUT_DIR=…). */
  readonly poolsConfigPath?: string;
  /** Where the function bundles are (default dist/). */
  readonly distDir?: string;
}

export interface StackFile {
  readonly webhookUrl: string;
  readonly webhookSecret: string;
  readonly aws: { readonly endpoint: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly tables: { readonly jobs: string };
  readonly topics: { readonly publisher: string; readonly jobs: string };
  readonly queues: Record<string, { readonly url: string; readonly arn: string; readonly deadLetterUrl: string }>;
  readonly parameters: { readonly webhookSecret: string };
  readonly functions: readonly string[];
}

export interface LocalStack {
  readonly stack: StackFile;
  readonly aws: AwsTarget;
  readonly config: PoolsConfig;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  mkdirSync(options.stackDir, { recursive: true });
  const names = resourceNames(DEFAULT_PREFIX);
  const config = options.poolsConfigPath
    ? parsePoolsConfig(((await import(pathToFileURL(options.poolsConfigPath).href)) as { default: unknown }).default, options.poolsConfigPath)
    : parsePoolsConfig(poolsConfigFile, 'pools.config.ts');
  const moto = await startMotoServer(options.motoPort, { logFile: resolve(options.stackDir, 'moto.log') });
  const aws = awsTarget(moto.endpoint);
  const functions = new Map<string, LocalFunction>();
  const sources: EventSource[] = [];
  let api: HttpApi | undefined;

  const stop = async () => {
    await api?.stop();
    await Promise.all(sources.map((s) => s.stop()));
    await Promise.all([...functions.values()].map((f) => f.stop()));
    await moto.stop();
    rmSync(resolve(options.stackDir, 'stack.json'), { force: true });
  };

  try {
    await provisionJobsTable(aws, names.jobsTable);
    await provisionWebhookSecret(aws, names.webhookSecretParameter, options.webhookSecret);
    const topology = await provisionDispatchTopology(aws, dispatchTopology(DEFAULT_PREFIX, config), names.publisherInbox);

    const common = {
      ...aws.environment,
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'EphemeralRunners',
      // EMF metric lines are for CloudWatch; locally they are noise.
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...options.functionEnvironment,
    };
    const start = async (name: string, environment: Record<string, string>, timeoutMs: number) => {
      const fn = await startLocalFunction({
        name: names.function(name),
        bundle: resolve(options.distDir ?? resolve(options.root, 'dist'), name, 'index.mjs'),
        environment: { ...common, ...environment },
        timeoutMs,
      });
      functions.set(name, fn);
      return fn;
    };
    const producer = await start('producer', { JOBS_TABLE_NAME: names.jobsTable, WEBHOOK_SECRET_PARAMETER: names.webhookSecretParameter }, 10_000);
    const messenger = await start('messenger', { PUBLISHER_TOPIC_ARN: topology.publisherTopicArn }, 30_000);
    const publisher = await start(
      'publisher',
      { JOBS_TABLE_NAME: names.jobsTable, JOBS_TOPIC_ARN: topology.jobsTopicArn, PUBLISHER_TOPIC_ARN: topology.publisherTopicArn },
      60_000,
    );

    sources.push(
      await createStreamSource({ target: aws, tableName: names.jobsTable, invoke: (e) => messenger.invoke(e), batchSize: 100 }),
      createSqsSource({ target: aws, queueUrl: topology.publisherInbox.url, queueArn: topology.publisherInbox.arn, mode: 'sns', invoke: (e) => publisher.invoke(e) }),
      createScheduleSource({ name: 'publisher-tick', everyMs: options.publisherTickMs ?? 60_000, invoke: (e) => publisher.invoke(e), region: aws.region }),
    );
    for (const source of sources) source.start();
    api = await startHttpApi(options.httpPort, { 'POST /webhook': producer });

    const stack: StackFile = {
      webhookUrl: `${api.url}/webhook`,
      webhookSecret: options.webhookSecret,
      aws: { endpoint: aws.endpoint, region: aws.region, accessKeyId: 'test', secretAccessKey: 'test' },
      tables: { jobs: names.jobsTable },
      topics: { publisher: topology.publisherTopicArn, jobs: topology.jobsTopicArn },
      queues: Object.fromEntries(topology.poolQueues.map((q) => [q.pool, { url: q.url, arn: q.arn, deadLetterUrl: q.deadLetter.url }])),
      parameters: { webhookSecret: names.webhookSecretParameter },
      functions: [...functions.values()].map((f) => f.name),
    };
    writeFileSync(resolve(options.stackDir, 'stack.json'), `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
    return { stack, aws, config, functions, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
