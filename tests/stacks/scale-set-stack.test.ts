import { describe, expect, it } from '@jest/globals';
import type { PoolsConfigInput } from '@runners/shared';
import { Testing } from 'cdktf';
import { RunnersStack } from '../../stacks/runners-stack';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';

/*
 * What the stacks deploy for each intake: the scale-set listener (every minute, Lambda's longest timeout, its own role)
 * only when a pool takes its jobs from a scale set; the webhook endpoint and the producer only when one takes them
 * from webhooks.
 */

type Block = Record<string, unknown>;
interface TerraformJson {
  resource: Record<string, Record<string, Block>>;
  data: Record<string, Record<string, Block>>;
  output?: Record<string, Block>;
}

const scaleSetPool: PoolsConfigInput['pools'][number] = {
  name: 'lint-ss',
  host: 'docker',
  os: 'linux',
  arch: 'x64',
  labels: ['lint'],
  maxRunners: 20,
  launchesPerMinute: 30,
  intake: 'scaleset',
  scaleSet: { owner: 'octo-org' },
  docker: { image: 'sim-runner:latest' },
};

function synth(pools: PoolsConfigInput): TerraformJson {
  const stack = new RunnersStack(Testing.app(), 'test', { prefix: 'er', region: 'eu-west-1', pools: testPoolsConfig(pools) });
  return JSON.parse(Testing.synth(stack)) as TerraformJson;
}
const of = (json: TerraformJson, type: string) => Object.entries(json.resource[type] ?? {});
const functionNames = (json: TerraformJson) => of(json, 'aws_lambda_function').map(([, f]) => String(f.function_name));

function statementsOf(json: TerraformJson, roleName: string) {
  const [roleId] = of(json, 'aws_iam_role').find(([, r]) => r.name === roleName)!;
  const documents = json.data.aws_iam_policy_document!;
  return of(json, 'aws_iam_role_policy')
    .filter(([, p]) => String(p.role).includes(`aws_iam_role.${roleId}.`))
    .flatMap(([, p]) => documents[/aws_iam_policy_document\.([^.]+)\.json/.exec(String(p.policy))![1]!]!.statement as { sid?: string; actions?: string[] }[]);
}

describe('stacks: the intakes the pools use', () => {
  it('deploys the listener beside the producer for a mixed config: every minute, 15 minutes, its own least privilege', () => {
    const json = synth({ ...testPoolsInput(), pools: [...testPoolsInput().pools, scaleSetPool] });
    expect(functionNames(json)).toEqual(expect.arrayContaining(['er-listener', 'er-producer']));
    const [, listener] = of(json, 'aws_lambda_function').find(([, f]) => f.function_name === 'er-listener')!;
    expect(listener.timeout).toBe(900);
    const variables = (listener.environment as { variables: Record<string, string> }).variables;
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining(['JOBS_TABLE_NAME', 'GITHUB_APP_ID_PARAMETER', 'GITHUB_PRIVATE_KEY_PARAMETER', 'DEPLOYMENT_ID']),
    );
    const [, rule] = of(json, 'aws_cloudwatch_event_rule').find(([, r]) => r.name === 'er-listener-listen')!;
    expect(rule.schedule_expression).toBe('rate(1 minute)');
    const actions = statementsOf(json, 'er-listener').flatMap((s) => s.actions ?? []);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:GetItem', 'ssm:GetParameter']));
    // No dispatch, no hosts, no queries of the indexes: an intake writes job records and nothing else (the queue it
    // may send to is its own, for invocations that failed every retry).
    expect(actions.filter((a) => /^(sns|ec2|eks|lambda):|^sqs:(?!SendMessage$)|dynamodb:(Query|Scan|DeleteItem|PutItem)/.test(a))).toEqual([]);
    expect(json.output?.webhook_url).toBeDefined();
  });

  it('deploys no webhook endpoint and no producer when every pool takes its jobs from a scale set', () => {
    const json = synth({ ...testPoolsInput(), pools: [scaleSetPool] });
    expect(functionNames(json)).toContain('er-listener');
    expect(functionNames(json)).not.toContain('er-producer');
    expect(of(json, 'aws_apigatewayv2_api')).toEqual([]);
    expect(json.output?.webhook_url).toBeUndefined();
  });

  it('deploys no listener when every pool takes its jobs from webhooks', () => {
    const json = synth(testPoolsInput());
    expect(functionNames(json)).not.toContain('er-listener');
    expect(of(json, 'aws_cloudwatch_event_rule').map(([, r]) => r.name)).not.toContain('er-listener-listen');
  });
});
