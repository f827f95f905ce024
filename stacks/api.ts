import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { Construct } from 'constructs';
import type { Account } from './account';
import { TracedFunction } from './traced-function';

/* Webhook intake: an HTTP API with one route, POST /webhook → the producer. */

export interface ApiProps {
  readonly prefix: string;
  readonly account: Account;
  readonly tableArn: string;
  readonly tableName: string;
  readonly webhookSecretParameter: string;
}

export class Api extends Construct {
  readonly producer: TracedFunction;
  readonly webhookUrl: string;
  readonly api: Apigatewayv2Api;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.producer = new TracedFunction(this, 'producer', {
      functionName: `${props.prefix}-producer`,
      service: 'producer',
      description: 'webhook intake: signature, schema, routing, job state',
      code: { bundle: 'producer' },
      timeoutSeconds: 10,
      environment: { JOBS_TABLE_NAME: props.tableName, WEBHOOK_SECRET_PARAMETER: props.webhookSecretParameter },
      statements: [
        { sid: 'JobWrites', actions: ['dynamodb:UpdateItem'], resources: [props.tableArn] },
        { sid: 'WebhookSecret', actions: ['ssm:GetParameter'], resources: [props.account.parameterArn(props.webhookSecretParameter)] },
      ],
    });
    this.api = new Apigatewayv2Api(this, 'api', { name: `${props.prefix}-webhooks`, protocolType: 'HTTP', description: 'GitHub App webhooks' });
    const integration = new Apigatewayv2Integration(this, 'producer-integration', {
      apiId: this.api.id,
      integrationType: 'AWS_PROXY',
      integrationUri: this.producer.function.invokeArn,
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: 10_000,
    });
    new Apigatewayv2Route(this, 'webhook-route', { apiId: this.api.id, routeKey: 'POST /webhook', target: `integrations/${integration.id}` });
    new Apigatewayv2Stage(this, 'stage', {
      apiId: this.api.id,
      name: '$default',
      autoDeploy: true,
      // GitHub sends a burst per push of a big matrix; anything beyond this is not GitHub.
      defaultRouteSettings: { throttlingBurstLimit: 500, throttlingRateLimit: 200 },
    });
    new LambdaPermission(this, 'api-invokes-producer', {
      statementId: 'api-gateway',
      action: 'lambda:InvokeFunction',
      functionName: this.producer.function.functionName,
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${this.api.executionArn}/*/*/webhook`,
    });
    this.webhookUrl = `${this.api.apiEndpoint}/webhook`;
  }
}
