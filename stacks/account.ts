import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { Construct } from 'constructs';

/* Account, region and partition, read at plan time: the ARNs of the least-privilege statements are built from them. */
export class Account extends Construct {
  readonly id: string;
  readonly region: string;
  readonly partition: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.id = new DataAwsCallerIdentity(this, 'caller').accountId;
    this.region = new DataAwsRegion(this, 'region').region;
    this.partition = new DataAwsPartition(this, 'partition').partition;
  }

  /** ARN of an SSM parameter (names start with "/"); a trailing "*" covers a path. */
  parameterArn(name: string): string {
    return `arn:${this.partition}:ssm:${this.region}:${this.id}:parameter${name}`;
  }

  arn(service: string, resource: string, options: { region?: boolean; account?: boolean } = {}): string {
    return `arn:${this.partition}:${service}:${options.region === false ? '' : this.region}:${options.account === false ? '' : this.id}:${resource}`;
  }
}
