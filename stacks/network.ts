import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LOG_RETENTION_DAYS } from './traced-function';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';

/*
 * Where runner VMs live: a VPC with two public subnets (NAT) and two private subnets (runners, no public address),
 * one NAT gateway — or the VPC and subnets you bring. The control plane's functions run outside any VPC: they talk
 * to AWS APIs and GitHub only.
 */

export interface NetworkProps {
  readonly prefix: string;
  /** Bring your own: runners go to these subnets of this VPC, nothing is created but the security group. */
  readonly existing?: { readonly vpcId: string; readonly subnetIds: readonly string[] };
}

export class Network extends Construct {
  readonly vpcId: string;
  readonly runnerSubnetIds: string[];
  /** Runners: no inbound traffic at all, outbound to GitHub and AWS. */
  readonly runnerSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.existing) {
      this.vpcId = props.existing.vpcId;
      this.runnerSubnetIds = [...props.existing.subnetIds];
    } else {
      const zones = new DataAwsAvailabilityZones(this, 'zones', { state: 'available' });
      const vpc = new Vpc(this, 'vpc', { cidrBlock: '10.0.0.0/16', enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: props.prefix } });
      const gateway = new InternetGateway(this, 'igw', { vpcId: vpc.id, tags: { Name: props.prefix } });
      const publicRoutes = new RouteTable(this, 'public-routes', {
        vpcId: vpc.id,
        route: [{ cidrBlock: '0.0.0.0/0', gatewayId: gateway.id }],
        tags: { Name: `${props.prefix}-public` },
      });
      const publicSubnets = [0, 1].map((i) => {
        const subnet = new Subnet(this, `public-${i}`, {
          vpcId: vpc.id,
          cidrBlock: `10.0.${i * 16}.0/20`,
          availabilityZone: Fn.element(zones.names, i),
          tags: { Name: `${props.prefix}-public-${i}` },
        });
        new RouteTableAssociation(this, `public-${i}-routes`, { subnetId: subnet.id, routeTableId: publicRoutes.id });
        return subnet;
      });
      const natAddress = new Eip(this, 'nat-ip', { domain: 'vpc', tags: { Name: props.prefix } });
      const nat = new NatGateway(this, 'nat', {
        allocationId: natAddress.id,
        subnetId: publicSubnets[0]!.id,
        tags: { Name: props.prefix },
        dependsOn: [gateway],
      });
      const privateRoutes = new RouteTable(this, 'private-routes', {
        vpcId: vpc.id,
        route: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }],
        tags: { Name: `${props.prefix}-private` },
      });
      this.runnerSubnetIds = [0, 1].map((i) => {
        const subnet = new Subnet(this, `private-${i}`, {
          vpcId: vpc.id,
          cidrBlock: `10.0.${128 + i * 64}.0/18`,
          availabilityZone: Fn.element(zones.names, i),
          tags: { Name: `${props.prefix}-runners-${i}` },
        });
        new RouteTableAssociation(this, `private-${i}-routes`, { subnetId: subnet.id, routeTableId: privateRoutes.id });
        return subnet.id;
      });
      this.vpcId = vpc.id;
      // Nothing may use the VPC's default security group (CIS AWS Foundations 5.4): no rule in or out.
      new DefaultSecurityGroup(this, 'default-security-group', { vpcId: vpc.id, ingress: [], egress: [], tags: { Name: `${props.prefix}-default-closed` } });
      // Flow logs of every interface, rejected and accepted, to CloudWatch Logs (what runners talked to).
      const flowLogs = new CloudwatchLogGroup(this, 'flow-logs', { name: `/aws/vpc/${props.prefix}-flow-logs`, retentionInDays: LOG_RETENTION_DAYS });
      const assume = new DataAwsIamPolicyDocument(this, 'flow-logs-assume', {
        statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['vpc-flow-logs.amazonaws.com'] }] }],
      });
      const role = new IamRole(this, 'flow-logs-role', {
        name: `${props.prefix}-vpc-flow-logs`,
        assumeRolePolicy: assume.json,
        description: 'VPC flow logs to their log group',
      });
      const write = new DataAwsIamPolicyDocument(this, 'flow-logs-policy', {
        statement: [
          {
            sid: 'OwnLogGroup',
            effect: 'Allow',
            actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
            resources: [`${flowLogs.arn}:*`],
          },
        ],
      });
      new IamRolePolicy(this, 'flow-logs-role-policy', { name: 'flow-logs', role: role.id, policy: write.json });
      new FlowLog(this, 'flow-log', {
        vpcId: vpc.id,
        trafficType: 'ALL',
        logDestinationType: 'cloud-watch-logs',
        logDestination: flowLogs.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
      });
    }
    this.runnerSecurityGroup = new SecurityGroup(this, 'runners', {
      name: `${props.prefix}-runners`,
      description: 'Ephemeral runners: no inbound, any outbound',
      vpcId: this.vpcId,
      egress: [
        { fromPort: 0, toPort: 0, protocol: '-1', cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'], description: 'GitHub, AWS APIs, package registries' },
      ],
    });
  }
}
