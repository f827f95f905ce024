import type { PoolsConfig } from '@runners/shared';
import { Testing } from 'cdktf';
import { RunnersStack } from '../../stacks/runners-stack';

/*
 * The IAM policies the stacks synthesize, as AWS would hold them after `terraform apply`: the RunnersStack is
 * synthesized with the local stack's pools config, every role's inline policy documents are read from the Terraform
 * JSON, and their Terraform references (`${aws_dynamodb_table.x.arn}`, `${data.aws_caller_identity.y.account_id}`)
 * are resolved to the local emulator's values. What is enforced is the shipped artefact, not a copy of it.
 */

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly {
    readonly Sid?: string;
    readonly Effect: 'Allow' | 'Deny';
    readonly Action: readonly string[];
    readonly Resource: readonly string[];
    readonly Condition?: Record<string, Record<string, readonly string[]>>;
    /** Resource policies only. */
    readonly Principal?: '*' | Record<string, readonly string[]>;
  }[];
}

/** What Terraform would know after apply and the synthesized JSON does not say: the emulator's identifiers. */
export interface LocalFacts {
  readonly accountId: string;
  readonly region: string;
  readonly partition?: string;
  /** Table name → its stream's ARN (moto's LatestStreamArn). */
  readonly streamArns?: Readonly<Record<string, string>>;
  /** Launch template name → id. */
  readonly launchTemplateIds?: Readonly<Record<string, string>>;
  /** KMS alias (`alias/…`) → the key id it targets. */
  readonly kmsKeyIds?: Readonly<Record<string, string>>;
}

/** What the IAM proxy evaluates with: each role's identity policies, each resource's policy (KMS key policies). */
export function synthesizedPolicies(json: TerraformJson, facts: LocalFacts) {
  return { policies: rolePolicies(json, facts), resourcePolicies: resourcePolicies(json, facts) };
}

/** Key policies of the stack's KMS keys, by key ARN, resolved like the roles' policies. */
export function resourcePolicies(json: TerraformJson, facts: LocalFacts): (arn: string) => PolicyDocument | undefined {
  const resolveToken = tokenResolver(json, facts);
  const byArn = new Map<string, () => PolicyDocument>();
  for (const [id, key] of Object.entries(json.resource.aws_kms_key ?? {})) {
    const documentId = /^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/.exec(String(key.policy))?.[1];
    const document = documentId ? json.data.aws_iam_policy_document?.[documentId] : undefined;
    if (!document) continue;
    let arn: string;
    try {
      arn = resolveToken(`\${aws_kms_key.${id}.arn}`);
    } catch {
      continue; // a key the local stack does not have
    }
    byArn.set(arn, () => toPolicyDocument(document, resolveToken));
  }
  return (arn) => byArn.get(arn)?.();
}

type Block = Record<string, unknown>;
interface TerraformJson {
  readonly resource: Record<string, Record<string, Block>>;
  readonly data: Record<string, Record<string, Block>>;
}

export function synthesizeStack(options: {
  prefix: string;
  region: string;
  pools: PoolsConfig;
  bundleDir: string;
  eksClusterName?: string;
  /** The emulator's VPC and subnets, as a user's own network would be given (their ids are then literal). */
  network?: { vpcId: string; subnetIds: readonly string[] };
}): TerraformJson {
  const app = Testing.app({ context: { bundleDir: options.bundleDir } });
  const stack = new RunnersStack(app, 'local', {
    prefix: options.prefix,
    region: options.region,
    pools: options.pools,
    ...(options.eksClusterName ? { eksClusterName: options.eksClusterName } : {}),
    ...(options.network ? { network: options.network } : {}),
  });
  // cdktf calls the deprecated util.isArray (DEP0044) while synthesizing: its concern, not a user's; kept off the console.
  const noDeprecation = process.noDeprecation;
  process.noDeprecation = true;
  try {
    return JSON.parse(Testing.synth(stack)) as TerraformJson;
  } finally {
    process.noDeprecation = noDeprecation;
  }
}

/**
 * The inline policies of a role of the synthesized stack, by role name, resolved against the local facts when first
 * asked for (a role whose resources the local stack does not have, such as an EC2 pool's launch template, is never
 * resolved unless a principal of it calls). Undefined for a role the stack does not have.
 */
export function rolePolicies(json: TerraformJson, facts: LocalFacts): (roleName: string) => PolicyDocument[] | undefined {
  const resolveToken = tokenResolver(json, facts);
  const roles = new Map<string, (() => PolicyDocument)[]>();
  const roleNameById = new Map<string, string>();
  for (const [id, role] of Object.entries(json.resource.aws_iam_role ?? {})) {
    roleNameById.set(id, String(role.name));
    roles.set(String(role.name), []);
  }
  for (const rolePolicy of Object.values(json.resource.aws_iam_role_policy ?? {})) {
    const roleId = /^\$\{aws_iam_role\.([^.]+)\.(id|name)\}$/.exec(String(rolePolicy.role))?.[1];
    const documentId = /^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/.exec(String(rolePolicy.policy))?.[1];
    if (!roleId || !documentId) throw new Error(`role policy ${JSON.stringify(rolePolicy)} is not a policy document attached to a role of this stack`);
    const document = json.data.aws_iam_policy_document?.[documentId];
    if (!document) throw new Error(`policy document ${documentId} is missing from the synthesized JSON`);
    roles.get(roleNameById.get(roleId)!)!.push(() => toPolicyDocument(document, resolveToken));
  }
  const resolved = new Map<string, PolicyDocument[]>();
  return (roleName) => {
    const documents = roles.get(roleName);
    if (!documents) return undefined;
    if (!resolved.has(roleName))
      resolved.set(
        roleName,
        documents.map((d) => d()),
      );
    return resolved.get(roleName);
  };
}

interface TerraformStatement {
  sid?: string;
  effect?: string;
  actions?: string[];
  resources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  condition?: { test: string; variable: string; values: string[] }[];
}

/** The aws_iam_policy_document data source's statement blocks, as the JSON policy it renders at plan time. */
function toPolicyDocument(document: Block, resolve: (value: string) => string): PolicyDocument {
  const statements = (document.statement ?? []) as TerraformStatement[];
  return {
    Version: '2012-10-17',
    Statement: statements.map((s) => {
      const condition: Record<string, Record<string, string[]>> = {};
      for (const c of s.condition ?? []) (condition[c.test] ??= {})[resolve(c.variable)] = c.values.map(resolve);
      const principal = s.principals?.length
        ? s.principals.every((p) => p.type === 'AWS' && p.identifiers.includes('*'))
          ? ('*' as const)
          : Object.fromEntries(s.principals.map((p) => [p.type, p.identifiers.map(resolve)]))
        : undefined;
      return {
        ...(s.sid ? { Sid: s.sid } : {}),
        ...(principal ? { Principal: principal } : {}),
        Effect: s.effect === 'Deny' ? 'Deny' : 'Allow',
        Action: s.actions ?? [],
        Resource: (s.resources ?? []).map(resolve),
        ...(s.condition ? { Condition: condition } : {}),
      };
    }),
  };
}

/** Replaces each `${type.name.attribute}` by what Terraform would put there; an unknown one is an error, not a guess. */
function tokenResolver(json: TerraformJson, facts: LocalFacts) {
  const partition = facts.partition ?? 'aws';
  const { region, accountId } = facts;
  const resource = (type: string, name: string) => {
    const block = json.resource[type]?.[name];
    if (!block) throw new Error(`\${${type}.${name}} names no resource of the synthesized stack`);
    return block;
  };
  const computed: Record<string, (block: Block, attribute: string) => string | undefined> = {
    aws_dynamodb_table: (b, a) =>
      a === 'arn' ? `arn:${partition}:dynamodb:${region}:${accountId}:table/${b.name}` : a === 'stream_arn' ? facts.streamArns?.[String(b.name)] : undefined,
    aws_sns_topic: (b, a) => (a === 'arn' || a === 'id' ? `arn:${partition}:sns:${region}:${accountId}:${b.name}` : undefined),
    aws_sqs_queue: (b, a) => (a === 'arn' ? `arn:${partition}:sqs:${region}:${accountId}:${b.name}` : undefined),
    aws_cloudwatch_log_group: (b, a) => (a === 'arn' ? `arn:${partition}:logs:${region}:${accountId}:log-group:${b.name}` : undefined),
    aws_iam_role: (b, a) => (a === 'arn' ? `arn:${partition}:iam::${accountId}:role/${b.name}` : a === 'id' ? String(b.name) : undefined),
    aws_lambda_function: (b, a) => (a === 'arn' ? `arn:${partition}:lambda:${region}:${accountId}:function:${b.function_name}` : undefined),
    aws_launch_template: (b, a) => {
      const id = facts.launchTemplateIds?.[String(b.name)];
      if (!id) return undefined;
      return a === 'id' ? id : a === 'arn' ? `arn:${partition}:ec2:${region}:${accountId}:launch-template/${id}` : undefined;
    },
    aws_kms_key: (_b, a) => {
      // A key has no name: the alias that targets it has (`target_key_id = ${aws_kms_key.<this>.key_id}`).
      const alias = Object.values(json.resource.aws_kms_alias ?? {}).find((al) => String(al.target_key_id).includes(`aws_kms_key.${currentKey}.`));
      const keyId = alias ? facts.kmsKeyIds?.[String(alias.name)] : undefined;
      if (!keyId) return undefined;
      return a === 'key_id' || a === 'id' ? keyId : a === 'arn' ? `arn:${partition}:kms:${region}:${accountId}:key/${keyId}` : undefined;
    },
    aws_ecr_repository: (b, a) => (a === 'repository_url' ? `${accountId}.dkr.ecr.${region}.amazonaws.com/${b.name}` : undefined),
  };
  const data: Record<string, (attribute: string) => string | undefined> = {
    aws_caller_identity: (a) => (a === 'account_id' ? accountId : undefined),
    aws_region: (a) => (a === 'region' || a === 'name' ? region : undefined),
    aws_partition: (a) => (a === 'partition' ? partition : undefined),
  };
  let currentKey = '';
  const one = (token: string): string => {
    const parts = token.split('.');
    let value: string | undefined;
    if (parts[0] === 'data' && parts.length === 4) value = data[parts[1]!]?.(parts[3]!);
    else if (parts.length === 3) {
      currentKey = parts[1]!;
      const block = resource(parts[0]!, parts[1]!);
      const literal = block[parts[2]!];
      value = typeof literal === 'string' && !literal.includes('${') ? literal : computed[parts[0]!]?.(block, parts[2]!);
    }
    if (value === undefined) throw new Error(`cannot resolve \${${token}} to a local value: add it to local/iam/synthesized-policies.ts`);
    return value;
  };
  // `$${…}` is Terraform's escape for a literal `${…}` (an IAM policy variable): kept for IAM, not resolved.
  return (value: string) => value.replace(/(\$?)\$\{([^}]+)\}/g, (whole, escape: string, token: string) => (escape ? whole.slice(1) : one(token)));
}
