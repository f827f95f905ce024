import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/*
 * Every function of the product, one way: its own role with exactly the statements it is given (plus writing to its
 * own log group and sending traces), a log group with retention, X-Ray active tracing, JSON logs, nodejs22.x on
 * arm64, and the esbuild bundle from dist/<bundle>/ (make build) — or a container image (the runner Lambda).
 */

export const LOG_RETENTION_DAYS = 30;
export const METRICS_NAMESPACE = 'EphemeralRunners';
const DIST = resolve(import.meta.dirname, '..', 'dist');

export interface PolicyStatement {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: readonly { test: string; variable: string; values: readonly string[] }[];
}

export interface TracedFunctionProps {
  /** Full function name, `<prefix>-<function>`. */
  readonly functionName: string;
  /** Powertools service name (logs, traces, metrics dimension). */
  readonly service: string;
  readonly description: string;
  /** dist/<bundle>/index.mjs; or an image. */
  readonly code: { readonly bundle: string } | { readonly imageUri: string };
  readonly environment?: Record<string, string>;
  readonly statements: readonly PolicyStatement[];
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  readonly reservedConcurrency?: number;
  readonly ephemeralStorageMb?: number;
  readonly architecture?: 'arm64' | 'x86_64';
}

export class TracedFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: TracedFunctionProps) {
    super(scope, id);
    this.logGroup = new CloudwatchLogGroup(this, 'logs', { name: `/aws/lambda/${props.functionName}`, retentionInDays: LOG_RETENTION_DAYS });
    const assume = new DataAwsIamPolicyDocument(this, 'assume', {
      statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }] }],
    });
    this.role = new IamRole(this, 'role', { name: props.functionName, assumeRolePolicy: assume.json, description: `${props.functionName}: ${props.description}` });
    const statements: DataAwsIamPolicyDocumentStatement[] = [
      { sid: 'OwnLogs', effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${this.logGroup.arn}:*`] },
      // X-Ray's trace APIs have no resource-level permissions: "*" is the only resource they accept.
      { sid: 'Traces', effect: 'Allow', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] },
      ...props.statements.map((s) => ({
        sid: s.sid,
        effect: 'Allow',
        actions: [...s.actions],
        resources: [...s.resources],
        ...(s.conditions ? { condition: s.conditions.map((c) => ({ test: c.test, variable: c.variable, values: [...c.values] })) } : {}),
      })),
    ];
    const policy = new DataAwsIamPolicyDocument(this, 'policy', { statement: statements });
    const rolePolicy = new IamRolePolicy(this, 'role-policy', { name: 'least-privilege', role: this.role.id, policy: policy.json });

    const code =
      'bundle' in props.code
        ? (() => {
            const path = resolve(DIST, props.code.bundle);
            if (!existsSync(resolve(path, 'index.mjs'))) throw new Error(`${path}/index.mjs is missing: run "make build" before synthesizing`);
            const asset = new TerraformAsset(this, 'bundle', { path, type: AssetType.ARCHIVE });
            return { filename: asset.path, sourceCodeHash: asset.assetHash, handler: 'index.handler', runtime: 'nodejs22.x' };
          })()
        : { packageType: 'Image', imageUri: props.code.imageUri };
    this.function = new LambdaFunction(this, 'function', {
      functionName: props.functionName,
      description: props.description,
      role: this.role.arn,
      ...code,
      architectures: [props.architecture ?? 'arm64'],
      memorySize: props.memoryMb ?? 512,
      timeout: props.timeoutSeconds ?? 30,
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      ...(props.ephemeralStorageMb ? { ephemeralStorage: { size: props.ephemeralStorageMb } } : {}),
      tracingConfig: { mode: 'Active' },
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
      environment: {
        variables: {
          POWERTOOLS_SERVICE_NAME: props.service,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          NODE_OPTIONS: '--enable-source-maps',
          ...props.environment,
        },
      },
      dependsOn: [this.logGroup, rolePolicy],
    });
  }

  /** Invoked by an EventBridge schedule (`rate(…)`): the rule, its target, and the permission to invoke. */
  onSchedule(id: string, props: { readonly ruleName: string; readonly scheduleExpression: string; readonly description: string }): CloudwatchEventRule {
    const rule = new CloudwatchEventRule(this, `${id}-rule`, { name: props.ruleName, scheduleExpression: props.scheduleExpression, description: props.description });
    new CloudwatchEventTarget(this, `${id}-target`, { rule: rule.name, arn: this.function.arn });
    new LambdaPermission(this, `${id}-invokes`, { statementId: id, action: 'lambda:InvokeFunction', functionName: this.function.functionName, principal: 'events.amazonaws.com', sourceArn: rule.arn });
    return rule;
  }
}
