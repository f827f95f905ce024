/** Where the local stack's AWS calls go: the moto server, with fixed test credentials. */
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

export function awsTarget(endpoint: string, region = 'us-east-1'): AwsTarget {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return {
    endpoint,
    region,
    clientConfig: { endpoint, region, credentials },
    environment: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
  };
}
