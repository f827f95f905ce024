import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { jest } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRouter, type PoolsConfig } from '@runners/shared';
import { DynamoDbJobStore } from '@runners/shared/dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createProducerHandler } from '@runners/producer';
import { lambdaContext } from '../../local/lambda-context.mjs';
import type { AwsTarget } from '../../local/aws-target';

export const TEST_SECRET = "It's a Secret to Everybody";

/**
 * The producer's real middy stack (logger, tracer, metrics, every middleware) over a real DynamoDB store on moto.
 * Everything it prints (logs, EMF metrics) is captured instead of written, so tests can assert on it.
 */
export function producerHarness(options: { target: AwsTarget; tableName: string; config: PoolsConfig; maxBodyBytes?: number; secret?: string }) {
  const output: string[] = [];
  const logger = new Logger({ serviceName: 'producer', logLevel: 'DEBUG' });
  const metrics = new Metrics({ serviceName: 'producer', namespace: 'Test' });
  const client = new DynamoDBClient(options.target.clientConfig);
  const handler = createProducerHandler({
    config: options.config,
    router: createRouter(options.config.pools),
    store: new DynamoDbJobStore(client, options.tableName),
    now: () => new Date(),
    webhookSecret: async () => options.secret ?? TEST_SECRET,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    logger,
    tracer: new Tracer({ serviceName: 'producer', enabled: false }),
    metrics,
  });
  return {
    client,
    output,
    /** Invoke as Lambda would: the middy-wrapped handler, with a Lambda context. */
    invoke: async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
      // Powertools' consoles write to stdout/stderr (single metrics create their own console): capture it all.
      const capture = (chunk: string | Uint8Array) => {
        output.push(chunk.toString());
        return true;
      };
      const writes = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
      try {
        return (await handler(event, lambdaContext('producer'))) as APIGatewayProxyStructuredResultV2;
      } finally {
        for (const write of writes) write.mockRestore();
      }
    },
    /** Parsed JSON body of a response. */
    body: (response: APIGatewayProxyStructuredResultV2) => JSON.parse(response.body ?? 'null') as Record<string, unknown>,
  };
}
