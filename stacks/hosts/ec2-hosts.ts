import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import type { Pool } from '@runners/shared';
import { Construct } from 'constructs';
import type { Account } from '../account';
import type { HostResources } from './host-resources';

/*
 * EC2 pools: a launch template per pool (AMI, instance profile, security group, encrypted gp3 root volume, IMDSv2
 * only) and the runners' instance role, which may read and delete its own JIT parameter and nothing else. The
 * orchestrator adds instance type, subnet, market, user data and tags per launch (functions/orchestrators ec2-host).
 */

type Ec2Pool = Extract<Pool, { host: 'ec2' }>;
/** The tag the orchestrator puts on every instance; it may terminate only those. */
const MANAGED_BY_TAG = 'ephemeral-runners.managed-by';

export interface Ec2HostsProps {
  readonly prefix: string;
  readonly account: Account;
  readonly pools: readonly Ec2Pool[];
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
}

export class Ec2Hosts extends Construct implements HostResources {
  readonly launchTemplates = new Map<string, LaunchTemplate>();
  readonly instanceRole: IamRole;
  readonly environment: Record<string, string>;
  readonly statements: HostResources['statements'];

  constructor(scope: Construct, id: string, props: Ec2HostsProps) {
    super(scope, id);
    const { account, prefix } = props;
    const runnerParameters = account.parameterArn(`/${prefix}/runners/*`);
    const assume = new DataAwsIamPolicyDocument(this, 'assume', {
      statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }] }],
    });
    this.instanceRole = new IamRole(this, 'instance-role', { name: `${prefix}-runner-instance`, assumeRolePolicy: assume.json, description: 'EC2 runners: read and delete their JIT parameter' });
    const instancePolicy = new DataAwsIamPolicyDocument(this, 'instance-policy', {
      statement: [{ sid: 'OwnJitConfig', effect: 'Allow', actions: ['ssm:GetParameter', 'ssm:DeleteParameter'], resources: [runnerParameters] }],
    });
    new IamRolePolicy(this, 'instance-role-policy', { name: 'jit-config', role: this.instanceRole.id, policy: instancePolicy.json });
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
    this.environment = {
      EC2_POOL_TEMPLATES: JSON.stringify(
        Object.fromEntries(props.pools.map((p) => [p.name, { launchTemplateId: this.launchTemplates.get(p.name)!.id, subnetIds: [...(p.ec2.subnetIds ?? props.subnetIds)] }])),
      ),
    };
    const ec2 = (resource: string) => account.arn('ec2', resource);
    this.statements = [
      {
        sid: 'LaunchRunners',
        actions: ['ec2:RunInstances'],
        resources: [
          ec2('instance/*'),
          ec2('volume/*'),
          ec2('network-interface/*'),
          ec2('subnet/*'),
          ec2('security-group/*'),
          ec2('spot-instances-request/*'),
          ...[...this.launchTemplates.values()].map((t) => t.arn),
          account.arn('ec2', 'image/*', { account: false }),
        ],
      },
      { sid: 'TagAtLaunch', actions: ['ec2:CreateTags'], resources: [ec2('instance/*'), ec2('volume/*'), ec2('spot-instances-request/*')], conditions: [{ test: 'StringEquals', variable: 'ec2:CreateAction', values: ['RunInstances'] }] },
      { sid: 'TerminateOwnRunners', actions: ['ec2:TerminateInstances'], resources: [ec2('instance/*')], conditions: [{ test: 'StringEquals', variable: `aws:ResourceTag/${MANAGED_BY_TAG}`, values: [prefix] }] },
      // EC2's Describe actions have no resource-level permissions: "*" is the only resource they accept.
      { sid: 'FindRunners', actions: ['ec2:DescribeInstances'], resources: ['*'] },
      { sid: 'PassInstanceRole', actions: ['iam:PassRole'], resources: [this.instanceRole.arn], conditions: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['ec2.amazonaws.com'] }] },
      { sid: 'JitConfigs', actions: ['ssm:PutParameter', 'ssm:DeleteParameter'], resources: [runnerParameters] },
    ];
  }
}
