import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import type { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import type { Pool } from '@runners/shared';
import { Construct } from 'constructs';
import type { Account } from '../account';
import type { Ec2HostResources } from '@runners/orchestrators/contract';
import { runnerInstanceContract } from '@runners/orchestrators/contract';
import { ContractRole } from '../contract-role';
import type { HostResources } from './host-resources';

/*
 * EC2 pools: a launch template per pool (AMI, instance profile, security group, encrypted gp3 root volume, IMDSv2
 * only) and the runners' instance role, which may read and delete its own JIT parameter and nothing else. The
 * orchestrator adds instance type, subnet, market, user data and tags per launch (functions/orchestrators ec2-host).
 */

type Ec2Pool = Extract<Pool, { host: 'ec2' }>;

export interface Ec2HostsProps {
  readonly prefix: string;
  readonly account: Account;
  readonly pools: readonly Ec2Pool[];
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
}

export class Ec2Hosts extends Construct implements HostResources<Ec2HostResources> {
  readonly launchTemplates = new Map<string, LaunchTemplate>();
  readonly instanceRole: IamRole;
  readonly resources: Ec2HostResources;

  constructor(scope: Construct, id: string, props: Ec2HostsProps) {
    super(scope, id);
    const { account, prefix } = props;
    const jitParameters = { name: `/${prefix}/runners/*`, arn: account.parameterArn(`/${prefix}/runners/*`) };
    const instance = new ContractRole(this, 'instance', {
      name: `${prefix}-${runnerInstanceContract.function}`,
      description: runnerInstanceContract.description,
      assumedBy: { service: 'ec2.amazonaws.com' },
      statements: runnerInstanceContract.permissions({ jitParameters }),
    });
    this.instanceRole = instance.role;
    const profile = new IamInstanceProfile(this, 'instance-profile', { name: `${prefix}-runner`, role: this.instanceRole.name });

    for (const pool of props.pools) {
      const image = 'amiId' in pool.ec2.image ? pool.ec2.image.amiId : `resolve:ssm:${pool.ec2.image.ssmParameter}`;
      this.launchTemplates.set(
        pool.name,
        new LaunchTemplate(this, `${pool.name}-template`, {
          name: `${prefix}-${pool.name}`,
          description: `runners of pool ${pool.name}`,
          imageId: image,
          updateDefaultVersion: true,
          iamInstanceProfile: { arn: profile.arn },
          vpcSecurityGroupIds: [props.securityGroupId],
          metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 },
          blockDeviceMappings: [
            {
              deviceName: pool.os === 'linux' ? '/dev/xvda' : '/dev/sda1',
              ebs: { volumeSize: pool.ec2.rootVolumeGb, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
            },
          ],
        }),
      );
    }
    const imageParameters = props.pools.flatMap((p) => ('ssmParameter' in p.ec2.image ? [p.ec2.image.ssmParameter] : []));
    this.resources = {
      launchTemplates: props.pools.map((p) => {
        const template = this.launchTemplates.get(p.name)!;
        return { pool: p.name, id: template.id, arn: template.arn, subnetIds: [...(p.ec2.subnetIds ?? props.subnetIds)] };
      }),
      ec2ArnPrefix: account.arn('ec2', ''),
      instanceRoleArn: this.instanceRole.arn,
      imageParameters: [...new Set(imageParameters)].map((name) => ({ name, arn: account.parameterArn(name.startsWith('/') ? name : `/${name}`) })),
      jitParameters,
      managedBy: prefix,
      subnetArns: [...new Set(props.pools.flatMap((p) => p.ec2.subnetIds ?? props.subnetIds))].map((id) => account.arn('ec2', `subnet/${id}`)),
      imageOwners: [...new Set(props.pools.flatMap((p) => p.ec2.imageOwners))].map((owner) => (owner === 'self' ? account.id : owner)),
      usesSpot: props.pools.some((p) => p.ec2.market === 'spot' && p.os !== 'macos'),
      iamArnPrefix: account.arn('iam', '', { region: false }),
    };
  }
}
