import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { Construct } from 'constructs';
import type { Account } from './account';
import type { resourceNames } from './resource-names';

/*
 * The GitHub App's id, private key and webhook secret: SSM SecureStrings that Terraform neither creates nor reads —
 * an `aws_ssm_parameter` would put its decrypted value in the state on every refresh, whatever `ignore_changes`
 * says — so no secret is in the Terraform JSON, the plan or the state. `make ci-deploy` writes them with the AWS API
 * (scripts/put-secrets.sh, idempotent, through files, never echoed) under this stack's own KMS key; Terraform only
 * knows their names. The key's policy lets only the roles that read them decrypt: not the pull-request plan role,
 * not an administrator's session, whatever their IAM policies say (an explicit deny wins).
 */

export interface SecretsProps {
  readonly names: ReturnType<typeof resourceNames>;
  readonly account: Account;
  /** The roles that read a secret (by name: their ARNs are known before they exist, so no dependency cycle). */
  readonly readerRoleNames: readonly string[];
}

export class Secrets extends Construct {
  readonly appId: { readonly name: string };
  readonly privateKey: { readonly name: string };
  readonly webhookSecret: { readonly name: string };
  readonly key: KmsKey;
  readonly keyAlias: string;

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    const { names, account } = props;
    this.appId = { name: names.githubAppIdParameter };
    this.privateKey = { name: names.githubPrivateKeyParameter };
    this.webhookSecret = { name: names.webhookSecretParameter };
    const root = account.arn('iam', 'root', { region: false });
    const policy = new DataAwsIamPolicyDocument(this, 'key-policy', {
      statement: [
        // The account administers the key through IAM (AWS's default key policy; without it the key is unmanageable).
        { sid: 'AccountAdministers', effect: 'Allow', principals: [{ type: 'AWS', identifiers: [root] }], actions: ['kms:*'], resources: ['*'] },
        {
          sid: 'OnlyReadersDecrypt',
          effect: 'Deny',
          principals: [{ type: 'AWS', identifiers: ['*'] }],
          actions: ['kms:Decrypt'],
          resources: ['*'],
          condition: [
            {
              test: 'ArnNotEquals',
              variable: 'aws:PrincipalArn',
              values: props.readerRoleNames.map((name) => account.arn('iam', `role/${name}`, { region: false })),
            },
          ],
        },
      ],
    });
    this.key = new KmsKey(this, 'key', {
      description: 'GitHub App secrets of the runners stack',
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policy.json,
    });
    this.keyAlias = `alias/${names.secretsKeyAlias}`;
    new KmsAlias(this, 'alias', { name: this.keyAlias, targetKeyId: this.key.keyId });
  }
}
