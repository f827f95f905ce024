import { RequestError } from '@octokit/request-error';
import { RunnerGroupMissingError, type LaunchFailure } from '@runners/shared';
import { ScaleSetApiError } from '@runners/shared/scaleset';
import { PermanentHostError } from './hosts/host';

/**
 * AWS error codes of a host request that no retry changes: a template, image or role that is wrong or missing
 * (EC2 API reference, "Error codes for the Amazon EC2 API"; the Lambda and EKS APIs' AccessDenied). Capacity and
 * throttling codes (InsufficientInstanceCapacity, VcpuLimitExceeded, RequestLimitExceeded) stay transient.
 */
const PERMANENT_AWS_ERRORS = new Set([
  'UnauthorizedOperation',
  'AccessDeniedException',
  'AccessDenied',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'InvalidAMIID.NotFound',
  'InvalidAMIID.Malformed',
  'InvalidLaunchTemplateId.NotFound',
  'InvalidLaunchTemplateName.NotFoundException',
  'InvalidSubnetID.NotFound',
  'InvalidKeyPair.NotFound',
  'ResourceNotFoundException',
]);

/*
 * Every launch failure gets a class. Permanent: retrying the same launch cannot succeed, so it ends at once with its
 * reason recorded and its slot freed (no message cycling to the DLQ while the slot stays held). Transient: throttling,
 * 5xx, timeouts, capacity — retried with back-off. What is not recognised is transient: a retry is bounded (the
 * pool's launch attempts, the queue's receive count), a wrong "permanent" would drop a job that could have run.
 */

/** GitHub's answers that no retry changes (docs.github.com, REST API troubleshooting and the endpoints' status codes). */
function githubFailure(error: RequestError): LaunchFailure | undefined {
  const message = `GitHub ${error.status}: ${error.message}`;
  const route = `${error.request.method} ${error.request.url}`;
  // A rate limit is a 403 or 429 with retry-after or an exhausted quota: transient.
  const headers = error.response?.headers ?? {};
  if (headers['retry-after'] !== undefined || headers['x-ratelimit-remaining'] === '0' || error.status === 429) return undefined;
  // GitHub's secondary rate limit does not always send retry-after ("wait at least one minute", REST API best
  // practices); a full runner group or registration limit clears too.
  if (/rate limit|limit for|reached its limit|try again/i.test(error.message)) return undefined;
  if (error.status === 404 && /\/installation$/.test(new URL(error.request.url).pathname))
    return { kind: 'permanent', reason: 'no-installation', message: `the GitHub App is not installed there (${route}): ${message}` };
  if (error.status === 404) return { kind: 'permanent', reason: 'not-found', message: `${route}: ${message}` };
  if (error.status === 401 || error.status === 403)
    return { kind: 'permanent', reason: 'not-permitted', message: `the App may not do this (${route}); check its permissions: ${message}` };
  if (error.status === 422) return { kind: 'permanent', reason: 'refused-by-github', message: `${route}: ${message}` };
  return undefined;
}

/** The Actions service's refusals of a scale set's JIT config: a 4xx but 401 (its token) and 429 stays refused. */
function scaleSetFailure(error: ScaleSetApiError): LaunchFailure | undefined {
  if (error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 429 && error.status !== 409)
    return { kind: 'permanent', reason: 'refused-by-github', message: error.message };
  return undefined;
}

export function classifyLaunchError(error: unknown): LaunchFailure {
  if (error instanceof RunnerGroupMissingError) return { kind: 'permanent', reason: 'no-runner-group', message: error.message };
  if (error instanceof PermanentHostError) return { kind: 'permanent', reason: error.reason, message: error.message };
  if (error instanceof Error && PERMANENT_AWS_ERRORS.has(error.name)) return { kind: 'permanent', reason: error.name, message: error.message };
  if (error instanceof RequestError) return githubFailure(error) ?? { kind: 'transient', reason: `github-${error.status}`, message: error.message };
  if (error instanceof ScaleSetApiError) return scaleSetFailure(error) ?? { kind: 'transient', reason: `scale-set-${error.status}`, message: error.message };
  const name = error instanceof Error ? error.name : 'Error';
  return { kind: 'transient', reason: name, message: error instanceof Error ? error.message : String(error) };
}
