import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { Construct } from 'constructs';
import type { Account } from './account';
import { resourceNames } from './resource-names';

/*
 * The key the stack's SNS topics are encrypted with (job messages, notifications, alarms). A key of the stack's own,
 * not AWS's `aws/sns`: CloudWatch alarms cannot publish to a topic under an AWS-managed key, whose policy cannot
 * grant it (SNS developer guide, "Encryption at rest": AWS services publishing to encrypted topics need a customer
 * managed key). Publishers get kms:GenerateDataKey and kms:Decrypt through SNS in their contracts.
 */
export class MessagesKey extends Construct {
  readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: { readonly prefix: string; readonly account: Account }) {
    super(scope, id);
    const policy = new DataAwsIamPolicyDocument(this, 'key-policy', {
      statement: [
        {
          sid: 'AccountAdministers',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [props.account.arn('iam', 'root', { region: false })] }],
          actions: ['kms:*'],
          resources: ['*'],
        },
        {
          sid: 'AlarmsPublish',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.account.id] }],
        },
      ],
    });
    this.key = new KmsKey(this, 'key', {
      description: 'SNS topics of the runners stack',
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policy.json,
    });
    new KmsAlias(this, 'alias', { name: `alias/${resourceNames(props.prefix).messagesKeyAlias}`, targetKeyId: this.key.keyId });
  }
}
