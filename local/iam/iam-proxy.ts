import { DescribeImagesCommand, DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeParametersCommand, GetParameterCommand, ListTagsForResourceCommand, SSMClient } from '@aws-sdk/client-ssm';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  authorizationsFor,
  ssmImageParameter,
  UnmodelledOperationError,
  type Authorization,
  type AwsRequest,
  type ResourceFacts,
} from './request-authorization';
import { serviceLimitViolation } from './service-limits';
import type { PolicyDocument } from './synthesized-policies';

/*
 * IAM for the local stack: an HTTP proxy in front of moto (which enforces no resource or condition of a policy:
 * moto/iam/access_control.py, "TODO add support for the Resource and Condition parts of IAM policies"). Every
 * signed request names its access key; the key names a principal (a function's role, an EC2 instance's session,
 * the runner Lambda's role) whose policies are the ones the stacks synthesize. Each request is turned into the
 * actions, resources and context IAM authorizes (request-authorization.ts), evaluated with @cloud-copilot/iam-simulate
 * and, when denied, answered as AWS answers that service — nothing reaches moto. Provisioning (what Terraform does
 * with the deployer's rights) uses the admin key and is exempt.
 */

export interface Principal {
  /** e.g. `producer`, `runner-instance i-0abc…`: how denials are reported. */
  readonly name: string;
  readonly roleName: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` */
  readonly arn: string;
  /** Request context the session carries (an instance profile's `ec2:SourceInstanceARN`). */
  readonly context?: Record<string, string>;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Denial {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly operation: string;
  readonly reason: string;
}

export interface IamProxy {
  readonly endpoint: string;
  /** Credentials that act as this principal (a role session), as Lambda or the instance metadata would hand out. */
  credentialsFor(principal: Omit<Principal, 'arn'> & { readonly session: string }): Credentials;
  /** Every call refused so far. */
  denials(): readonly Denial[];
  /** Calls evaluated so far (allowed and denied). */
  evaluated(): number;
  stop(): Promise<void>;
}

export interface IamProxyOptions {
  readonly upstream: string;
  readonly region: string;
  readonly accountId: string;
  readonly policies: (roleName: string) => readonly PolicyDocument[] | undefined;
  /** A resource's own policy (a KMS key policy), by ARN. */
  readonly resourcePolicies?: (arn: string) => PolicyDocument | undefined;
  /** The deployer's key (provisioning, tests' own reads): not evaluated. */
  readonly adminCredentials: Credentials;
  readonly port?: number;
  readonly onDenied?: (denial: Denial) => void;
}

export async function startIamProxy(options: IamProxyOptions): Promise<IamProxy> {
  const principals = new Map<string, Principal>();
  const denials: Denial[] = [];
  let evaluated = 0;
  const facts = emulatorFacts(options);
  const decisions = new Map<string, Promise<string | undefined>>();

  const evaluate = (principal: Principal, authorization: Authorization): Promise<string | undefined> => {
    const context: Record<string, string | string[]> = {
      'aws:PrincipalArn': `arn:aws:iam::${options.accountId}:role/${principal.roleName}`,
      'aws:PrincipalAccount': options.accountId,
      'aws:RequestedRegion': options.region,
      ...principal.context,
      ...authorization.context,
    };
    const key = JSON.stringify([principal.roleName, authorization.action, authorization.resource, context]);
    let decision = decisions.get(key);
    if (!decision) {
      decision = decide(principal, authorization, context);
      decisions.set(key, decision);
    }
    return decision;
  };
  const decide = async (principal: Principal, authorization: Authorization, context: Record<string, string | string[]>): Promise<string | undefined> => {
    const policies = options.policies(principal.roleName);
    if (!policies) return `the synthesized stack has no role ${principal.roleName}`;
    const result = await runSimulation(
      {
        request: {
          principal: principal.arn,
          action: authorization.action,
          resource: { resource: authorization.resource, accountId: options.accountId },
          contextVariables: context,
        },
        identityPolicies: policies.map((policy, i) => ({ name: `${principal.roleName}-${i}`, policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(options.resourcePolicies?.(authorization.resource) ? { resourcePolicy: options.resourcePolicies(authorization.resource) } : {}),
      },
      {},
    );
    if (result.resultType === 'error') return `the evaluator refused the request: ${result.errors.message}`;
    const outcome = result.overallResult;
    if (outcome === 'Allowed') return undefined;
    return outcome === 'ExplicitlyDenied'
      ? 'with an explicit deny in an identity-based policy'
      : `because no identity-based policy allows the ${authorization.action} action`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const credential = /Credential=([^/]+)\/[^/]+\/([^/]+)\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
    if (!credential) {
      // moto's own control endpoints (reset, config) are unsigned and belong to whoever provisions.
      if (req.url?.startsWith('/moto-api')) return forward(options.upstream, req, body, res);
      return reply(res, 403, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Missing Authentication Token' }));
    }
    const [, accessKeyId, region, service] = credential;
    const request = parseRequest(service!, region!, req, body);
    const violation = serviceLimitViolation(request);
    if (violation) {
      return reply(
        res,
        violation.status,
        { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': violation.type },
        JSON.stringify({ __type: violation.type, message: violation.message }),
      );
    }
    if (accessKeyId === options.adminCredentials.accessKeyId) return forward(options.upstream, req, body, res);
    const principal = principals.get(accessKeyId!);
    if (!principal)
      return reply(
        res,
        403,
        { 'content-type': 'application/json' },
        JSON.stringify({ __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }),
      );

    let authorizations: Authorization[];
    try {
      authorizations = await authorizationsFor(request, facts);
    } catch (error) {
      const reason = error instanceof UnmodelledOperationError ? error.message : `cannot authorize: ${String(error)}`;
      return deny(res, request, principal, { action: `${service}:${request.operation}`, resource: '*' }, reason);
    }
    for (const authorization of authorizations) {
      evaluated++;
      const reason = await evaluate(principal, authorization);
      if (reason) return deny(res, request, principal, authorization, reason);
    }
    return forward(options.upstream, req, await resolveSsmImage(request, body), res);
  };

  /*
   * moto does not resolve a launch template's `resolve:ssm:<parameter>` image; EC2 does, at launch, with the
   * caller's rights (authorized above). Done here as EC2 would: the parameter's value becomes the image.
   */
  const resolveSsmImage = async (request: AwsRequest, body: Buffer): Promise<Buffer> => {
    if (request.service !== 'ec2' || request.operation !== 'RunInstances' || request.input.ImageId) return body;
    const id = request.input['LaunchTemplate.LaunchTemplateId'];
    const name = request.input['LaunchTemplate.LaunchTemplateName'];
    if (!id && !name) return body;
    const template = await facts.launchTemplate({ ...(id ? { id: String(id) } : {}), ...(name ? { name: String(name) } : {}) });
    const parameter = template?.imageId ? ssmImageParameter(template.imageId) : undefined;
    if (!parameter) return body;
    const imageId = await facts.parameterValue(parameter);
    return Buffer.concat([body, Buffer.from(`&ImageId=${encodeURIComponent(imageId ?? 'unresolvable')}`)]);
  };

  const deny = (res: ServerResponse, request: AwsRequest, principal: Principal, authorization: Pick<Authorization, 'action' | 'resource'>, reason: string) => {
    const denial: Denial = {
      principal: principal.name,
      action: authorization.action,
      resource: authorization.resource,
      operation: `${request.service}:${request.operation}`,
      reason,
    };
    denials.push(denial);
    options.onDenied?.(denial);
    const message = `User: ${principal.arn} is not authorized to perform: ${authorization.action} on resource: ${authorization.resource} ${reason}`;
    const { status, headers, body } = accessDeniedResponse(request, message);
    reply(res, status, headers, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => reply(res, 500, { 'content-type': 'text/plain' }, `iam proxy: ${String(error)}`));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  // The proxy never keeps a process alive by itself (a test file's, or one whose stop() was missed): its callers do.
  server.unref();
  server.on('connection', (socket) => socket.unref());
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    credentialsFor(principal) {
      const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
      principals.set(accessKeyId, {
        name: principal.name,
        roleName: principal.roleName,
        arn: `arn:aws:sts::${options.accountId}:assumed-role/${principal.roleName}/${principal.session}`,
        ...(principal.context ? { context: principal.context } : {}),
      });
      return { accessKeyId, secretAccessKey: randomBytes(20).toString('hex') };
    },
    denials: () => [...denials],
    evaluated: () => evaluated,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, headers: Record<string, string>, body: string) {
  res.writeHead(status, { ...headers, 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function forward(upstream: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  const target = new URL(req.url ?? '/', upstream);
  return new Promise((resolve, reject) => {
    const out = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('end', resolve);
      answer.on('error', reject);
    });
    out.on('error', reject);
    out.end(body);
  });
}

/** The operation and its input, by protocol: AWS JSON (X-Amz-Target), query (form), or REST (path). */
function parseRequest(service: string, region: string, req: IncomingMessage, body: Buffer): AwsRequest {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    return {
      service,
      region,
      operation: target.split('.').pop()!,
      input: body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {},
    };
  }
  const contentType = String(req.headers['content-type'] ?? '');
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const input = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    return { service, region, operation: String(input.Action ?? ''), input };
  }
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
  if (service === 'lambda' && invoke && req.method === 'POST') return { service, region, operation: 'Invoke', input: { FunctionName: invoke[1] } };
  const cluster = /^\/clusters\/([^/]+)$/.exec(path);
  if (service === 'eks' && cluster && req.method === 'GET') return { service, region, operation: 'DescribeCluster', input: { name: cluster[1] } };
  return { service, region, operation: `${req.method} ${path}`, input: {} };
}

/** A denial as each service's protocol carries it, so the SDK raises the error a real account would. */
function accessDeniedResponse(request: AwsRequest, message: string): { status: number; headers: Record<string, string>; body: string } {
  const xml = (code: string, status: number) => ({
    status,
    headers: { 'content-type': 'text/xml' },
    body:
      request.service === 'ec2'
        ? `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`
        : `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  });
  switch (request.service) {
    // AWS JSON protocols (DynamoDB, Streams, SSM, SQS): 400 AccessDeniedException (AWS common errors).
    case 'dynamodb':
    case 'ssm':
    case 'sqs':
    case 'secretsmanager':
      return {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'AccessDeniedException' },
        body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message }),
      };
    // SNS answers an IAM denial with AuthorizationError, 403 (SNS API reference, Publish errors).
    case 'sns':
      return xml('AuthorizationError', 403);
    // EC2: UnauthorizedOperation, 403 (EC2 API reference, error codes).
    case 'ec2':
      return xml('UnauthorizedOperation', 403);
    // REST JSON (Lambda, EKS): 403 AccessDeniedException.
    case 'lambda':
    case 'eks':
      return {
        status: 403,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
        body: JSON.stringify({ Message: message, message }),
      };
    default:
      return xml('AccessDenied', 403);
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Tags and launch templates, read from moto with the admin key (what IAM sees of a resource when it evaluates). */
function emulatorFacts(options: IamProxyOptions): ResourceFacts {
  const config = { endpoint: options.upstream, region: options.region, credentials: options.adminCredentials };
  const ssm = new SSMClient(config);
  const ec2 = new EC2Client(config);
  const iam = new IAMClient(config);
  const kms = new KMSClient(config);
  const sns = new SNSClient(config);
  const cache = new Map<string, Promise<string | undefined>>();
  const once = (key: string, read: () => Promise<string | undefined>) => {
    if (!cache.has(key)) cache.set(key, read());
    return cache.get(key)!;
  };
  const keyArn = (keyId: string) =>
    once(`key ${keyId}`, async () => (await kms.send(new DescribeKeyCommand({ KeyId: keyId })).catch(() => undefined))?.KeyMetadata?.Arn);
  const tags = (list: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((list ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  return {
    accountId: options.accountId,
    async parameterTags(name) {
      try {
        return tags((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }))).TagList);
      } catch {
        return undefined; // no such parameter: nothing to evaluate on
      }
    },
    // A topic's key and a key's ARN do not change while the stack runs: read once.
    topicKeyArn: (topicArn) =>
      once(`topic ${topicArn}`, async () => {
        const keyId = (await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn })).catch(() => undefined))?.Attributes?.KmsMasterKeyId;
        return keyId && !keyId.startsWith('alias/aws/') ? keyArn(keyId) : undefined;
      }),
    async parameterKeyArn(name) {
      const { Parameters = [] } = await ssm
        .send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [name] }] }))
        .catch(() => ({ Parameters: [] }));
      const keyId = Parameters[0]?.Type === 'SecureString' ? Parameters[0].KeyId : undefined;
      if (!keyId || keyId === 'alias/aws/ssm') return undefined;
      return keyArn(keyId);
    },
    async parameterValue(name) {
      return (await ssm.send(new GetParameterCommand({ Name: name })).catch(() => undefined))?.Parameter?.Value;
    },
    async instanceTags(instanceId) {
      const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })).catch(() => ({ Reservations: [] }));
      const instance = Reservations[0]?.Instances?.[0];
      return instance ? tags(instance.Tags) : undefined;
    },
    async imageOwner(imageId) {
      const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] })).catch(() => ({ Images: [] }));
      const image = Images[0];
      return image ? (image.ImageOwnerAlias === 'amazon' ? 'amazon' : image.OwnerId) : undefined;
    },
    async launchTemplate(reference) {
      const { LaunchTemplateVersions = [] } = await ec2.send(
        new DescribeLaunchTemplateVersionsCommand({
          ...(reference.id ? { LaunchTemplateId: reference.id } : { LaunchTemplateName: reference.name }),
          Versions: ['$Latest'],
        }),
      );
      const version = LaunchTemplateVersions[0];
      if (!version?.LaunchTemplateId) return undefined;
      const data = version.LaunchTemplateData ?? {};
      const profile = data.IamInstanceProfile?.Name ?? data.IamInstanceProfile?.Arn?.split('/').pop();
      const roleArn = profile ? (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profile }))).InstanceProfile?.Roles?.[0]?.Arn : undefined;
      return {
        id: version.LaunchTemplateId,
        ...(data.ImageId ? { imageId: data.ImageId } : {}),
        securityGroupIds: data.SecurityGroupIds ?? [],
        ...(roleArn ? { instanceProfileRoleArn: roleArn } : {}),
      };
    },
  };
}
