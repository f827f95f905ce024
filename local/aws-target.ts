/** Where the local stack's AWS calls go (moto, or the IAM proxy in front of it), and as whom. */
export interface AwsTarget {
  readonly endpoint: string;
  readonly region: string;
  readonly clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** The same, as the environment variables the AWS SDK of a function reads. */
  readonly environment: Record<string, string>;
}

/** The deployer's (provisioning's) credentials: the IAM proxy lets them through unevaluated, as Terraform's rights. */
export const ADMIN_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
/** moto's default account. */
export const LOCAL_ACCOUNT_ID = '123456789012';

export function awsTarget(
  endpoint: string,
  region = 'us-east-1',
  credentials: { accessKeyId: string; secretAccessKey: string } = ADMIN_CREDENTIALS,
): AwsTarget {
  return {
    endpoint,
    region,
    clientConfig: { endpoint, region, credentials: { ...credentials } },
    environment: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
  };
}

/** ARNs in the local account, as AWS would build them. */
export function localArns(region: string) {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${LOCAL_ACCOUNT_ID}:${resource}`;
  return {
    table: (name: string) => arn('dynamodb', `table/${name}`),
    parameter: (name: string) => arn('ssm', `parameter${name}`),
    queue: (name: string) => arn('sqs', name),
  };
}
