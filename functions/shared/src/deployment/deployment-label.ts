import { createHash } from 'node:crypto';

/*
 * Two deployments can serve one organization (staging and production, two AWS accounts) with the same runner-name
 * prefix and pool names: each must leave the other's runners alone. Every runner a deployment registers carries a
 * label naming the deployment — its stack prefix, AWS account and region, hashed to a short stable label — and the
 * passes that remove registrations touch only runners with their own deployment's label.
 */
/** The deployment's identity: its prefix in this account and region (on AWS, Terraform fills in account and region). */
export function deploymentIdOf(prefix: string, account: { readonly id: string; readonly region: string }): string {
  return `${prefix}:${account.id}:${account.region}`;
}

export function deploymentLabel(deploymentId: string): string {
  return `ephemeral-runners-${createHash('sha256').update(deploymentId).digest('hex').slice(0, 10)}`;
}
