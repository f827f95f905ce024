/*
 * The local stack, programmatically: moto as AWS, the function bundles under the emulated Lambda runtime, the event
 * sources that connect them, the producer behind the emulated HTTP API. `make local` (local/main.ts) and the
 * benchmarks start it through here.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cronProblem, parsePoolsConfig, poolsConfigWarnings, scaleSetPools, type Pool, type PoolsConfig } from '@runners/shared';
import poolsConfigFile from '../pools.config';
import { dispatchTopology } from '../stacks/dispatch-topology';
import { DEFAULT_PREFIX, resourceNames } from '../stacks/resource-names';
import { deploymentIdOf } from '@runners/shared/deployment';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DeploymentContract } from '@runners/shared/deployment';
import { listenerContract } from '@runners/listener/contract';
import { messengerContract } from '@runners/messenger/contract';
import { notifierContract } from '@runners/notifier/contract';
import { orchestratorContracts } from '@runners/orchestrators/contract';
import { producerContract } from '@runners/producer/contract';
import { publisherContract } from '@runners/publisher/contract';
import { reconcilerContract } from '@runners/reconciler/contract';
import { awsTarget, LOCAL_ACCOUNT_ID, localArns, type AwsTarget } from './aws-target';
import { startIamProxy, type IamProxy } from './iam/iam-proxy';
import { synthesizedPolicies, synthesizeStack } from './iam/synthesized-policies';
import { createStreamSource } from './event-sources/dynamodb-stream-source';
import type { EventSource } from './event-sources/event-source';
import { createScheduleSource } from './event-sources/schedule-source';
import { createSqsSource } from './event-sources/sqs-source';
import { startHttpApi, type HttpApi } from './http-api';
import { startTraceCollector, type TraceCollector } from './traces/trace-collector';
import { startStatusPage, type StatusPage } from './status/status-page';
import { PassLog, statusSnapshot, type StatusSnapshot } from './status/status-snapshot';
import { FUNCTION_ENVIRONMENT, LAMBDA_RUNTIME } from '../stacks/lambda-runtime';
import { acquireStackLock, assertPortFree, localNamespace } from './stack-lock';
import { startLocalFunction, type LocalFunction } from './lambda-runtime';
import { freePort } from './free-port.mjs';
import { startMotoServer } from './moto-server.mjs';
import { provisionDispatchTopology, provisionGitHubApp, provisionJobsTable, provisionKey, provisionWebhookSecret } from './provision';
import Docker from 'dockerode';
import { DockerHost, dockerEngine } from '@runners/orchestrators/hosts';
import type { SimTiming } from '../sim/model';
import type { ScaleSetTiming } from '../sim/scale-sets';
import { startSimulator, type Simulator } from '../sim/server';
import { ensureSimRunnerImage, SIM_RUNNER_IMAGE } from '../sim/runner/image';

export interface LocalStackOptions {
  readonly root: string;
  readonly stackDir: string;
  readonly httpPort: number;
  readonly motoPort: number;
  readonly webhookSecret: string;
  readonly logLevel?: string;
  /** How often the publisher's scheduled tick fires (AWS: every minute). */
  readonly publisherTickMs?: number;
  /** How often the Docker orchestrator's host rules run (AWS: every 5 minutes). */
  readonly hostRulesTickMs?: number;
  /** How often the reconciler runs (redelivery, lost jobs, leftover registrations; AWS: every 5 minutes). */
  readonly reconcilerTickMs?: number;
  /** The GitHub simulator's port on 127.0.0.1 (default: any free one). */
  readonly simPort?: number;
  /** The status page's port on 127.0.0.1 (0: any free one); none when absent. */
  readonly statusPort?: number;
  /** How often the notifier looks for long waits (AWS: every minute). */
  readonly notifierTickMs?: number;
  /** Each line a function logs, with the function's name (default: this process's stdout, as it is written). */
  readonly functionLog?: (functionName: string, line: string) => void;
  /** Extra environment for every function. */
  readonly functionEnvironment?: Record<string, string>;
  /** Another pools config (the bundles in `distDir` must have been built with it: POOLS_CONFIG=… OUT_DIR=…). */
  readonly poolsConfigPath?: string;
  /** Where the function bundles are (default dist/). */
  readonly distDir?: string;
  /** A real GitHub App; without one the local stack runs the GitHub simulator. */
  readonly githubApp?: { readonly appId: number; readonly privateKeyPem: string; readonly apiUrl: string };
  /** The Docker engine the orchestrator talks to (DOCKER_HOST), e.g. the chaos scenario's fault-injecting proxy. */
  readonly orchestratorDockerHost?: string;
  /** false: the Docker pools' queues are not fed to the orchestrator (a benchmark that reads the launch messages itself). */
  readonly orchestrate?: boolean;
  /** GitHub's clocks in the simulator (assignment delay, offline after, job lock); realistic unless a scenario scales them. */
  readonly simTiming?: Partial<SimTiming>;
  /** The simulator's scale-set clocks and acquire mode (long poll, session reaping, reassignment); realistic by default. */
  readonly simScaleSets?: Partial<ScaleSetTiming>;
  /** How often the scale-set listener's schedule fires (AWS: every minute). */
  readonly listenerTickMs?: number;
  /** Each listener invocation listens at most this long, then hands over (AWS: until shortly before its 15 minutes). */
  readonly listenSeconds?: number;
  /** The listener's lease and withdrawal grace (LEASE_SECONDS, WITHDRAWN_GRACE_SECONDS), for scenarios with faster clocks. */
  readonly listenerEnvironment?: Record<string, string>;
}

export interface StackFile {
  /** Where GitHub's webhooks go ('' when no pool takes its jobs from webhooks: no endpoint, no producer). */
  readonly webhookUrl: string;
  readonly webhookSecret: string;
  readonly aws: { readonly endpoint: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly tables: { readonly jobs: string };
  readonly topics: { readonly publisher: string; readonly jobs: string };
  readonly queues: Record<string, { readonly url: string; readonly arn: string; readonly deadLetterUrl: string }>;
  readonly parameters: { readonly webhookSecret: string; readonly githubAppId: string; readonly githubPrivateKey: string };
  readonly github: { readonly apiUrl: string; readonly simulated: boolean; readonly appId: number };
  readonly functions: readonly string[];
  /** Every function's AWS calls go through this endpoint, evaluated against the role the stacks synthesize for it. */
  readonly iam: { readonly endpoint: string; readonly enforced: true };
}

export interface LocalStack {
  readonly stack: StackFile;
  readonly aws: AwsTarget;
  readonly config: PoolsConfig;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /** IAM enforcement: denied calls, credentials for more principals (runner hosts). */
  readonly iam: IamProxy;
  /** The emulator as a function's role sees it (through the IAM proxy). */
  targetFor(roleName: string, session?: string): AwsTarget;
  /** The GitHub simulator, unless a real App was configured. */
  readonly sim?: Simulator;
  /** The X-Ray daemon of the stack: every segment its functions sent. */
  readonly traces: TraceCollector;
  /** What the status page shows, now. */
  snapshot(): Promise<StatusSnapshot>;
  /** The status page, if a port was given. */
  readonly status?: StatusPage;
  /** The runner containers of this stack, seen as the Docker orchestrator sees them. */
  readonly runnerHosts: DockerHost;
  /**
   * EventBridge: an AWS service's event, delivered to each function whose contract has a rule matching its source and
   * detail-type (as on AWS; e.g. an EC2 spot interruption warning, naming a container for the instance).
   */
  putEvent(event: { readonly source: string; readonly 'detail-type': string; readonly detail: unknown }): Promise<unknown[]>;
  stop(): Promise<void>;
}

const PRODUCER_ENVIRONMENTS = 4;

/** A throwaway stack's place (demo, benchmarks): a temporary directory, free ports, a random webhook secret. */
export async function throwawayStack(
  root: string,
  name: string,
): Promise<Pick<LocalStackOptions, 'root' | 'stackDir' | 'httpPort' | 'motoPort' | 'webhookSecret'>> {
  return {
    root,
    stackDir: mkdtempSync(join(tmpdir(), `${name}-`)),
    httpPort: await freePort(),
    motoPort: await freePort(),
    webhookSecret: randomBytes(16).toString('hex'),
  };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  mkdirSync(options.stackDir, { recursive: true });
  // Before anything starts: this directory and these ports are this stack's, or nothing is touched.
  const lock = acquireStackLock(options.stackDir);
  let config: PoolsConfig;
  let moto: Awaited<ReturnType<typeof startMotoServer>>;
  try {
    await assertPortFree(options.motoPort, 'the AWS emulator', 'MOTO_PORT');
    await assertPortFree(options.httpPort, 'the webhook API', 'LOCAL_HTTP_PORT');
    if (options.statusPort) await assertPortFree(options.statusPort, 'the status page', 'LOCAL_STATUS_PORT');
    if (options.simPort && !options.githubApp) await assertPortFree(options.simPort, 'the GitHub simulator', 'LOCAL_SIM_PORT');
    config = options.poolsConfigPath
      ? parsePoolsConfig(((await import(pathToFileURL(options.poolsConfigPath).href)) as { default: unknown }).default, options.poolsConfigPath, {
          cron: cronProblem,
        })
      : parsePoolsConfig(poolsConfigFile, 'pools.config.ts', { cron: cronProblem });
    for (const warning of poolsConfigWarnings(config)) console.warn(`pools config: warning: ${warning}`);
    moto = await startMotoServer(options.motoPort, { logFile: resolve(options.stackDir, 'moto.log') });
  } catch (error) {
    lock.release();
    throw error;
  }
  const names = resourceNames(DEFAULT_PREFIX);
  const aws = awsTarget(moto.endpoint);
  const functions = new Map<string, LocalFunction>();
  const sources: EventSource[] = [];
  let api: HttpApi | undefined;
  let sim: Simulator | undefined;
  let iam: IamProxy | undefined;
  let traces: TraceCollector | undefined;
  let status: StatusPage | undefined;
  const passLog = new PassLog();
  const engine = new Docker();
  // Its own namespace: another local stack (another directory) never lists, nor removes, this one's runners.
  const managedBy = localNamespace(options.stackDir);
  const runnerHosts = new DockerHost(dockerEngine(), managedBy);

  let stopping = false;
  const stop = async () => {
    stopping = true;
    await status?.stop();
    await api?.stop();
    // A listener long-polls for minutes: ended, not waited for (its session goes with the simulator).
    await functions.get('listener')?.stop();
    await Promise.all(sources.map((s) => s.stop()));
    await Promise.all([...functions.values()].map((f) => f.stop()));
    // Nothing outlives the stack: runner containers it started go with it.
    const leftovers = await runnerHosts.list().catch(() => []);
    await Promise.all(leftovers.map((host) => runnerHosts.delete(host.runnerName).catch(() => undefined)));
    await sim?.stop();
    await iam?.stop();
    await traces?.stop();
    await moto.stop();
    rmSync(resolve(options.stackDir, 'stack.json'), { force: true });
    lock.release();
  };

  try {
    await provisionJobsTable(aws, names.jobsTable);
    const secretsKey = await provisionKey(aws, `alias/${names.secretsKeyAlias}`);
    const messagesKey = await provisionKey(aws, `alias/${names.messagesKeyAlias}`);
    await provisionWebhookSecret(aws, names.webhookSecretParameter, options.webhookSecret, secretsKey.keyId);
    const topology = await provisionDispatchTopology(aws, dispatchTopology(DEFAULT_PREFIX, config), names.publisherInbox, messagesKey.keyId);
    // The App's permissions as the README asks for them: Actions: write only if a pool re-runs interrupted jobs or a
    // policy cancels jobs that cannot run; Checks: write (the notifier's check runs).
    const actionsPermission =
      config.pools.some((p) => p.rerunInterruptedJobs || p.cancelJobsItCannotRun) || config.notices.cancelUnroutableJobs ? 'write' : 'read';
    // The config's other GitHub Apps (github.apps) are the simulator's extra Apps, in order.
    if (!options.githubApp)
      sim = await startSimulator({
        ...(options.simPort ? { port: options.simPort } : {}),
        accounts: (process.env.SIM_ACCOUNTS ?? 'octo-org').split(','),
        actionsPermission,
        extraApps: config.github.apps.length,
        ...(options.simTiming ? { timing: options.simTiming } : {}),
        ...(options.simScaleSets ? { scaleSets: options.simScaleSets } : {}),
      });
    const github = options.githubApp ?? { appId: sim!.appId, privateKeyPem: sim!.privateKeyPem, apiUrl: sim!.url };
    await provisionGitHubApp(aws, { appIdName: names.githubAppIdParameter, privateKeyName: names.githubPrivateKeyParameter }, github, secretsKey.keyId);
    if (config.github.apps.length > 0 && !sim) throw new Error('github.apps with a real GitHub App: the local stack provisions only the one App it is given');
    for (const [i, name] of config.github.apps.entries()) {
      const other = names.otherGithubAppParameters(name);
      await provisionGitHubApp(aws, { appIdName: other.appId, privateKeyName: other.privateKey }, sim!.extraApps[i]!, secretsKey.keyId);
    }
    const dockerPools = config.pools.filter((p) => p.host === 'docker');

    // IAM as on AWS: the roles the stacks synthesize for this pools config, enforced on every function's calls.
    const distDir = options.distDir ?? resolve(options.root, 'dist');
    const { Table } = await new DynamoDBClient(aws.clientConfig).send(new DescribeTableCommand({ TableName: names.jobsTable }));
    const synthesized = synthesizeStack({ prefix: DEFAULT_PREFIX, region: aws.region, pools: config, bundleDir: distDir });
    iam = await startIamProxy({
      upstream: moto.endpoint,
      region: aws.region,
      accountId: LOCAL_ACCOUNT_ID,
      ...synthesizedPolicies(synthesized, {
        accountId: LOCAL_ACCOUNT_ID,
        region: aws.region,
        streamArns: { [names.jobsTable]: Table!.LatestStreamArn! },
        kmsKeyIds: { [`alias/${names.secretsKeyAlias}`]: secretsKey.keyId, [`alias/${names.messagesKeyAlias}`]: messagesKey.keyId },
      }),
      adminCredentials: aws.clientConfig.credentials,
      onDenied: (d) => console.error(`[iam] denied ${d.principal}: ${d.action} on ${d.resource} (${d.reason})`),
    });
    const proxy = iam;
    const targetFor = (roleName: string, session = roleName) =>
      awsTarget(proxy.endpoint, aws.region, proxy.credentialsFor({ name: roleName.replace(`${DEFAULT_PREFIX}-`, ''), roleName, session }));
    const arns = localArns(aws.region);
    const jobsTable = { name: names.jobsTable, arn: arns.table(names.jobsTable), streamArn: Table!.LatestStreamArn! };
    const parameter = (name: string) => ({ name, arn: arns.parameter(name) });
    /** The other GitHub Apps (github.apps) these pools register their runners with. */
    const otherAppsOf = (pools: readonly Pool[]) =>
      [...new Set(pools.map((p) => p.githubApp))].flatMap((name) => {
        if (!config.github.apps.includes(name)) return [];
        const other = names.otherGithubAppParameters(name);
        return [{ name, appId: parameter(other.appId), privateKey: parameter(other.privateKey) }];
      });
    const githubApp = {
      appId: parameter(names.githubAppIdParameter),
      privateKey: parameter(names.githubPrivateKeyParameter),
      secretsKey: { arn: secretsKey.arn },
    };
    if (dockerPools.some((p) => p.host === 'docker' && p.docker.image === SIM_RUNNER_IMAGE)) await ensureSimRunnerImage(engine);

    // Active tracing as on AWS: the functions' X-Ray SDK (behind Powertools Tracer) sends to the stack's collector.
    traces = await startTraceCollector({ file: resolve(options.stackDir, 'traces.jsonl') });
    rmSync(resolve(options.stackDir, 'traces.jsonl'), { force: true });
    const common = {
      AWS_EXECUTION_ENV: `AWS_Lambda_${LAMBDA_RUNTIME}`,
      ...FUNCTION_ENVIRONMENT,
      AWS_XRAY_DAEMON_ADDRESS: traces.address,
      // What Lambda sets for a bundle's handler (the stacks deploy index.handler); the tracer names its subsegment so.
      _HANDLER: 'index.handler',
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'EphemeralRunners',
      // EMF metric lines are for CloudWatch; locally they are noise.
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...options.functionEnvironment,
    };
    const targets = new Map<string, AwsTarget>();
    /** A function as its contract deploys it: its role's credentials, its contract's environment (checked by its schema). */
    // The timeout the stacks deploy, from the contract (a function without one gets Lambda's stack default).
    const start = async <R>(contract: DeploymentContract<R>, resources: R, local: Record<string, string>, concurrency = 1) => {
      const timeoutMs = (contract.timeoutSeconds ?? 30) * 1000;
      const name = contract.function;
      const target = targetFor(names.function(name));
      targets.set(name, target);
      // LAMBDA_TASK_ROOT: where Lambda unpacks the code; the X-Ray SDK also takes it as "running in Lambda".
      const environment = { ...target.environment, ...common, LAMBDA_TASK_ROOT: resolve(distDir, name), ...contract.environmentFor(resources), ...local };
      contract.environment.parse(environment);
      // Every line a function writes: seen by the status page's pass log, then shown (or handed to functionLog).
      const onLog = (line: string) => {
        passLog.observe(name, line);
        if (options.functionLog) options.functionLog(name, line);
        else process.stdout.write(`${line}\n`);
      };
      const fn = await startLocalFunction({
        name: names.function(name),
        bundle: resolve(distDir, name, 'index.mjs'),
        environment,
        timeoutMs,
        concurrency,
        onLog,
      });
      functions.set(name, fn);
      return fn;
    };
    const topics = { publisherTopic: { arn: topology.publisherTopicArn }, jobsTopic: { arn: topology.jobsTopicArn } };
    const encryption = { region: aws.region, messagesKey: { arn: messagesKey.arn } };
    // The producer scales with webhook traffic on AWS (no reserved concurrency): a few environments here, so a burst
    // is answered within GitHub's 10 s instead of turning into failed deliveries.
    // As the stacks deploy them: the webhook endpoint and the producer when a pool takes webhooks.
    const producer = config.pools.some((p) => p.intake === 'webhook')
      ? await start(
          producerContract,
          { region: aws.region, jobsTable, webhookSecret: { store: 'ssm', ...parameter(names.webhookSecretParameter), key: { arn: secretsKey.arn } } },
          {},
          PRODUCER_ENVIRONMENTS,
        )
      : undefined;
    const messengerDeadLetters = { arn: arns.queue(`${DEFAULT_PREFIX}-messenger-dlq`) };
    const messenger = await start(
      messengerContract,
      { jobsTable, publisherTopic: topics.publisherTopic, deadLetterQueue: messengerDeadLetters, ...encryption },
      {},
    );
    const publisher = await start(publisherContract, { jobsTable, ...topics, ...encryption }, {});

    // As the stacks compute it on AWS (stacks/orchestrators.ts), with moto's account.
    const deploymentId = deploymentIdOf(managedBy, { id: LOCAL_ACCOUNT_ID, region: aws.region });
    // Only Docker pools have hosts on this machine; the other pools' messages wait on their queues.
    const dockerQueues = dockerPools.map((pool) => topology.poolQueues.find((q) => q.pool === pool.name)!);
    const orchestrator = await start(
      orchestratorContracts.docker,
      {
        prefix: managedBy,
        deploymentId,
        region: aws.region,
        jobsTable,
        githubApp,
        // As the stacks bind it: the Apps the Docker pools register with.
        githubApps: otherAppsOf(dockerPools),
        poolQueues: dockerQueues.map((q) => ({ arn: q.arn })),
      },
      {
        GITHUB_API_URL: github.apiUrl,
        GITHUB_WRITE_SPACING_MS: sim ? '0' : '1000',
        ...(options.orchestratorDockerHost ? { DOCKER_HOST: options.orchestratorDockerHost } : {}),
      },
    );
    const reconciler = await start(
      reconcilerContract,
      { region: aws.region, deploymentId, jobsTable, githubApp },
      {
        GITHUB_API_URL: github.apiUrl,
        // The simulator's deliveries settle within a second; GitHub's take up to its 10 s timeout (default 60 s).
        REDELIVERY_SETTLE_SECONDS: '15',
        // Lost jobs: after redelivery had its chance.
        LOST_JOB_SETTLE_SECONDS: '30',
      },
    );
    // The scale-set pools' listener: two execution environments, so that the invocation before a hand-over can wait for it.
    const listener =
      scaleSetPools(config.pools).length > 0
        ? await start(
            listenerContract,
            { region: aws.region, deploymentId, jobsTable, githubApp, githubApps: otherAppsOf(scaleSetPools(config.pools)) },
            {
              GITHUB_API_URL: github.apiUrl,
              ...(options.listenSeconds ? { LISTEN_SECONDS: String(options.listenSeconds) } : {}),
              ...options.listenerEnvironment,
            },
            2,
          )
        : undefined;
    const notifierDeadLetters = { arn: arns.queue(`${DEFAULT_PREFIX}-notifier-dlq`) };
    const notifier = await start(
      notifierContract,
      { region: aws.region, jobsTable, githubApp, deadLetterQueue: notifierDeadLetters },
      { GITHUB_API_URL: github.apiUrl },
    );
    const everyMs = (contract: DeploymentContract<never>, name: string) => {
      const schedule = contract.eventSources.find((e) => e.kind === 'schedule' && e.name === name);
      if (schedule?.kind !== 'schedule') throw new Error(`${contract.function} has no schedule ${name}`);
      return schedule.everyMinutes * 60_000;
    };
    const queueSource = orchestratorContracts.docker.eventSources.find((e) => e.kind === 'sqs-queue');
    // The orchestrator's role polls its pools' queues, the messenger's reads the stream (as the mappings do on AWS).
    for (const queue of options.orchestrate === false ? [] : dockerQueues) {
      sources.push(
        createSqsSource({
          target: targets.get('orchestrator-docker')!,
          queueUrl: queue.url,
          queueArn: queue.arn,
          mode: 'sqs',
          batchSize: queueSource?.kind === 'sqs-queue' ? queueSource.batchSize : 10,
          invoke: (e) => orchestrator.invoke(e),
        }),
      );
    }
    // The stream's two consumers, as on AWS: each mapping reads every shard with its own iterators, as its function's role.
    const streamConsumer = (contract: DeploymentContract<never>, fn: LocalFunction) => {
      const spec = contract.eventSources.find((e) => e.kind === 'dynamodb-stream');
      return createStreamSource({
        target: aws,
        reader: targets.get(contract.function)!,
        tableName: names.jobsTable,
        invoke: (e) => fn.invoke(e),
        batchSize: spec?.kind === 'dynamodb-stream' ? spec.batchSize : 100,
      });
    };
    sources.push(
      await streamConsumer(messengerContract as DeploymentContract<never>, messenger),
      await streamConsumer(notifierContract as DeploymentContract<never>, notifier),
      createScheduleSource({
        name: 'notifier-waiting',
        everyMs: options.notifierTickMs ?? everyMs(notifierContract, 'waiting'),
        invoke: (e) => notifier.invoke(e),
        region: aws.region,
      }),
      createSqsSource({
        target: aws,
        queueUrl: topology.publisherInbox.url,
        queueArn: topology.publisherInbox.arn,
        mode: 'sns',
        invoke: (e) => publisher.invoke(e),
      }),
      createScheduleSource({
        name: 'publisher-tick',
        everyMs: options.publisherTickMs ?? everyMs(publisherContract, 'tick'),
        invoke: (e) => publisher.invoke(e),
        region: aws.region,
      }),
      createScheduleSource({
        name: 'host-rules-tick',
        everyMs: options.hostRulesTickMs ?? everyMs(orchestratorContracts.docker, 'host-rules'),
        invoke: (e) => orchestrator.invoke(e),
        region: aws.region,
      }),
      createScheduleSource({
        name: 'reconciler-tick',
        everyMs: options.reconcilerTickMs ?? everyMs(reconcilerContract, 'tick'),
        invoke: (e) => reconciler.invoke(e),
        region: aws.region,
      }),
    );
    if (listener)
      sources.push(
        createScheduleSource({
          name: 'listener-listen',
          everyMs: options.listenerTickMs ?? everyMs(listenerContract, 'listen'),
          invoke: (e) => listener.invoke(e),
          region: aws.region,
          // Jobs queued right after start are heard at once, not after the first minute.
          fireAtStart: true,
          onError: (error) => {
            if (!stopping) console.error('[schedule listener-listen]', error);
          },
        }),
      );
    for (const source of sources) source.start();
    if (producer) {
      api = await startHttpApi(options.httpPort, { 'POST /webhook': producer });
      sim?.setWebhook(`${api.url}/webhook`, options.webhookSecret);
    }

    const stack: StackFile = {
      webhookUrl: api ? `${api.url}/webhook` : '',
      webhookSecret: options.webhookSecret,
      aws: { endpoint: aws.endpoint, region: aws.region, accessKeyId: 'test', secretAccessKey: 'test' },
      tables: { jobs: names.jobsTable },
      topics: { publisher: topology.publisherTopicArn, jobs: topology.jobsTopicArn },
      queues: Object.fromEntries(topology.poolQueues.map((q) => [q.pool, { url: q.url, arn: q.arn, deadLetterUrl: q.deadLetter.url }])),
      parameters: { webhookSecret: names.webhookSecretParameter, githubAppId: names.githubAppIdParameter, githubPrivateKey: names.githubPrivateKeyParameter },
      github: { apiUrl: github.apiUrl, simulated: sim !== undefined, appId: github.appId },
      functions: [...functions.values()].map((f) => f.name),
      iam: { endpoint: proxy.endpoint, enforced: true },
    };
    writeFileSync(resolve(options.stackDir, 'stack.json'), `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
    const contracts: [DeploymentContract<never>, LocalFunction][] = [[orchestratorContracts.docker as DeploymentContract<never>, orchestrator]];
    const putEvent: LocalStack['putEvent'] = (event) => {
      const matching = contracts.filter(([contract]) =>
        contract.eventSources.some((s) => s.kind === 'event-pattern' && s.source === event.source && s.detailTypes.includes(event['detail-type'])),
      );
      const envelope = { version: '0', id: randomUUID(), account: '123456789012', time: new Date().toISOString(), region: aws.region, resources: [], ...event };
      return Promise.all(matching.map(([, fn]) => fn.invoke(envelope)));
    };
    const collected = traces;
    const snapshot = () =>
      statusSnapshot({
        dynamodb: new DynamoDBClient(aws.clientConfig),
        tableName: names.jobsTable,
        config,
        traces: collected.store,
        hosts: async () => (await runnerHosts.list()).map((h) => ({ runnerName: h.runnerName, pool: h.pool })),
        runners: () => [...(sim?.model.runners.values() ?? [])].map((r) => ({ name: r.name, status: r.status, busy: r.busy })),
        passes: () => passLog.passes(),
      });
    if (options.statusPort !== undefined) status = await startStatusPage(options.statusPort, snapshot);
    return {
      stack,
      aws,
      config,
      functions,
      iam: proxy,
      targetFor,
      traces: collected,
      snapshot,
      ...(status ? { status } : {}),
      sim,
      runnerHosts,
      putEvent,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
