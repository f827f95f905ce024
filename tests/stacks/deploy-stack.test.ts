import { describe, expect, it } from '@jest/globals';
import type { PoolsConfigInput } from '@runners/shared';
import { Testing } from 'cdktf';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunnersStack, type RunnersStackProps } from '../../stacks/runners-stack';
import { lambdaTestPool, testPoolsConfig, testPoolsInput } from '../helpers/pools';

/*
 * The whole deployable stack, synthesized (cdktf Testing) and read as the Terraform JSON that would be applied:
 * the data flow is wired, and invariants hold over every resource — tracing, logs, one role per function, no "*"
 * action, "*" resources only where AWS allows nothing narrower, DLQs and encryption, IMDSv2, no secret.
 */

type Block = Record<string, unknown>;
interface TerraformJson {
  resource: Record<string, Record<string, Block>>;
  data: Record<string, Record<string, Block>>;
  output: Record<string, Block>;
}

const withLambdaPool = (): PoolsConfigInput => ({ ...testPoolsInput(), pools: [...testPoolsInput().pools, { ...lambdaTestPool() }] });

function synth(props: Partial<RunnersStackProps> = {}, pools: PoolsConfigInput = withLambdaPool()): TerraformJson {
  const app = Testing.app();
  const stack = new RunnersStack(app, 'test', { prefix: 'er', region: 'eu-west-1', pools: testPoolsConfig(pools), eksClusterName: 'ci-cluster', ...props });
  return JSON.parse(Testing.synth(stack)) as TerraformJson;
}

const of = (json: TerraformJson, type: string) => Object.entries(json.resource[type] ?? {});
const ref = (type: string, id: string) => `\${${type}.${id}`;
/** The logical id of the resource a reference like "${aws_lambda_function.x.arn}" points at. */
const target = (value: unknown) => /^\$\{[a-z0-9_]+\.([^.}]+)/.exec(String(value))?.[1];

/** "*" is allowed only for these actions, which have no resource-level permissions in IAM. */
const STAR_RESOURCE_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'ec2:DescribeInstances', 'ssm:DescribeParameters']);

describe('deployable stack: the data flow is wired', () => {
  const json = synth();
  const functions: Record<string, Block & { id: string }> = Object.fromEntries(
    of(json, 'aws_lambda_function').map(([id, f]) => [f.function_name as string, { ...f, id }]),
  );

  it('has a function for every part of the data flow', () => {
    expect(Object.keys(functions).sort()).toEqual(
      [
        'er-messenger',
        'er-notifier',
        'er-orchestrator-ec2',
        'er-orchestrator-eks',
        'er-orchestrator-lambda',
        'er-producer',
        'er-publisher',
        'er-reconciler',
        'er-runner-lambda-short',
      ].sort(),
    );
  });

  it('routes POST /webhook of an HTTP API to the producer, and outputs the webhook URL', () => {
    const [[, route]] = of(json, 'aws_apigatewayv2_route') as [[string, Block]];
    const [[integrationId, integration]] = of(json, 'aws_apigatewayv2_integration') as [[string, Block]];
    expect(route.route_key).toBe('POST /webhook');
    expect(route.target).toContain(integrationId);
    expect(target(integration.integration_uri)).toBe(functions['er-producer']!.id);
    expect(json.output.webhook_url!.value).toMatch(/api_endpoint}\/webhook$/);
  });

  it('feeds the table stream to the messenger and the notifier, each with partial batch failures and its own failure destination', () => {
    const streams = of(json, 'aws_lambda_event_source_mapping')
      .map(([, m]) => m)
      .filter((m) => String(m.event_source_arn).includes('stream_arn'));
    expect(streams.map((m) => target(m.function_name)).sort()).toEqual([functions['er-messenger']!.id, functions['er-notifier']!.id].sort());
    for (const stream of streams) {
      expect(stream).toMatchObject({ function_response_types: ['ReportBatchItemFailures'], bisect_batch_on_function_error: true, starting_position: 'LATEST' });
      expect(stream.destination_config).toBeDefined();
    }
    expect(new Set(streams.map((m) => JSON.stringify(m.destination_config))).size).toBe(2);
  });

  it('runs one publisher at a time, notified by its topic and ticked every minute', () => {
    expect(functions['er-publisher']!.reserved_concurrent_executions).toBe(1);
    const subscription = of(json, 'aws_sns_topic_subscription')
      .map(([, s]) => s)
      .find((s) => s.protocol === 'lambda')!;
    expect(target(subscription.endpoint)).toBe(functions['er-publisher']!.id);
    const [ruleId, rule] = of(json, 'aws_cloudwatch_event_rule').find(([, r]) => r.name === 'er-publisher-tick')!;
    expect(rule.schedule_expression).toBe('rate(1 minute)');
    const tick = of(json, 'aws_cloudwatch_event_target')
      .map(([, t]) => t)
      .find((t) => String(t.rule).includes(ruleId))!;
    expect(target(tick.arn)).toBe(functions['er-publisher']!.id);
    const permissions = of(json, 'aws_lambda_permission').map(([, p]) => p.principal);
    expect(new Set(permissions)).toEqual(new Set(['apigateway.amazonaws.com', 'events.amazonaws.com', 'sns.amazonaws.com']));
  });

  it('ticks each orchestrator every 5 minutes for its host rules', () => {
    const reconciler = of(json, 'aws_cloudwatch_event_rule').find(([, r]) => r.name === 'er-reconciler-tick')!;
    expect(reconciler[1].schedule_expression).toBe('rate(5 minutes)');
    const rules = of(json, 'aws_cloudwatch_event_rule').filter(([, r]) => String(r.name).endsWith('-host-rules'));
    expect(rules.map(([, r]) => r.name).sort()).toEqual([
      'er-orchestrator-ec2-host-rules',
      'er-orchestrator-eks-host-rules',
      'er-orchestrator-lambda-host-rules',
    ]);
    for (const [ruleId, rule] of rules) {
      expect(rule.schedule_expression).toBe('rate(5 minutes)');
      const tick = of(json, 'aws_cloudwatch_event_target')
        .map(([, t]) => t)
        .find((t) => String(t.rule).includes(ruleId))!;
      expect(target(tick.arn)).toBe(functions[String(rule.name).replace(/-host-rules$/, '')]!.id);
    }
  });

  it('maps each pool queue to the orchestrator of its host kind, with partial batch failures; Docker pools have none on AWS', () => {
    const queues = Object.fromEntries(of(json, 'aws_sqs_queue').map(([id, q]) => [id, q.name as string]));
    const mappings = of(json, 'aws_lambda_event_source_mapping')
      .map(([, m]) => m)
      .filter((m) => String(m.event_source_arn).startsWith(ref('aws_sqs_queue', '')));
    const wiring = Object.fromEntries(
      mappings.map((m) => [queues[target(m.event_source_arn)!], Object.entries(functions).find(([, f]) => f.id === target(m.function_name))![0]]),
    );
    expect(wiring).toEqual({
      'er-pool-eks-k8s': 'er-orchestrator-eks',
      'er-pool-ec2-gpu': 'er-orchestrator-ec2',
      'er-pool-lambda-short': 'er-orchestrator-lambda',
    });
    expect(mappings.every((m) => JSON.stringify(m.function_response_types) === '["ReportBatchItemFailures"]')).toBe(true);
  });

  it("gives the EKS orchestrator an access entry scoped to the pools' namespaces", () => {
    const [[, association]] = of(json, 'aws_eks_access_policy_association') as [[string, Block]];
    expect(association).toMatchObject({ cluster_name: 'ci-cluster', access_scope: { type: 'namespace', namespaces: ['gha-runners'] } });
    const orchestrator = functions['er-orchestrator-eks']!;
    expect(target(association.principal_arn)).toBe(target(orchestrator.role));
    expect((orchestrator.environment as { variables: Record<string, string> }).variables.EKS_CLUSTER_NAME).toBe('ci-cluster');
  });

  it("hands the EC2 orchestrator each pool's launch template, and the Lambda orchestrator each pool's runner function", () => {
    const env = (name: string) => (functions[name]!.environment as { variables: Record<string, string> }).variables;
    const templates = JSON.parse(env('er-orchestrator-ec2').EC2_POOL_TEMPLATES!) as Record<string, { launchTemplateId: string; subnetIds: string[] }>;
    expect(Object.keys(templates)).toEqual(['ec2-gpu']);
    expect(templates['ec2-gpu']!.launchTemplateId).toMatch(/^\$\{aws_launch_template\./);
    expect(templates['ec2-gpu']!.subnetIds).toHaveLength(2);
    expect(JSON.parse(env('er-orchestrator-lambda').RUNNER_FUNCTIONS!)).toEqual({ 'lambda-short': expect.stringMatching(/^\$\{aws_lambda_function\./) });
    const runner = functions['er-runner-lambda-short']!;
    expect(runner).toMatchObject({ package_type: 'Image', timeout: 600, architectures: ['x86_64'] });
    const [[, invokeConfig]] = of(json, 'aws_lambda_function_event_invoke_config') as [[string, Block]];
    expect(invokeConfig.maximum_retry_attempts).toBe(0);
  });

  it('outputs the webhook URL, table, topics, queues and dashboard URL', () => {
    expect(Object.keys(json.output).sort()).toEqual(
      [
        'dashboard_url',
        'docker_orchestrator_role',
        'jobs_table',
        'pool_queues',
        'pools',
        'runner_image_repository',
        'secrets_key',
        'topics',
        'webhook_url',
      ].sort(),
    );
  });
});

describe('deployable stack: invariants over the whole JSON', () => {
  const json = synth();
  const text = JSON.stringify(json);
  const functions = of(json, 'aws_lambda_function');
  const documents = json.data.aws_iam_policy_document!;

  it('every function has active tracing, its own role, and a log group with retention', () => {
    const roles = new Set<string>();
    const logGroups = Object.fromEntries(of(json, 'aws_cloudwatch_log_group').map(([, g]) => [g.name, g]));
    for (const [, f] of functions) {
      expect(f.tracing_config).toEqual({ mode: 'Active' });
      roles.add(target(f.role)!);
      const group = logGroups[`/aws/lambda/${f.function_name as string}`];
      expect(group).toBeDefined();
      expect(group!.retention_in_days).toBeGreaterThan(0);
      expect((f.logging_config as Block).log_group).toBeDefined();
      if (f.package_type !== 'Image') expect(f.runtime).toBe('nodejs22.x');
    }
    expect(roles.size).toBe(functions.length);
  });

  it('no IAM statement allows a "*" action; "*" resources only for actions that accept nothing narrower', () => {
    // Identity policies (the KMS key's policy is a resource policy: its account-root "kms:*" is AWS's default).
    const keyPolicies = new Set(of(json, 'aws_kms_key').map(([, k]) => /aws_iam_policy_document\.([^.]+)\.json/.exec(String(k.policy))?.[1]));
    const statements = Object.entries(documents)
      .filter(([id]) => !keyPolicies.has(id))
      .flatMap(([, d]) => (d.statement as { actions?: string[]; resources?: string[] }[]) ?? []);
    expect(statements.length).toBeGreaterThan(10);
    for (const statement of statements) {
      for (const action of statement.actions ?? []) expect(action).not.toMatch(/\*/);
      if ((statement.resources ?? []).includes('*')) {
        expect(statement.actions!.filter((a) => !STAR_RESOURCE_ACTIONS.has(a))).toEqual([]);
      }
    }
    // Inline role policies come from those documents only: no hand-written JSON slips past the check.
    for (const [, policy] of of(json, 'aws_iam_role_policy')) expect(String(policy.policy)).toMatch(/^\$\{data\.aws_iam_policy_document\./);
  });

  it('every queue has a DLQ or is one, and every queue is encrypted', () => {
    const queues = of(json, 'aws_sqs_queue');
    const deadLetterIds = new Set(queues.filter(([, q]) => String(q.name).endsWith('-dlq')).map(([id]) => id));
    for (const [id, queue] of queues) {
      expect(queue.sqs_managed_sse_enabled).toBe(true);
      if (deadLetterIds.has(id)) continue;
      const redrive = JSON.parse(String(queue.redrive_policy)) as { deadLetterTargetArn: string };
      expect(deadLetterIds.has(target(redrive.deadLetterTargetArn)!)).toBe(true);
    }
    // The stream consumers' failed batches have a DLQ too.
    expect(queues.map(([, q]) => q.name)).toEqual(expect.arrayContaining(['er-messenger-dlq', 'er-notifier-dlq']));
  });

  it('launch templates require IMDSv2 and encrypt the root volume', () => {
    const templates = of(json, 'aws_launch_template');
    expect(templates.length).toBeGreaterThan(0);
    for (const [, template] of templates) {
      expect(template.metadata_options).toMatchObject({ http_tokens: 'required', http_put_response_hop_limit: 1 });
      expect((template.block_device_mappings as { ebs: Block }[])[0]!.ebs).toMatchObject({ encrypted: 'true' });
    }
  });

  it('the table has point-in-time recovery and encryption', () => {
    const [[, table]] = of(json, 'aws_dynamodb_table') as [[string, Block]];
    expect(table).toMatchObject({ point_in_time_recovery: { enabled: true }, server_side_encryption: { enabled: true } });
  });

  it('holds no secret: Terraform creates no parameter; the key of the secrets lets only their readers decrypt', () => {
    const secrets = {
      GITHUB_APP_ID: '918273645',
      GITHUB_WEBHOOK_SECRET: 'whsec-do-not-leak',
      GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA',
    };
    const saved = { ...process.env };
    Object.assign(process.env, secrets);
    try {
      const withSecretsAround = JSON.stringify(synth());
      for (const value of Object.values(secrets)) expect({ value, found: withSecretsAround.includes(value) }).toEqual({ value, found: false });
    } finally {
      process.env = saved;
    }
    // Terraform creates no secret at all (an aws_ssm_parameter's value would be in the state on refresh): the deploy
    // writes them; the stack only has the key they are encrypted with, which only their readers may decrypt with.
    expect(of(json, 'aws_ssm_parameter')).toEqual([]);
    const keyPolicyOf = (key: Block) =>
      json.data.aws_iam_policy_document![/aws_iam_policy_document\.([^.]+)\.json/.exec(String(key.policy))![1]!]!.statement as {
        sid: string;
        effect: string;
        actions: string[];
        condition?: { test: string; variable: string; values: string[] }[];
      }[];
    const key = of(json, 'aws_kms_key')
      .map(([, k]) => k)
      .find((k) => keyPolicyOf(k).some((st) => st.sid === 'OnlyReadersDecrypt'))!;
    expect(key).toMatchObject({ enable_key_rotation: true });
    const keyPolicy = keyPolicyOf(key);
    const onlyReaders = keyPolicy.find((st) => st.sid === 'OnlyReadersDecrypt')!;
    expect(onlyReaders).toMatchObject({ effect: 'Deny', actions: ['kms:Decrypt'] });
    expect(onlyReaders.condition![0]).toMatchObject({ test: 'ArnNotEquals', variable: 'aws:PrincipalArn' });
    expect(onlyReaders.condition![0]!.values.map((v) => v.replace(/.*:role\//, '')).sort()).toEqual([
      'er-notifier',
      'er-orchestrator-docker',
      'er-orchestrator-ec2',
      'er-orchestrator-eks',
      'er-orchestrator-lambda',
      'er-producer',
      'er-reconciler',
    ]);
    expect(text).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
  });

  it('alarms on dead letters, old pool messages, function errors and unroutable jobs', () => {
    const alarms = of(json, 'aws_cloudwatch_metric_alarm').map(([, a]) => `${a.namespace as string}/${a.metric_name as string}`);
    const count = (metric: string) => alarms.filter((a) => a === metric).length;
    const asyncDeadLetters = of(json, 'aws_sqs_queue').filter(([, q]) => String(q.name).endsWith('-async-dlq')).length;
    expect(asyncDeadLetters).toBe(7); // publisher, reconciler, notifier, three orchestrators (schedules), the runner Lambda
    expect(count('AWS/SQS/ApproximateNumberOfMessagesVisible')).toBe(6 + asyncDeadLetters); // four pools + the two stream consumers + those
    expect(count('AWS/SQS/ApproximateAgeOfOldestMessage')).toBe(4);
    expect(count('AWS/Lambda/Errors')).toBe(functions.length);
    expect(count('EphemeralRunners/UnroutableJobs')).toBe(1);
    expect(count('EphemeralRunners/WebhookSecretNotConfigured')).toBe(1);
    // Time to runner, per pool, at p95 over 15 minutes, from the producer's metric (GitHub's timestamps).
    const timeToRunner = of(json, 'aws_cloudwatch_metric_alarm')
      .map(([, a]) => a)
      .filter((a) => a.metric_name === 'TimeToRunner');
    expect(timeToRunner).toHaveLength(4);
    for (const a of timeToRunner)
      expect(a).toMatchObject({ extended_statistic: 'p95', period: 900, threshold: 15 * 60, dimensions: { service: 'producer', pool: expect.any(String) } });
    const [[, dashboard]] = of(json, 'aws_cloudwatch_dashboard') as [[string, Block]];
    const titles = (JSON.parse(String(dashboard.dashboard_body)) as { widgets: { properties: { title: string } }[] }).widgets.map((w) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Jobs queued',
        'Time to runner: queued → runner p50 / p95 (s)',
        'Time to host: queued → host created p50 / p95 (s)',
        'Launch failures',
        'In-flight runners',
        'Dead-letter depth',
        'Reconciler',
        'GitHub rate limit remaining',
      ]),
    );
  });
});

describe('deployable stack: pools and network', () => {
  const addresses = (json: TerraformJson) =>
    new Set(
      [...Object.entries(json.resource), ...Object.entries(json.data).map(([t, r]) => [`data.${t}`, r] as const)].flatMap(([type, byId]) =>
        Object.keys(byId).map((id) => `${type}.${id}`),
      ),
    );

  it('adding an EC2 pool adds exactly its resources', () => {
    const base = testPoolsInput();
    const extra: PoolsConfigInput['pools'][number] = {
      name: 'ec2-extra',
      host: 'ec2',
      os: 'linux',
      arch: 'x64',
      labels: ['extra'],
      maxRunners: 3,
      launchesPerMinute: 6,
      ec2: { instanceTypes: ['c7i.large'], image: { amiId: 'ami-0123456789abcdef1' } },
    };
    const before = addresses(synth({}, base));
    const after = addresses(synth({}, { ...base, pools: [...base.pools, extra] }));

    const added = [...after].filter((a) => !before.has(a));
    expect([...before].filter((a) => !after.has(a))).toEqual([]);
    expect(added.every((a) => a.includes('ec2-extra'))).toBe(true);
    expect(added.map((a) => a.split('.').slice(0, -1).join('.')).sort()).toEqual(
      [
        'aws_cloudwatch_metric_alarm', // dead letters
        'aws_cloudwatch_metric_alarm', // queue age
        'aws_cloudwatch_metric_alarm', // time to runner
        'aws_lambda_event_source_mapping',
        'aws_launch_template',
        'aws_sns_topic_subscription',
        'aws_sqs_queue',
        'aws_sqs_queue',
        'aws_sqs_queue_policy',
        'data.aws_iam_policy_document',
      ].sort(),
    );
  });

  it('creates a VPC with NAT, or uses the VPC and subnets it is given', () => {
    const created = synth();
    expect(of(created, 'aws_vpc')).toHaveLength(1);
    expect(of(created, 'aws_nat_gateway')).toHaveLength(1);

    const own = synth({ network: { vpcId: 'vpc-0abc', subnetIds: ['subnet-01', 'subnet-02'] } });
    expect(of(own, 'aws_vpc')).toHaveLength(0);
    expect(of(own, 'aws_subnet')).toHaveLength(0);
    const ec2 = of(own, 'aws_lambda_function').find(([, f]) => f.function_name === 'er-orchestrator-ec2')![1];
    expect(JSON.parse((ec2.environment as { variables: Record<string, string> }).variables.EC2_POOL_TEMPLATES!)['ec2-gpu'].subnetIds).toEqual([
      'subnet-01',
      'subnet-02',
    ]);
    expect(of(own, 'aws_security_group')[0]![1].vpc_id).toBe('vpc-0abc');
  });

  it('deploys no EKS orchestrator without a cluster name, and says so', () => {
    const json = synth({ eksClusterName: undefined });
    expect(of(json, 'aws_lambda_function').map(([, f]) => f.function_name)).not.toContain('er-orchestrator-eks');
    expect(of(json, 'aws_eks_access_entry')).toHaveLength(0);
  });
});

describe('make synth', () => {
  it('works offline with no AWS credentials, writing plain Terraform JSON', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'synth-'));
    try {
      const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
      execFileSync('npx', ['tsx', 'main.ts'], {
        env: { ...env, CDKTF_OUTDIR: outdir, HOME: outdir, EKS_CLUSTER_NAME: 'ci-cluster' },
        stdio: 'pipe',
        timeout: 120_000,
      });
      const json = JSON.parse(readFileSync(join(outdir, 'stacks', 'runners', 'cdk.tf.json'), 'utf8')) as TerraformJson;
      expect(Object.keys(json.resource).length).toBeGreaterThan(20);
      expect(readdirSync(join(outdir, 'stacks', 'runners', 'assets')).length).toBeGreaterThan(0);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('workflows', () => {
  it('pass actionlint', () => {
    const actionlint = resolve('.tools/actionlint');
    if (!existsSync(actionlint)) throw new Error(`${actionlint} is missing: "make tools" installs it (go install)`);
    const files = readdirSync('.github/workflows').map((f) => join('.github/workflows', f));
    expect(files.length).toBeGreaterThanOrEqual(2);
    // Throws with actionlint's findings when there are any.
    execFileSync(actionlint, ['-no-color', ...files], { stdio: 'pipe' });
  });
});

/* What a platform-security review asks of the synthesized stack, item by item (issue 12, "hardening"). */
describe('deployable stack: hardening', () => {
  const json = synth();
  const documents = json.data.aws_iam_policy_document!;
  const documentOf = (reference: unknown) => documents[/aws_iam_policy_document\.([^.]+)\.json/.exec(String(reference))![1]!]!;
  type Statement = { sid?: string; actions?: string[]; resources?: string[]; condition?: { test: string; variable: string; values: string[] }[] };
  const statementsOfRole = (roleName: string) => {
    const [roleId] = of(json, 'aws_iam_role').find(([, r]) => r.name === roleName)!;
    return of(json, 'aws_iam_role_policy')
      .filter(([, p]) => String(p.role).includes(`aws_iam_role.${roleId}.`))
      .flatMap(([, p]) => documentOf(p.policy).statement as Statement[]);
  };

  it('encrypts every SNS topic with a key of the stack (CloudWatch may publish alarms with it)', () => {
    const topics = of(json, 'aws_sns_topic').map(([, t]) => t);
    expect(topics.length).toBe(3);
    for (const topic of topics) expect(String(topic.kms_master_key_id)).toMatch(/^\$\{aws_kms_key\./);
    const key = of(json, 'aws_kms_key').find(([id]) => String(topics[0]!.kms_master_key_id).includes(id))![1];
    expect(JSON.stringify(documentOf(key.policy))).toContain('cloudwatch.amazonaws.com');
    // Publishers may use it, only through SNS.
    const publisher = statementsOfRole('er-publisher').find((st) => st.sid === 'EncryptedTopics')!;
    expect(publisher).toMatchObject({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'] });
    expect(publisher.condition![0]!.variable).toBe('kms:ViaService');
  });

  it('logs every webhook call of the HTTP API', () => {
    const [[, stage]] = of(json, 'aws_apigatewayv2_stage') as [[string, Block]];
    const settings = stage.access_log_settings as Block[] | Block;
    const access = Array.isArray(settings) ? settings[0]! : settings;
    expect(String(access.destination_arn)).toMatch(/aws_cloudwatch_log_group\./);
    expect(JSON.parse(String(access.format))).toMatchObject({ status: '$context.status', delivery: '$request.header.X-GitHub-Delivery' });
  });

  it('keeps runner images immutable by tag', () => {
    for (const [, repository] of of(json, 'aws_ecr_repository')) expect(repository.image_tag_mutability).toBe('IMMUTABLE');
  });

  it('logs the VPC it creates and closes its default security group', () => {
    const [[, flowLog]] = of(json, 'aws_flow_log') as [[string, Block]];
    expect(flowLog).toMatchObject({ traffic_type: 'ALL', log_destination_type: 'cloud-watch-logs' });
    const [[, defaultGroup]] = of(json, 'aws_default_security_group') as [[string, Block]];
    expect(defaultGroup).toMatchObject({ ingress: [], egress: [] });
    // A network of the user's: neither is ours to create.
    const own = synth({ network: { vpcId: 'vpc-0abc', subnetIds: ['subnet-0abc'] } });
    expect(of(own, 'aws_flow_log')).toEqual([]);
    expect(of(own, 'aws_default_security_group')).toEqual([]);
  });

  it('gives every asynchronously invoked function an on-failure destination its role may send to', () => {
    const configs = of(json, 'aws_lambda_function_event_invoke_config').map(([, c]) => c);
    const functions = of(json, 'aws_lambda_function').map(([, f]) => String(f.function_name));
    const asynchronous = functions.filter((name) => !/-(producer|messenger)$/.test(name));
    expect(configs.length).toBe(asynchronous.length);
    for (const config of configs) {
      const destination = ((config.destination_config as Block).on_failure as Block).destination;
      expect(String(destination)).toMatch(/aws_sqs_queue\..*\.arn/);
    }
    expect(statementsOfRole('er-publisher').find((st) => st.sid === 'OwnFailures')).toMatchObject({ actions: ['sqs:SendMessage'] });
    // The runner Lambda is never retried: a retry would start a second runner on the same single-use config.
    const runner = configs.find((c) => String(c.function_name).includes('runner'))!;
    expect(runner.maximum_retry_attempts).toBe(0);
  });

  it("limits the EC2 orchestrator's RunInstances to its templates, its managed-by tag, the pools' subnets and allowed AMI owners", () => {
    const statements = statementsOfRole('er-orchestrator-ec2').filter((st) => st.actions?.includes('ec2:RunInstances'));
    const own = statements.find((st) => st.sid === 'LaunchOwnInstances')!;
    expect(own.resources).toEqual([expect.stringMatching(/:instance\/\*$/)]);
    expect(own.condition).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ test: 'StringEquals', variable: 'aws:RequestTag/ephemeral-runners.managed-by', values: ['er'] }),
        expect.objectContaining({ test: 'ArnEquals', variable: 'ec2:LaunchTemplate' }),
      ]),
    );
    const images = statements.find((st) => st.sid === 'LaunchAllowedImages')!;
    expect(images.condition![0]).toMatchObject({ test: 'StringEquals', variable: 'ec2:Owner' });
    expect(images.condition![0]!.values).toContain('amazon');
    // No subnet/* anywhere: only the pools' subnets.
    expect(statements.flatMap((st) => st.resources ?? []).some((r) => r.endsWith(':subnet/*'))).toBe(false);
    expect(statementsOfRole('er-orchestrator-ec2').find((st) => st.sid === 'SpotServiceLinkedRole')).toMatchObject({
      actions: ['iam:CreateServiceLinkedRole'],
    });
  });

  it("lets an EC2 runner read and delete only the JIT parameters tagged with its own instance, through Terraform's escape", () => {
    const [own] = statementsOfRole('er-runner-instance');
    expect(own).toMatchObject({ actions: ['ssm:GetParameters', 'ssm:DeleteParameter'] });
    // "$${…}" is Terraform's literal "${…}": IAM receives the policy variable.
    expect(own!.condition).toEqual([{ test: 'StringLike', variable: 'ec2:SourceInstanceARN', values: ['*/$${aws:ResourceTag/InstanceId}'] }]);
  });

  it('verifies every binary the deploy path downloads, and keeps keys and .env out of git and build contexts', () => {
    const deployer = readFileSync('stacks/deployer.Dockerfile', 'utf8');
    expect(deployer).toMatch(/gpg --batch --verify .*SHA256SUMS\.sig/);
    expect(deployer).toMatch(/sha256sum -c -/);
    const runner = readFileSync('functions/runner-lambda/Dockerfile', 'utf8');
    expect(runner).toMatch(/test -n "\$\{RUNNER_SHA256\}"/);
    expect(runner).toContain('echo "${RUNNER_SHA256}  /tmp/runner.tar.gz" | sha256sum -c -');
    expect(runner).not.toMatch(/curl [^\n]*\| *tar/);
    for (const file of ['.gitignore', '.dockerignore']) {
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines).toEqual(expect.arrayContaining(['.env', '*.pem']));
    }
  });

  it('gives the runner Lambda no permission beyond its logs, traces and failure destination', () => {
    const sids = statementsOfRole('er-runner-lambda-short').map((st) => st.sid);
    expect(sids.sort()).toEqual(['OwnFailures', 'OwnLogs', 'Traces']);
  });
});
