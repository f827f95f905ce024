import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import type { Permission } from '@runners/shared/deployment';
import { Construct } from 'constructs';

/*
 * A role whose one inline policy is exactly a contract's statements: every function's, the EC2 runners' instance
 * role, the Docker orchestrator's. The local stack finds these by role name in the synthesized JSON and enforces them.
 */

export interface ContractRoleProps {
  readonly name: string;
  readonly description: string;
  /** Who may assume it: an AWS service, or principals of this account (whose own policy must allow it too). */
  readonly assumedBy: { readonly service: string } | { readonly accountArn: string };
  readonly statements: readonly Permission[];
}

/**
 * IAM policy variables (`${aws:ResourceTag/InstanceId}`) are Terraform interpolations unless escaped as `$${…}`;
 * Terraform then renders them as IAM expects. cdktf's own tokens (`${TfToken[…]}`) have no colon and are untouched.
 */
const policyVariables = (value: string) => value.replace(/\$\{(?=[A-Za-z0-9-]+:)/g, '$$${');

export class ContractRole extends Construct {
  readonly role: IamRole;
  readonly policy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: ContractRoleProps) {
    super(scope, id);
    const principal =
      'service' in props.assumedBy ? { type: 'Service', identifiers: [props.assumedBy.service] } : { type: 'AWS', identifiers: [props.assumedBy.accountArn] };
    const assume = new DataAwsIamPolicyDocument(this, 'assume', { statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [principal] }] });
    this.role = new IamRole(this, 'role', { name: props.name, assumeRolePolicy: assume.json, description: props.description });
    const policy = new DataAwsIamPolicyDocument(this, 'policy', {
      statement: props.statements.map((s) => ({
        sid: s.sid,
        effect: 'Allow',
        actions: [...s.actions],
        resources: s.resources.map(policyVariables),
        ...(s.conditions ? { condition: s.conditions.map((c) => ({ test: c.test, variable: c.variable, values: c.values.map(policyVariables) })) } : {}),
      })),
    });
    this.policy = new IamRolePolicy(this, 'role-policy', { name: 'least-privilege', role: this.role.id, policy: policy.json });
  }
}
