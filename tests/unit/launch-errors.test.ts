import { describe, expect, it } from '@jest/globals';
import { RequestError } from '@octokit/request-error';
import { RunnerGroupMissingError } from '@runners/shared';
import { HostImageMismatchError } from '@runners/orchestrators/hosts';
import { classifyLaunchError } from '@runners/orchestrators';

/** GitHub's errors as Octokit raises them: the status, the request, the response headers. */
function githubError(status: number, url: string, headers: Record<string, string> = {}, message = 'error'): RequestError {
  return new RequestError(message, status, { request: { method: 'POST', url, headers: {} }, response: { status, url, headers, data: { message } } });
}

describe('launch error classes', () => {
  it('permanent: no installation, no runner group, the App not permitted, a registration GitHub refuses, a host that cannot be made', () => {
    expect(classifyLaunchError(githubError(404, 'https://api.github.com/orgs/stranger/installation'))).toMatchObject({
      kind: 'permanent',
      reason: 'no-installation',
    });
    expect(classifyLaunchError(new RunnerGroupMissingError('gpu', 'octo-org'))).toMatchObject({ kind: 'permanent', reason: 'no-runner-group' });
    expect(
      classifyLaunchError(githubError(403, 'https://api.github.com/orgs/o/actions/runners/generate-jitconfig', {}, 'Resource not accessible by integration')),
    ).toMatchObject({ kind: 'permanent', reason: 'not-permitted' });
    expect(classifyLaunchError(githubError(422, 'https://api.github.com/orgs/o/actions/runners/generate-jitconfig'))).toMatchObject({
      kind: 'permanent',
      reason: 'refused-by-github',
    });
    expect(classifyLaunchError(new HostImageMismatchError('img', 'arm64', 'amd64', 'p'))).toMatchObject({ kind: 'permanent', reason: 'image-architecture' });
    expect(classifyLaunchError(Object.assign(new Error('Not authorized'), { name: 'UnauthorizedOperation' }))).toMatchObject({
      kind: 'permanent',
      reason: 'UnauthorizedOperation',
    });
  });

  it('transient: rate limits (403 with retry-after or no quota left, 429), 5xx, capacity, anything unknown', () => {
    const url = 'https://api.github.com/orgs/o/actions/runners/generate-jitconfig';
    expect(classifyLaunchError(githubError(403, url, { 'retry-after': '60' })).kind).toBe('transient');
    expect(classifyLaunchError(githubError(403, url, { 'x-ratelimit-remaining': '0' })).kind).toBe('transient');
    expect(classifyLaunchError(githubError(429, url)).kind).toBe('transient');
    // Without retry-after, GitHub's words say it: a secondary rate limit, a full runner group.
    expect(
      classifyLaunchError(githubError(403, url, {}, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.')).kind,
    ).toBe('transient');
    expect(classifyLaunchError(githubError(422, url, {}, 'The runner group has reached its limit of runners')).kind).toBe('transient');
    expect(classifyLaunchError(githubError(502, url))).toMatchObject({ kind: 'transient', reason: 'github-502' });
    expect(classifyLaunchError(Object.assign(new Error('no capacity'), { name: 'InsufficientInstanceCapacity' })).kind).toBe('transient');
    expect(classifyLaunchError(new Error('socket hang up')).kind).toBe('transient');
    expect(classifyLaunchError('a string').kind).toBe('transient');
  });
});
