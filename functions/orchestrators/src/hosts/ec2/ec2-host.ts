import { createHash } from 'node:crypto';
import {
  DescribeInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type RunInstancesCommandInput,
  type Tag,
} from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { jitChunks, JitParameters } from '@runners/shared/ssm';
import { HOST_LABELS, type Host, type HostRef, type HostSpec } from '../host';
import { AMI_CONTRACT, type AmiContract } from './ami-contract';
import { linuxBootstrap, windowsBootstrap } from './bootstrap';

/*
 * A VM per runner. The instance is launched first, then its JIT config goes to SSM SecureStrings tagged with its
 * instance id, which only that instance may read and delete (jit-parameters.ts); the user data (bootstrap.ts) waits
 * for them, reads and deletes them, runs the runner, powers off (shutdown behaviour: terminate). Spot first where
 * the pool asks, on-demand when spot has no capacity; the pool's instance types and subnets are tried in order.
 * IMDSv2 only.
 */

export interface Ec2PoolTemplate {
  /** The pool's launch template (AMI, instance profile, security groups, disk), from the stacks. */
  readonly launchTemplateId: string;
  /** Subnets to try in order; empty = the launch template's. */
  readonly subnetIds: readonly string[];
}

export interface Ec2HostOptions {
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  readonly region: string;
  readonly managedBy: string;
  readonly parameterPrefix: string;
  /** What each OS's AMI provides (the runner's directory and user); AMI_CONTRACT unless a test installs elsewhere. */
  readonly ami?: Record<HostSpec['pool']['os'], AmiContract>;
  readonly templates: (pool: string) => Ec2PoolTemplate;
}

/** Errors that mean "no capacity here": try the next type/subnet, then on-demand. */
const CAPACITY_ERRORS = new Set(['InsufficientInstanceCapacity', 'SpotMaxPriceTooLow', 'MaxSpotInstanceCountExceeded', 'InsufficientCapacity', 'Unsupported']);
const isCapacityError = (error: unknown) => CAPACITY_ERRORS.has((error as { name?: string }).name ?? '');
type Ec2Spec = HostSpec & { readonly pool: Extract<HostSpec['pool'], { host: 'ec2' }> };
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

export class Ec2Host implements Host {
  readonly kind = 'ec2' as const;

  private readonly jit: JitParameters;

  constructor(private readonly options: Ec2HostOptions) {
    this.jit = new JitParameters(options.ssm, `${options.parameterPrefix}/runners`);
  }

  /** Where the runner's JIT config chunks are (`<prefix>/0` …). */
  parameterPrefix(runnerName: string): string {
    return this.jit.prefix(runnerName);
  }

  async create(spec: HostSpec): Promise<HostRef> {
    if (spec.pool.host !== 'ec2') throw new Error(`pool ${spec.pool.name} is not an ec2 pool`);
    const owner = { pool: spec.pool.name, jobId: spec.jobId };
    // An earlier attempt launched the instance and may have died before storing the config: store it (idempotent).
    const existing = await this.find(spec.runnerName);
    if (existing) {
      await this.jit.put(spec.runnerName, spec.encodedJitConfig, owner, existing.id);
      return existing;
    }
    const created = await this.launch(spec as Ec2Spec, jitChunks(spec.encodedJitConfig).length);
    await this.jit.put(spec.runnerName, spec.encodedJitConfig, owner, created.id);
    return created;
  }

  private async launch(spec: Ec2Spec, chunks: number): Promise<HostRef> {
    const { ec2, region } = this.options;
    const settings = spec.pool.ec2;
    const template = this.options.templates(spec.pool.name);
    const ami = (this.options.ami ?? AMI_CONTRACT)[spec.pool.os];
    const bootstrapInput = {
      parameterPrefix: this.parameterPrefix(spec.runnerName),
      chunks,
      region,
      runnerDir: ami.runnerDir,
      runnerUser: ami.runnerUser ?? '',
    };
    const userData = spec.pool.os === 'windows' ? windowsBootstrap(bootstrapInput) : linuxBootstrap(bootstrapInput);
    const tags: Tag[] = [
      { Key: HOST_LABELS.managedBy, Value: this.options.managedBy },
      { Key: HOST_LABELS.pool, Value: spec.pool.name },
      { Key: HOST_LABELS.runner, Value: spec.runnerName },
      { Key: HOST_LABELS.job, Value: String(spec.jobId) },
      { Key: 'Name', Value: spec.runnerName },
      ...(spec.traceHeader ? [{ Key: HOST_LABELS.trace, Value: spec.traceHeader }] : []),
    ];
    // macOS runs on dedicated hosts, where spot does not exist.
    const markets: ('spot' | 'on-demand')[] = settings.market === 'spot' && spec.pool.os !== 'macos' ? ['spot', 'on-demand'] : ['on-demand'];
    const subnets = template.subnetIds.length > 0 ? template.subnetIds : [undefined];
    let lastError: unknown;
    for (const market of markets) {
      for (const instanceType of settings.instanceTypes) {
        for (const subnetId of subnets) {
          const input: RunInstancesCommandInput = {
            MinCount: 1,
            MaxCount: 1,
            LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '$Latest' },
            InstanceType: instanceType as RunInstancesCommandInput['InstanceType'],
            ...(subnetId ? { SubnetId: subnetId } : {}),
            UserData: Buffer.from(userData).toString('base64'),
            InstanceInitiatedShutdownBehavior: 'terminate',
            MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
            // macOS runs only on dedicated hosts: of the pool's host resource group, or any with auto-placement.
            ...(spec.pool.os === 'macos'
              ? { Placement: { Tenancy: 'host', ...(settings.hostResourceGroupArn ? { HostResourceGroupArn: settings.hostResourceGroupArn } : {}) } }
              : {}),
            ...(market === 'spot'
              ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } }
              : {}),
            TagSpecifications: [
              { ResourceType: 'instance', Tags: tags },
              { ResourceType: 'volume', Tags: tags },
            ],
            // Idempotent per runner and choice: a retried call within AWS's token window returns the same instance.
            ClientToken: clientToken(spec.runnerName, market, instanceType, subnetId),
          };
          try {
            const { Instances = [] } = await ec2.send(new RunInstancesCommand(input));
            return { id: Instances[0]!.InstanceId!, runnerName: spec.runnerName, pool: spec.pool.name, jobId: spec.jobId };
          } catch (error) {
            if (!isCapacityError(error)) throw error;
            lastError = error;
          }
        }
      }
    }
    throw lastError;
  }

  async delete(runnerName: string): Promise<'deleted' | 'absent'> {
    const found = await this.find(runnerName);
    if (found) await this.options.ec2.send(new TerminateInstancesCommand({ InstanceIds: [found.id] }));
    // The bootstrap deletes them once read; a host that never booted leaves them behind.
    await this.jit.delete(runnerName);
    return found ? 'deleted' : 'absent';
  }

  async list(): Promise<HostRef[]> {
    return this.describe([{ Name: `tag:${HOST_LABELS.managedBy}`, Values: [this.options.managedBy] }]);
  }

  private async find(runnerName: string): Promise<HostRef | undefined> {
    const [found] = await this.describe([
      { Name: `tag:${HOST_LABELS.managedBy}`, Values: [this.options.managedBy] },
      { Name: `tag:${HOST_LABELS.runner}`, Values: [runnerName] },
    ]);
    return found;
  }

  private async describe(filters: { Name: string; Values: string[] }[]): Promise<HostRef[]> {
    const out: HostRef[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.options.ec2.send(
        new DescribeInstancesCommand({ Filters: [...filters, { Name: 'instance-state-name', Values: LIVE_STATES }], NextToken }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const tag = (key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;
          out.push({
            id: instance.InstanceId!,
            runnerName: tag(HOST_LABELS.runner) ?? '',
            pool: tag(HOST_LABELS.pool) ?? '',
            jobId: tag(HOST_LABELS.job) ? Number(tag(HOST_LABELS.job)) : undefined,
          });
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }
}

/**
 * RunInstances' idempotency token: at most 64 ASCII characters (EC2 API reference, "Ensuring idempotency"). It must
 * differ for every runner × market × instance type × subnet: a token cut to length would make the next choice of a
 * long-named runner return the previous attempt's answer instead of trying it.
 */
export function clientToken(runnerName: string, market: string, instanceType: string, subnetId: string | undefined): string {
  const digest = createHash('sha256')
    .update([runnerName, market, instanceType, subnetId ?? 'default'].join('\0'))
    .digest('hex')
    .slice(0, 24);
  return `${runnerName.slice(0, 39)}-${digest}`;
}
