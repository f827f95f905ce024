import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { Construct } from 'constructs';
import type { resourceNames } from './resource-names';

/*
 * The GitHub App's id, private key and webhook secret as SSM SecureStrings. Terraform creates them with a placeholder
 * and never looks at their value again (ignore_changes), so no secret is in the Terraform JSON or state: `make
 * ci-deploy` writes the real values with the AWS CLI from .env (scripts/put-secrets.sh).
 */

export const SECRET_PLACEHOLDER = 'set-by-make-ci-deploy';

export class Secrets extends Construct {
  readonly appId: SsmParameter;
  readonly privateKey: SsmParameter;
  readonly webhookSecret: SsmParameter;

  constructor(scope: Construct, id: string, names: ReturnType<typeof resourceNames>) {
    super(scope, id);
    const parameter = (key: string, name: string, description: string) =>
      new SsmParameter(this, key, { name, type: 'SecureString', value: SECRET_PLACEHOLDER, description, tier: 'Standard', lifecycle: { ignoreChanges: ['value'] } });
    this.appId = parameter('app-id', names.githubAppIdParameter, 'GitHub App id');
    this.privateKey = parameter('private-key', names.githubPrivateKeyParameter, 'GitHub App private key (PEM)');
    this.webhookSecret = parameter('webhook-secret', names.webhookSecretParameter, 'GitHub App webhook secret');
  }
}
