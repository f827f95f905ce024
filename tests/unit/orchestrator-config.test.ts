import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@runners/shared';
import { readEnvironment } from '@runners/orchestrators';

const base = {
  JOBS_TABLE_NAME: 't',
  GITHUB_APP_ID_PARAMETER: '/a',
  GITHUB_PRIVATE_KEY_PARAMETER: '/k',
  DEPLOYMENT_ID: 'ephemeral-runners:123456789012:us-east-1',
};

describe('orchestrator environment', () => {
  it("reads the EC2 pools' launch templates", () => {
    const env = readEnvironment({ ...base, EC2_POOL_TEMPLATES: '{"ec2-linux":{"launchTemplateId":"lt-123","subnetIds":["subnet-1"]}}' });

    expect(env.EC2_POOL_TEMPLATES).toEqual({ 'ec2-linux': { launchTemplateId: 'lt-123', subnetIds: ['subnet-1'] } });
    expect(env.GITHUB_WRITE_SPACING_MS).toBe(1_000);
  });

  it('names every bad variable', () => {
    let caught: unknown;
    try {
      readEnvironment({ GITHUB_APP_ID_PARAMETER: 'no-slash', EC2_POOL_TEMPLATES: '{not json' });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['JOBS_TABLE_NAME', 'GITHUB_APP_ID_PARAMETER', 'GITHUB_PRIVATE_KEY_PARAMETER', 'DEPLOYMENT_ID', 'EC2_POOL_TEMPLATES']),
    );
  });
});
