import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { Construct } from 'constructs';
import type { KeyResource, ParameterResource, TableResource } from '@runners/shared/deployment';
import { producerContract } from '@runners/producer/contract';
import { bindContract, LOG_RETENTION_DAYS, TracedFunction } from './traced-function';

/* Webhook intake: an HTTP API with one route (the producer contract's, POST /webhook) → the producer. */

const webhookRoute = producerContract.eventSources.find((s) => s.kind === 'http-api')!.route;

export interface ApiProps {
  readonly prefix: string;
  readonly region: string;
  readonly jobsTable: TableResource;
  readonly webhookSecret: ParameterResource & { readonly key: KeyResource };
}

export class Api extends Construct {
  readonly producer: TracedFunction;
  readonly webhookUrl: string;
  readonly api: Apigatewayv2Api;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.producer = new TracedFunction(this, 'producer', {
      prefix: props.prefix,
      code: { bundle: 'producer' },
      deployment: bindContract(producerContract, { region: props.region, jobsTable: props.jobsTable, webhookSecret: { store: 'ssm', ...props.webhookSecret } }),
    });
    this.api = new Apigatewayv2Api(this, 'api', { name: `${props.prefix}-webhooks`, protocolType: 'HTTP', description: 'GitHub App webhooks' });
    const integration = new Apigatewayv2Integration(this, 'producer-integration', {
      apiId: this.api.id,
      integrationType: 'AWS_PROXY',
      integrationUri: this.producer.function.invokeArn,
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: 10_000,
    });
    new Apigatewayv2Route(this, 'webhook-route', { apiId: this.api.id, routeKey: webhookRoute, target: `integrations/${integration.id}` });
    // Access logs: who called, when, with what answer (never a body or a header value but the delivery id).
    const accessLogs = new CloudwatchLogGroup(this, 'access-logs', { name: `/aws/apigateway/${props.prefix}-webhooks`, retentionInDays: LOG_RETENTION_DAYS });
    new Apigatewayv2Stage(this, 'stage', {
      apiId: this.api.id,
      name: '$default',
      autoDeploy: true,
      accessLogSettings: {
        destinationArn: accessLogs.arn,
        format: JSON.stringify({
          requestId: '$context.requestId',
          time: '$context.requestTime',
          sourceIp: '$context.identity.sourceIp',
          route: '$context.routeKey',
          status: '$context.status',
          responseLength: '$context.responseLength',
          integrationStatus: '$context.integrationStatus',
          latencyMs: '$context.responseLatency',
          delivery: '$request.header.X-GitHub-Delivery',
          event: '$request.header.X-GitHub-Event',
        }),
      },
      // GitHub sends a burst per push of a big matrix; anything beyond this is not GitHub.
      defaultRouteSettings: { throttlingBurstLimit: 500, throttlingRateLimit: 200 },
    });
    new LambdaPermission(this, 'api-invokes-producer', {
      statementId: 'api-gateway',
      action: 'lambda:InvokeFunction',
      functionName: this.producer.function.functionName,
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${this.api.executionArn}/*/*${webhookRoute.split(' ')[1]}`,
    });
    this.webhookUrl = `${this.api.apiEndpoint}${webhookRoute.split(' ')[1]}`;
  }
}
