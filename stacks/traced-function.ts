import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import type { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { ContractRole } from './contract-role';
import { FUNCTION_ENVIRONMENT, LAMBDA_RUNTIME } from './lambda-runtime';
import { DEAD_LETTER_RETENTION_SECONDS } from './dispatch-topology';
import { resolve } from 'node:path';
import type { DeploymentContract, EventSourceSpec, Permission } from '@runners/shared/deployment';

/*
 * Every function of the product, one way: its own role with exactly the statements it is given (plus writing to its
 * own log group and sending traces), a log group with retention, X-Ray active tracing, JSON logs, nodejs22.x on
 * arm64, and the esbuild bundle from dist/<bundle>/ (make build) — or a container image (the runner Lambda).
 */

export const LOG_RETENTION_DAYS = 30;
export const METRICS_NAMESPACE = 'EphemeralRunners';
/** Where `make build` writes the bundles; the local stack synthesizes with its own (context `bundleDir`). */
const DIST = resolve(import.meta.dirname, '..', 'dist');

export type PolicyStatement = Permission;

/** A function's deployment contract bound to this stack's resources: what its role, environment and name come from. */
export interface BoundDeployment {
  readonly function: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly statements: readonly Permission[];
  readonly eventSources: readonly EventSourceSpec[];
  readonly timeoutSeconds?: number;
}

export function bindContract<Resources>(contract: DeploymentContract<Resources>, resources: Resources): BoundDeployment {
  return {
    function: contract.function,
    description: contract.description,
    environment: contract.environmentFor(resources),
    statements: contract.permissions(resources),
    eventSources: contract.eventSources,
    ...(contract.timeoutSeconds !== undefined ? { timeoutSeconds: contract.timeoutSeconds } : {}),
  };
}

export interface TracedFunctionProps {
  /** Full function name: `<prefix>-<contract's function>` unless given (one runner function per Lambda pool). */
  readonly prefix: string;
  readonly functionName?: string;
  /** dist/<bundle>/index.mjs; or an image. */
  readonly code: { readonly bundle: string } | { readonly imageUri: string };
  /** Environment and role statements, from the function's deployment contract (bindContract); nothing beside it. */
  readonly deployment: BoundDeployment;
  readonly memoryMb?: number;
  /** Only where the contract leaves it to the deployment (a Lambda pool's runner: the pool's setting). */
  readonly timeoutSeconds?: number;
  readonly reservedConcurrency?: number;
  readonly ephemeralStorageMb?: number;
  readonly architecture?: 'arm64' | 'x86_64';
  /** Retries of an asynchronous invocation (Lambda's default 2). */
  readonly asyncRetries?: number;
  readonly asyncMaxEventAgeSeconds?: number;
}

export class TracedFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  /** The rules of the contract's schedules. */
  readonly schedules: CloudwatchEventRule[];
  /** Asynchronous invocations that failed every retry (functions invoked by a schedule, SNS or another function). */
  readonly failures?: SqsQueue;
  readonly functionName: string;

  constructor(scope: Construct, id: string, props: TracedFunctionProps) {
    super(scope, id);
    const functionName = props.functionName ?? `${props.prefix}-${props.deployment.function}`;
    this.functionName = functionName;
    const description = props.deployment.description;
    this.logGroup = new CloudwatchLogGroup(this, 'logs', { name: `/aws/lambda/${functionName}`, retentionInDays: LOG_RETENTION_DAYS });
    // Invoked asynchronously (a schedule, SNS, another function): what fails every retry lands in a queue of its own.
    const asynchronous = props.deployment.eventSources.some(
      (e) => e.kind === 'schedule' || e.kind === 'event-pattern' || e.kind === 'sns-topic' || e.kind === 'async-invoke',
    );
    this.failures = asynchronous
      ? new SqsQueue(this, 'failures', {
          name: `${functionName}-async-dlq`,
          messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
          sqsManagedSseEnabled: true,
        })
      : undefined;
    const contractRole = new ContractRole(this, 'access', {
      name: functionName,
      description: `${functionName}: ${description}`,
      assumedBy: { service: 'lambda.amazonaws.com' },
      statements: [
        { sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${this.logGroup.arn}:*`], why: 'its own log group' },
        // X-Ray's trace APIs have no resource-level permissions: "*" is the only resource they accept.
        { sid: 'Traces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'], why: 'active tracing' },
        ...(this.failures
          ? [
              {
                sid: 'OwnFailures',
                actions: ['sqs:SendMessage'],
                resources: [this.failures.arn],
                why: 'its on-failure destination (Lambda sends with the function role)',
              },
            ]
          : []),
        ...props.deployment.statements,
      ],
    });
    this.role = contractRole.role;
    const rolePolicy = contractRole.policy;

    const code =
      'bundle' in props.code
        ? (() => {
            const path = resolve((this.node.tryGetContext('bundleDir') as string | undefined) ?? DIST, props.code.bundle);
            if (!existsSync(resolve(path, 'index.mjs'))) throw new Error(`${path}/index.mjs is missing: run "make build" before synthesizing`);
            const asset = new TerraformAsset(this, 'bundle', { path, type: AssetType.ARCHIVE });
            return { filename: asset.path, sourceCodeHash: asset.assetHash, handler: 'index.handler', runtime: LAMBDA_RUNTIME };
          })()
        : { packageType: 'Image', imageUri: props.code.imageUri };
    this.function = new LambdaFunction(this, 'function', {
      functionName: functionName,
      description,
      role: this.role.arn,
      ...code,
      architectures: [props.architecture ?? 'arm64'],
      memorySize: props.memoryMb ?? 512,
      timeout: props.deployment.timeoutSeconds ?? props.timeoutSeconds ?? 30,
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      ...(props.ephemeralStorageMb ? { ephemeralStorage: { size: props.ephemeralStorageMb } } : {}),
      tracingConfig: { mode: 'Active' },
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
      environment: {
        variables: {
          // Powertools service name (logs, traces, metrics dimension) = the contract's function.
          POWERTOOLS_SERVICE_NAME: props.deployment.function,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          ...FUNCTION_ENVIRONMENT,
          ...props.deployment.environment,
        },
      },
      dependsOn: [this.logGroup, rolePolicy],
    });
    if (this.failures) {
      new LambdaFunctionEventInvokeConfig(this, 'async', {
        functionName: this.function.functionName,
        maximumRetryAttempts: props.asyncRetries ?? 2,
        ...(props.asyncMaxEventAgeSeconds ? { maximumEventAgeInSeconds: props.asyncMaxEventAgeSeconds } : {}),
        destinationConfig: { onFailure: { destination: this.failures.arn } },
        dependsOn: [rolePolicy],
      });
    }
    this.schedules = this.scheduled(props.deployment);
  }

  /** The contract's schedules and event patterns: an EventBridge rule (`<function>-<name>`), its target and the permission to invoke. */
  private scheduled(deployment: BoundDeployment): CloudwatchEventRule[] {
    return deployment.eventSources.flatMap((source) => {
      if (source.kind !== 'schedule' && source.kind !== 'event-pattern') return [];
      const trigger =
        source.kind === 'schedule'
          ? { scheduleExpression: source.everyMinutes === 1 ? 'rate(1 minute)' : `rate(${source.everyMinutes} minutes)` }
          : { eventPattern: JSON.stringify({ source: [source.source], 'detail-type': source.detailTypes }) };
      const rule = new CloudwatchEventRule(this, `${source.name}-rule`, {
        name: `${this.functionName}-${source.name}`,
        ...trigger,
        description: source.description,
      });
      new CloudwatchEventTarget(this, `${source.name}-target`, { rule: rule.name, arn: this.function.arn });
      new LambdaPermission(this, `${source.name}-invokes`, {
        statementId: source.name,
        action: 'lambda:InvokeFunction',
        functionName: this.function.functionName,
        principal: 'events.amazonaws.com',
        sourceArn: rule.arn,
      });
      return [rule];
    });
  }
}
