/*
 * What IAM authorizes for one AWS API request: the action(s), on which resource ARN(s), with which request context —
 * as the service's authorization reference says ("Actions, resources, and condition keys for <service>",
 * docs.aws.amazon.com/service-authorization/latest/reference/). Only the operations this product calls are modelled;
 * any other operation is refused with a message saying so (a stand-in that guessed would be kinder than AWS).
 */

export interface AwsRequest {
  /** The signing name of the credential scope: dynamodb, sns, sqs, ssm, ec2, lambda, eks, sts, iam, … */
  readonly service: string;
  readonly operation: string;
  /** JSON protocols: the body; query protocols: the form fields; REST: the path parameters and body. */
  readonly input: Record<string, unknown>;
  readonly region: string;
}

export interface Authorization {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
}

/** Facts about existing resources that IAM evaluates (tags, launch templates), read from the emulator. */
export interface ResourceFacts {
  readonly accountId: string;
  parameterTags(name: string): Promise<Record<string, string> | undefined>;
  /** The customer-managed KMS key a topic is encrypted with (undefined for none or an AWS-managed one). */
  topicKeyArn(topicArn: string): Promise<string | undefined>;
  /** The customer-managed KMS key of a SecureString (undefined for AWS's own aws/ssm key or a String). */
  parameterKeyArn(name: string): Promise<string | undefined>;
  instanceTags(instanceId: string): Promise<Record<string, string> | undefined>;
  /** `ec2:Owner` of an AMI: "amazon" for Amazon's, else the owner's account id. */
  imageOwner(imageId: string): Promise<string | undefined>;
  /** A parameter's value (what `resolve:ssm:` resolves to). */
  parameterValue(name: string): Promise<string | undefined>;
  launchTemplate(reference: {
    id?: string;
    name?: string;
  }): Promise<{ id: string; imageId?: string; securityGroupIds: string[]; instanceProfileRoleArn?: string } | undefined>;
}

export class UnmodelledOperationError extends Error {
  constructor(readonly request: AwsRequest) {
    super(`the local IAM evaluator does not model ${request.service}:${request.operation}; add it to local/iam/request-authorization.ts`);
    this.name = 'UnmodelledOperationError';
  }
}

/** The parameter a launch template's `resolve:ssm:<name>[:version]` image names, or undefined for a plain AMI id. */
export function ssmImageParameter(imageId: string): string | undefined {
  return imageId.startsWith('resolve:ssm:') ? imageId.slice('resolve:ssm:'.length).replace(/:\d+$/, '') : undefined;
}

const str = (value: unknown) => (typeof value === 'string' ? value : '');
const tagContext = (prefix: string, tags: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`${prefix}/${k}`, v]));

export async function authorizationsFor(request: AwsRequest, facts: ResourceFacts): Promise<Authorization[]> {
  const { region } = request;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${facts.accountId}:${resource}`;
  const input = request.input;
  const op = request.operation;
  switch (request.service) {
    case 'dynamodb': {
      const table = (name: unknown) => arn('dynamodb', `table/${str(name)}`);
      if (['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'DescribeTable'].includes(op))
        return [{ action: `dynamodb:${op}`, resource: table(input.TableName) }];
      if (op === 'Query' || op === 'Scan') {
        return [{ action: `dynamodb:${op}`, resource: input.IndexName ? `${table(input.TableName)}/index/${str(input.IndexName)}` : table(input.TableName) }];
      }
      if (op === 'BatchGetItem' || op === 'BatchWriteItem')
        return Object.keys((input.RequestItems ?? {}) as object).map((name) => ({ action: `dynamodb:${op}`, resource: table(name) }));
      if (op === 'TransactWriteItems') {
        // Each item is authorized as the single-item action it stands for.
        const actions: Record<string, string> = {
          ConditionCheck: 'dynamodb:ConditionCheckItem',
          Put: 'dynamodb:PutItem',
          Update: 'dynamodb:UpdateItem',
          Delete: 'dynamodb:DeleteItem',
        };
        return ((input.TransactItems ?? []) as Record<string, { TableName?: string }>[]).flatMap((item) =>
          Object.entries(item).map(([kind, body]) => ({ action: actions[kind] ?? `dynamodb:${kind}`, resource: table(body.TableName) })),
        );
      }
      // DynamoDB Streams sign as "dynamodb"; a shard iterator names its stream (moto: "<stream arn>|1|<id>").
      if (op === 'DescribeStream' || op === 'GetShardIterator') return [{ action: `dynamodb:${op}`, resource: str(input.StreamArn) }];
      if (op === 'GetRecords') return [{ action: 'dynamodb:GetRecords', resource: str(input.ShardIterator).split('|')[0]! }];
      if (op === 'ListStreams') return [{ action: 'dynamodb:ListStreams', resource: `${table(input.TableName ?? '*')}/stream/*` }];
      break;
    }
    case 'sns':
      // PublishBatch is authorized as sns:Publish; an encrypted topic also needs the caller's data key, through SNS.
      if (op === 'Publish' || op === 'PublishBatch') {
        const key = await facts.topicKeyArn(str(input.TopicArn));
        const context = { 'kms:ViaService': `sns.${region}.amazonaws.com` };
        return [
          { action: 'sns:Publish', resource: str(input.TopicArn) },
          ...(key
            ? [
                { action: 'kms:GenerateDataKey', resource: key, context },
                { action: 'kms:Decrypt', resource: key, context },
              ]
            : []),
        ];
      }
      break;
    case 'sqs': {
      const queue = (url: unknown) => {
        const [account, name] = new URL(str(url)).pathname.split('/').filter(Boolean);
        return `arn:aws:sqs:${region}:${account}:${name}`;
      };
      const actions: Record<string, string> = {
        ReceiveMessage: 'sqs:ReceiveMessage',
        DeleteMessage: 'sqs:DeleteMessage',
        DeleteMessageBatch: 'sqs:DeleteMessage',
        ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
        ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
        SendMessage: 'sqs:SendMessage',
        SendMessageBatch: 'sqs:SendMessage',
        GetQueueAttributes: 'sqs:GetQueueAttributes',
      };
      if (actions[op]) return [{ action: actions[op], resource: queue(input.QueueUrl) }];
      if (op === 'GetQueueUrl') return [{ action: 'sqs:GetQueueUrl', resource: arn('sqs', str(input.QueueName)) }];
      break;
    }
    case 'ssm': {
      const parameter = (name: string) => arn('ssm', `parameter${name.startsWith('/') ? name : `/${name}`}`);
      const existing = async (name: string) => tagContext('aws:ResourceTag', await facts.parameterTags(name));
      // Decrypting a SecureString under a customer-managed key is kms:Decrypt by the caller, through SSM.
      const decrypt = async (name: string): Promise<Authorization[]> => {
        const key = input.WithDecryption === true ? await facts.parameterKeyArn(name) : undefined;
        return key ? [{ action: 'kms:Decrypt', resource: key, context: { 'kms:ViaService': `ssm.${region}.amazonaws.com` } }] : [];
      };
      if (op === 'DeleteParameter') return [{ action: 'ssm:DeleteParameter', resource: parameter(str(input.Name)), context: await existing(str(input.Name)) }];
      if (op === 'GetParameter')
        return [
          { action: 'ssm:GetParameter', resource: parameter(str(input.Name)), context: await existing(str(input.Name)) },
          ...(await decrypt(str(input.Name))),
        ];
      if (op === 'GetParameters' || op === 'DeleteParameters') {
        const names = (input.Names ?? []) as string[];
        return (
          await Promise.all(
            names.map(async (name) => [
              { action: `ssm:${op}`, resource: parameter(name), context: await existing(name) },
              ...(op === 'GetParameters' ? await decrypt(name) : []),
            ]),
          )
        ).flat();
      }
      if (op === 'PutParameter') {
        const tags = Object.fromEntries(((input.Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]));
        const request = { ...tagContext('aws:RequestTag', tags), ...(Object.keys(tags).length > 0 ? { 'aws:TagKeys': Object.keys(tags) } : {}) };
        const put = { action: 'ssm:PutParameter', resource: parameter(str(input.Name)), context: { ...(await existing(str(input.Name))), ...request } };
        // Tags given with PutParameter also need ssm:AddTagsToResource (SSM user guide, "Tagging parameters").
        return Object.keys(tags).length > 0 ? [put, { action: 'ssm:AddTagsToResource', resource: parameter(str(input.Name)), context: request }] : [put];
      }
      if (op === 'GetParametersByPath') return [{ action: 'ssm:GetParametersByPath', resource: parameter(str(input.Path)) }];
      // DescribeParameters has no resource-level permissions.
      if (op === 'DescribeParameters') return [{ action: 'ssm:DescribeParameters', resource: '*' }];
      break;
    }
    case 'lambda':
      if (op === 'Invoke') {
        const name = str(input.FunctionName);
        return [{ action: 'lambda:InvokeFunction', resource: name.startsWith('arn:') ? name : arn('lambda', `function:${name}`) }];
      }
      break;
    case 'eks':
      if (op === 'DescribeCluster') return [{ action: 'eks:DescribeCluster', resource: arn('eks', `cluster/${str(input.name)}`) }];
      break;
    case 'sts':
      // "No permissions are required to perform this operation" (STS API reference, GetCallerIdentity).
      if (op === 'GetCallerIdentity') return [];
      break;
    case 'ec2':
      return ec2Authorizations(request, facts, arn);
  }
  throw new UnmodelledOperationError(request);
}

/** EC2 query-protocol fields: `Prefix.N` lists and `Prefix.N.Field` structures. */
function queryList(input: Record<string, unknown>, prefix: string): string[] {
  return Object.entries(input)
    .filter(([key]) => new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.\\d+$`).test(key))
    .map(([, value]) => String(value));
}

async function ec2Authorizations(request: AwsRequest, facts: ResourceFacts, arn: (service: string, resource: string) => string): Promise<Authorization[]> {
  const { input, operation: op } = request;
  const ec2 = (resource: string) => arn('ec2', resource);
  // Describe actions have no resource-level permissions.
  if (op.startsWith('Describe')) return [{ action: `ec2:${op}`, resource: '*' }];
  if (op === 'TerminateInstances') {
    return Promise.all(
      queryList(input, 'InstanceId').map(async (id) => ({
        action: 'ec2:TerminateInstances',
        resource: ec2(`instance/${id}`),
        context: tagContext('aws:ResourceTag', await facts.instanceTags(id)),
      })),
    );
  }
  if (op === 'RunInstances') {
    const template = await facts.launchTemplate({
      id: str(input['LaunchTemplate.LaunchTemplateId']) || undefined,
      name: str(input['LaunchTemplate.LaunchTemplateName']) || undefined,
    });
    if ((input['LaunchTemplate.LaunchTemplateId'] || input['LaunchTemplate.LaunchTemplateName']) && !template)
      throw new Error('RunInstances names a launch template the emulator does not have');
    const tagSpecs = new Map<string, Record<string, string>>();
    for (const [key, type] of Object.entries(input)) {
      const m = /^TagSpecification\.(\d+)\.ResourceType$/.exec(key);
      if (!m) continue;
      const tags: Record<string, string> = {};
      for (const [k, v] of Object.entries(input)) {
        const t = new RegExp(`^TagSpecification\\.${m[1]}\\.Tag\\.(\\d+)\\.Key$`).exec(k);
        if (t) tags[String(v)] = String(input[`TagSpecification.${m[1]}.Tag.${t[1]}.Value`] ?? '');
      }
      tagSpecs.set(String(type), tags);
    }
    const requestTags = (type: string) => {
      const tags = tagSpecs.get(type);
      return tags ? { ...tagContext('aws:RequestTag', tags), 'aws:TagKeys': Object.keys(tags) } : {};
    };
    const imageId = str(input.ImageId) || template?.imageId || '';
    const out: Authorization[] = [];
    // A launch template's `resolve:ssm:` image is read with the caller's rights (EC2 user guide, "Use a Systems
    // Manager parameter instead of an AMI ID": the caller needs ssm:GetParameters on the parameter).
    const imageParameter = ssmImageParameter(imageId);
    if (imageParameter) {
      out.push({ action: 'ssm:GetParameters', resource: arn('ssm', `parameter${imageParameter.startsWith('/') ? imageParameter : `/${imageParameter}`}`) });
    }
    const launch = (resource: string, context: Record<string, string | string[]> = {}) =>
      out.push({
        action: 'ec2:RunInstances',
        resource,
        context: { ...context, ...(template ? { 'ec2:LaunchTemplate': ec2(`launch-template/${template.id}`) } : {}) },
      });
    // Resource types RunInstances is authorized on (service authorization reference, Amazon EC2, RunInstances).
    const resolvedImage = imageParameter ? await facts.parameterValue(imageParameter) : imageId;
    const owner = resolvedImage ? await facts.imageOwner(resolvedImage) : undefined;
    launch(`${arn('ec2', '').replace(/:[^:]*:$/, '::')}image/${resolvedImage || '*'}`, owner ? { 'ec2:Owner': owner } : {});
    launch(ec2('instance/*'), { ...requestTags('instance'), ...(input.InstanceType ? { 'ec2:InstanceType': str(input.InstanceType) } : {}) });
    launch(ec2('volume/*'), requestTags('volume'));
    launch(ec2('network-interface/*'));
    launch(ec2(`subnet/${str(input.SubnetId) || '*'}`));
    for (const group of [...queryList(input, 'SecurityGroupId'), ...(template?.securityGroupIds ?? [])]) launch(ec2(`security-group/${group}`));
    if (template) launch(ec2(`launch-template/${template.id}`));
    if (str(input['InstanceMarketOptions.MarketType']) === 'spot') launch(ec2('spot-instances-request/*'), requestTags('spot-instances-request'));
    // Tags given at launch need ec2:CreateTags too, with ec2:CreateAction = RunInstances.
    for (const type of tagSpecs.keys())
      out.push({ action: 'ec2:CreateTags', resource: ec2(`${type}/*`), context: { ...requestTags(type), 'ec2:CreateAction': 'RunInstances' } });
    if (template?.instanceProfileRoleArn)
      out.push({ action: 'iam:PassRole', resource: template.instanceProfileRoleArn, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
    return out;
  }
  throw new UnmodelledOperationError(request);
}
