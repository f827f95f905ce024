import type { ParameterResource, Permission } from '@runners/shared/deployment';

/** What the EC2 host adds to its orchestrator's deployment: launch templates, the instance role, JIT parameters. */

export interface Ec2HostResources {
  /** Each EC2 pool's launch template and the subnets to try. */
  readonly launchTemplates: readonly { readonly pool: string; readonly id: string; readonly arn: string; readonly subnetIds: readonly string[] }[];
  /** `arn:<partition>:ec2:<region>:<account>:` — RunInstances is authorized on several resource types at once. */
  readonly ec2ArnPrefix: string;
  /** The role of the runners' instance profile (passed at launch). */
  readonly instanceRoleArn: string;
  /** SSM parameters that launch templates resolve their AMI from (`resolve:ssm:`): read by whoever launches. */
  readonly imageParameters: readonly ParameterResource[];
  /** Every runner's JIT parameter (a path pattern). */
  readonly jitParameters: ParameterResource;
  /** The managed-by tag value: the orchestrator may launch only instances carrying it, and terminate only those. */
  readonly managedBy: string;
  /** The subnets of the EC2 pools (ARNs): no launch elsewhere. */
  readonly subnetArns: readonly string[];
  /** Allowed AMI owners (`ec2:Owner` values: "amazon", "aws-marketplace", account ids). */
  readonly imageOwners: readonly string[];
  /** A pool uses spot: EC2 creates its service-linked role on the first spot launch, with the caller's rights. */
  readonly usesSpot: boolean;
  /** `arn:<partition>:iam::<account>:` */
  readonly iamArnPrefix: string;
}

/** The tag the orchestrator puts on every instance (functions/orchestrators/src/hosts/host.ts HOST_LABELS.managedBy). */
const MANAGED_BY_TAG = 'ephemeral-runners.managed-by';

export const ec2HostEnvironment = (r: Ec2HostResources) => ({
  EC2_POOL_TEMPLATES: JSON.stringify(Object.fromEntries(r.launchTemplates.map((t) => [t.pool, { launchTemplateId: t.id, subnetIds: [...t.subnetIds] }]))),
});

export const ec2HostPermissions = (r: Ec2HostResources): Permission[] => {
  const ec2 = (resource: string) => `${r.ec2ArnPrefix}${resource}`;
  return [
    /*
     * RunInstances is authorized on every resource it touches (service authorization reference, Amazon EC2,
     * RunInstances), so each kind gets its own limits: an instance only from our launch templates and only with our
     * managed-by tag (so it can never launch what it could not terminate); only the pools' subnets; only AMIs of the
     * allowed owners.
     */
    {
      sid: 'LaunchOwnInstances',
      actions: ['ec2:RunInstances'],
      resources: [ec2('instance/*')],
      conditions: [
        { test: 'StringEquals', variable: `aws:RequestTag/${MANAGED_BY_TAG}`, values: [r.managedBy] },
        { test: 'ArnEquals', variable: 'ec2:LaunchTemplate', values: r.launchTemplates.map((t) => t.arn) },
      ],
      why: "a runner's instance, from its pool's launch template, tagged as ours",
    },
    {
      sid: 'LaunchWithTheirResources',
      actions: ['ec2:RunInstances'],
      resources: [
        ec2('volume/*'),
        ec2('network-interface/*'),
        ec2('security-group/*'),
        ec2('spot-instances-request/*'),
        ...r.launchTemplates.map((t) => t.arn),
        ...r.subnetArns,
      ],
      why: 'the volume, network interface, security group, spot request, launch template and subnet of a launch',
    },
    {
      sid: 'LaunchAllowedImages',
      actions: ['ec2:RunInstances'],
      // AMIs belong to no account of ours (region-wide ARN without an account).
      resources: [`${r.ec2ArnPrefix.replace(/:[^:]*:$/, '::')}image/*`],
      conditions: [{ test: 'StringEquals', variable: 'ec2:Owner', values: [...r.imageOwners] }],
      why: 'the AMI, only from the allowed owners',
    },
    {
      sid: 'TagAtLaunch',
      actions: ['ec2:CreateTags'],
      resources: [ec2('instance/*'), ec2('volume/*'), ec2('spot-instances-request/*')],
      conditions: [{ test: 'StringEquals', variable: 'ec2:CreateAction', values: ['RunInstances'] }],
      why: 'tags given with RunInstances (pool, runner, job, trace)',
    },
    {
      sid: 'TerminateOwnRunners',
      actions: ['ec2:TerminateInstances'],
      resources: [ec2('instance/*')],
      conditions: [{ test: 'StringEquals', variable: `aws:ResourceTag/${MANAGED_BY_TAG}`, values: [r.managedBy] }],
      why: 'teardown, only of instances carrying our managed-by tag',
    },
    // EC2's Describe actions have no resource-level permissions: "*" is the only resource they accept.
    { sid: 'FindRunners', actions: ['ec2:DescribeInstances'], resources: ['*'], why: 'list() and idempotent create by runner tag' },
    {
      sid: 'PassInstanceRole',
      actions: ['iam:PassRole'],
      resources: [r.instanceRoleArn],
      conditions: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['ec2.amazonaws.com'] }],
      why: "the launch template's instance profile",
    },
    {
      sid: 'JitConfigs',
      actions: ['ssm:PutParameter', 'ssm:AddTagsToResource', 'ssm:DeleteParameters'],
      resources: [r.jitParameters.arn],
      why: "each runner's JIT config, tagged with its instance's id (the only instance that may read it); what a host that never booted left",
    },
    ...(r.usesSpot
      ? [
          {
            sid: 'SpotServiceLinkedRole',
            actions: ['iam:CreateServiceLinkedRole'],
            resources: [`${r.iamArnPrefix}role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot`],
            conditions: [{ test: 'StringEquals', variable: 'iam:AWSServiceName', values: ['spot.amazonaws.com'] }],
            // EC2 user guide, "Service-linked role for Spot Instance requests": created at the first spot launch.
            why: "EC2's spot service-linked role, if the account does not have it yet",
          },
        ]
      : []),
    ...(r.imageParameters.length > 0
      ? [
          {
            sid: 'ResolveImages',
            actions: ['ssm:GetParameters'],
            resources: r.imageParameters.map((p) => p.arn),
            why: 'RunInstances resolves `resolve:ssm:` AMIs with the caller’s rights',
          },
        ]
      : []),
  ];
};
