import type { AwsRequest } from './request-authorization';

/*
 * Limits of the real services that moto does not enforce, so that a stand-in cannot accept what AWS refuses. Checked
 * for every caller, the deployer included.
 */

export interface LimitViolation {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

/** SSM parameter values: Standard 4 KB, Advanced and Intelligent-Tiering 8 KB (SSM user guide, "Managing parameter tiers"). */
const PARAMETER_VALUE_LIMIT: Record<string, number> = { Standard: 4096, Advanced: 8192, 'Intelligent-Tiering': 8192 };

export function serviceLimitViolation(request: AwsRequest): LimitViolation | undefined {
  if (request.service === 'ssm' && request.operation === 'PutParameter') {
    const tier = typeof request.input.Tier === 'string' ? request.input.Tier : 'Standard';
    const limit = PARAMETER_VALUE_LIMIT[tier] ?? 4096;
    const value = typeof request.input.Value === 'string' ? request.input.Value : '';
    if (Buffer.byteLength(value) > limit) {
      return {
        status: 400,
        type: 'ValidationException',
        message:
          tier === 'Standard'
            ? 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.'
            : `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${limit}`,
      };
    }
  }
  return undefined;
}
