import {
  CreateLaunchTemplateCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  TerminateInstancesCommand,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import type Docker from 'dockerode';
import { bootInstance, type BootedInstance } from '../../sim/ec2/instance';
import { SSMClient } from '@aws-sdk/client-ssm';
import { randomUUID } from 'node:crypto';
import { Ec2Host, type Ec2HostOptions } from '@runners/orchestrators/hosts';
import type { enforcedIam } from './iam';
import { motoTarget, strictMotoTarget } from './aws';

/**
 * An Ec2Host on moto EC2 + SSM with a launch template per pool, recording every RunInstances input; `failSpot`
 * makes spot requests fail with InsufficientInstanceCapacity, as AWS does when a pool has no spot capacity.
 */
export async function ec2Fixture(options: { failSpot?: boolean } = {}) {
  const target = await strictMotoTarget();
  const ec2 = new EC2Client(target.clientConfig);
  const ssm = new SSMClient(target.clientConfig);
  const runs: RunInstancesCommandInput[] = [];
  ec2.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'RunInstancesCommand') {
        const input = (args as { input: RunInstancesCommandInput }).input;
        runs.push(structuredClone(input));
        if (options.failSpot && input.InstanceMarketOptions?.MarketType === 'spot') {
          throw Object.assign(new Error('There is no Spot capacity available that matches your request.'), {
            name: 'InsufficientInstanceCapacity',
            $fault: 'server',
          });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordRunInstances' },
  );
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({}));
  const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({}));
  const { LaunchTemplate } = await ec2.send(
    new CreateLaunchTemplateCommand({ LaunchTemplateName: `lt-${randomUUID().slice(0, 8)}`, LaunchTemplateData: { ImageId: Images[0]!.ImageId } }),
  );
  const managedBy = `contract-${randomUUID().slice(0, 8)}`;
  const host = new Ec2Host({
    ec2,
    ssm,
    region: target.region,
    managedBy,
    parameterPrefix: `/${managedBy}`,
    templates: () => ({ launchTemplateId: LaunchTemplate!.LaunchTemplateId!, subnetIds: Subnets.slice(0, 2).map((s) => s.SubnetId!) }),
  });
  return { host, ec2, ssm, runs, launchTemplateId: LaunchTemplate!.LaunchTemplateId!, subnets: Subnets.slice(0, 2).map((s) => s.SubnetId!) };
}

/**
 * Boots an instance the EC2 host launched on moto, as EC2 would: its user data (read back from EC2), its type and
 * image, the instance profile's credentials (`credentials`: a session of the instance role, or moto's own where IAM is
 * not enforced) in its metadata service; when it powers off, the instance is terminated
 * (InstanceInitiatedShutdownBehavior: terminate).
 */
export async function bootLaunchedInstance(
  docker: Docker,
  instanceId: string,
  options: {
    roleName: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    awsEndpoint: string;
    editUserData?: (userData: string) => string;
  },
): Promise<BootedInstance> {
  const admin = new EC2Client(motoTarget().clientConfig);
  const { UserData } = await admin.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }));
  const { Reservations = [] } = await admin.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = Reservations[0]!.Instances![0]!;
  const userData = Buffer.from(UserData!.Value!, 'base64').toString('utf8');
  const booted = await bootInstance(docker, {
    instanceId,
    region: motoTarget().region,
    imageId: instance.ImageId!,
    instanceType: instance.InstanceType!,
    userData: options.editUserData ? options.editUserData(userData) : userData,
    role: { name: options.roleName, ...options.credentials },
    awsEndpoint: options.awsEndpoint,
  });
  void booted.poweredOff.then(() => admin.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }))).catch(() => undefined);
  return booted;
}

/** An Ec2Host as the EC2 orchestrator's role sees the local AWS (enforced IAM), on the launch template of `pool`. */
export function ec2HostUnderIam(iam: Awaited<ReturnType<typeof enforcedIam>>, pool: string, options: Pick<Ec2HostOptions, 'ami'> = {}): Ec2Host {
  const orchestrator = iam.as('orchestrator-ec2');
  return new Ec2Host({
    ec2: new EC2Client(orchestrator.clientConfig),
    ssm: new SSMClient(orchestrator.clientConfig),
    region: orchestrator.region,
    managedBy: iam.prefix,
    parameterPrefix: `/${iam.prefix}`,
    ...options,
    templates: () => ({ launchTemplateId: iam.launchTemplateIds[`${iam.prefix}-${pool}`]!, subnetIds: iam.subnetIds }),
  });
}
