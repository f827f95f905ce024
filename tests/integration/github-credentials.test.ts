import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '@runners/shared';
import { GitHubClient, loadGitHubAppCredentials, recordGitHubCalls } from '@runners/shared/github';
import { randomUUID } from 'node:crypto';
import { motoTarget } from '../helpers/aws';
import { ORG } from '../helpers/simulator';
import { startSimulator, type Simulator } from '../../sim/server';
import { jest } from '@jest/globals';

describe('GitHub App credentials from SSM (Powertools parameters, moto)', () => {
  const target = motoTarget();
  const ssm = new SSMClient(target.clientConfig);
  const prefix = `/test/${randomUUID()}`;
  const saved = { ...process.env };
  let sim: Simulator;

  beforeAll(async () => {
    Object.assign(process.env, target.environment);
    sim = await startSimulator();
    await ssm.send(new PutParameterCommand({ Name: `${prefix}/app-id`, Value: String(sim.appId), Type: 'SecureString' }));
    await ssm.send(new PutParameterCommand({ Name: `${prefix}/private-key`, Value: sim.privateKeyPem, Type: 'SecureString' }));
    await ssm.send(new PutParameterCommand({ Name: `${prefix}/bad-id`, Value: 'forty-two', Type: 'String' }));
  });
  afterAll(async () => {
    process.env = saved;
    await sim.stop();
  });

  it('loads the App id and private key, and the client authenticates with them', async () => {
    const credentials = await loadGitHubAppCredentials({ appIdParameter: `${prefix}/app-id`, privateKeyParameter: `${prefix}/private-key`, baseUrl: sim.url });
    const client = new GitHubClient(credentials, { writeSpacingMs: 0 });

    expect(credentials.appId).toBe(sim.appId);
    await expect(client.installationId(ORG)).resolves.toEqual(expect.any(Number));
  });

  it('names each missing or malformed parameter', async () => {
    const attempt = loadGitHubAppCredentials({ appIdParameter: `${prefix}/bad-id`, privateKeyParameter: `${prefix}/missing`, baseUrl: sim.url });

    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toMatchObject({
      issues: [expect.objectContaining({ path: `${prefix}/bad-id` }), expect.objectContaining({ path: `${prefix}/missing` })],
    });
  });

  it('records GitHub calls per operation and status class as metrics', async () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(chunk.toString()), true));
    const metricsSink = new Metrics({ namespace: 'Test', serviceName: 'test' });
    const client = new GitHubClient(
      { appId: sim.appId, privateKey: sim.privateKeyPem, baseUrl: sim.url },
      { writeSpacingMs: 0, onCall: recordGitHubCalls(metricsSink) },
    );
    try {
      const installationId = await client.installationId(ORG);
      await client.getRunner(installationId, ORG, 12345);
      metricsSink.publishStoredMetrics();
    } finally {
      write.mockRestore();
    }

    const metrics = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((m) => m.GitHubCalls === 1);
    expect(metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'GET /orgs/{org}/installation', status: '2xx' }),
        expect.objectContaining({ operation: 'GET /orgs/{org}/actions/runners/{runner_id}', status: '4xx' }),
      ]),
    );
    // The installation's remaining rate limit, as GitHub's x-ratelimit-remaining header says (app calls have none).
    const remaining = lines
      .map((l) => JSON.parse(l) as { GitHubRateLimitRemaining?: number | number[] })
      .find((m) => m.GitHubRateLimitRemaining !== undefined)?.GitHubRateLimitRemaining;
    expect([remaining].flat().every((value) => typeof value === 'number' && value < 5000 && value >= 0)).toBe(true);
    expect(remaining).toBeDefined();
  });
});
