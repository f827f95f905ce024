import { afterEach, describe, expect, it } from '@jest/globals';
import { RunnerBusyError } from '@runners/shared';
import { ORG, runSimulatedRunner, simControl, simulatorWithClient, waitUntil, webhookReceiver } from '../helpers/simulator';

/* The real Octokit client (auth-app, plugin-retry, plugin-throttling) against the GitHub simulator. */

describe('GitHub client against the simulator', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  async function setup(...args: Parameters<typeof simulatorWithClient>) {
    const env = await simulatorWithClient(...args);
    stop = () => env.sim.stop();
    return env;
  }

  it('mints one installation token for 100 operations', async () => {
    const { sim, client } = await setup();
    const installationId = await client.installationId(ORG);

    for (let i = 0; i < 50; i++) {
      await client.listRunners(installationId, ORG);
      await client.getRunner(installationId, ORG, 999);
    }

    expect(sim.stats().tokensMinted).toBe(1);
    expect(sim.stats().callsByInstallation[installationId]).toBeGreaterThanOrEqual(100);
  });

  it('generates JIT configs in org scope (with the runner group) and repo scope', async () => {
    const { sim, client } = await setup();
    const installationId = await client.installationId(ORG);
    const repoScope = { kind: 'repo' as const, owner: 'octo-org', repo: 'app' };

    const org = await client.generateJitConfig(installationId, ORG, {
      name: 'gha-p-1-1',
      labels: ['self-hosted', 'linux', 'x64', 'docker'],
      runnerGroup: 'Default',
    });
    const repo = await client.generateJitConfig(await client.installationId(repoScope), repoScope, { name: 'gha-p-2-1', labels: ['self-hosted', 'linux'] });

    // GitHub's format (actions/runner Runner.cs): base64 of file name → base64 content; several KB with the RSA key.
    const files = JSON.parse(Buffer.from(org.encodedJitConfig, 'base64').toString()) as Record<string, string>;
    expect(Object.keys(files).sort()).toEqual(['.credentials', '.credentials_rsaparams', '.runner']);
    expect(JSON.parse(Buffer.from(files['.runner']!, 'base64').toString())).toMatchObject({ gitHubUrl: sim.url, agentName: 'gha-p-1-1', ephemeral: true });
    expect(org.encodedJitConfig.length).toBeGreaterThan(4096);
    expect(org.encodedJitConfig.length).toBeLessThan(8192);
    expect((await client.getRunner(installationId, ORG, org.runnerId))?.labels.map((l) => l.name)).toEqual(['self-hosted', 'linux', 'x64', 'docker']);
    expect(await client.getRunner(installationId, repoScope, repo.runnerId)).toMatchObject({ name: 'gha-p-2-1', status: 'offline', busy: false });
    // A runner of one scope is not visible from the other.
    expect(await client.getRunner(installationId, repoScope, org.runnerId)).toBeUndefined();
    expect(sim.stats().calls['GET /orgs/{owner}/actions/runner-groups']).toBe(1);
  });

  it("surfaces GitHub's refusal to delete a busy runner; absent counts as deleted", async () => {
    const { sim, client } = await setup();
    const installationId = await client.installationId(ORG);
    const { runnerId, encodedJitConfig } = await client.generateJitConfig(installationId, ORG, { name: 'busy-1', labels: ['self-hosted', 'docker'] });
    await simControl(sim, 'POST', '/_sim/runs', { owner: 'octo-org', repo: 'app', jobs: [{ labels: ['docker'], durationMs: 3_000 }] });
    const runner = runSimulatedRunner(encodedJitConfig);
    await waitUntil('the runner to be busy', async () => (await client.getRunner(installationId, ORG, runnerId))?.busy === true);

    await expect(client.deleteRunner(installationId, ORG, runnerId)).rejects.toBeInstanceOf(RunnerBusyError);
    expect(await runner.exited).toBe(0);
    expect(await client.deleteRunner(installationId, ORG, runnerId)).toBe('absent');
  });

  it('waits out a secondary rate limit (403 + retry-after) and retries', async () => {
    const { sim, client, calls } = await setup({}, { retryAfterBaseValue: 1_000 });
    const installationId = await client.installationId(ORG);
    await client.getJob(installationId, 'octo-org', 'app', 1); // the installation token is minted before the fault
    await simControl(sim, 'PUT', '/_sim/faults', { rest: { failNext: [{ status: 403, count: 1 }], retryAfterSeconds: 1 } });

    const started = Date.now();
    const runners = await client.listRunners(installationId, ORG);

    expect(runners).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(calls['GET /orgs/{org}/actions/runners']).toBe(2);
    expect(sim.stats().faultsInjected).toBe(1);
  });

  it('retries 5xx', async () => {
    const { sim, client, calls } = await setup();
    const installationId = await client.installationId(ORG);
    await client.getJob(installationId, 'octo-org', 'app', 1); // the installation token is minted before the fault
    await simControl(sim, 'PUT', '/_sim/faults', { rest: { failNext: [{ status: 502, count: 2 }] } });

    const job = await client.getJob(installationId, 'octo-org', 'app', 1);

    expect(job).toBeUndefined(); // 404 after two 502s: retried, then the real answer
    expect(calls['GET /repos/{owner}/{repo}/actions/jobs/{job_id}']).toBe(4);
  });

  it('gives up on persistent 5xx with the error, after its retries', async () => {
    const { sim, client } = await setup({}, { retries: 2 });
    const installationId = await client.installationId(ORG);
    await client.getJob(installationId, 'octo-org', 'app', 1);
    await simControl(sim, 'PUT', '/_sim/faults', { rest: { failNext: [{ status: 503, count: 10 }] } });

    await expect(client.listRunners(installationId, ORG)).rejects.toMatchObject({ status: 503 });
  });

  it('pages through runners and answers unchanged pages from 304s', async () => {
    const { sim, client } = await setup();
    const installationId = await client.installationId(ORG);
    // 250 registrations through the API would take GitHub's secondary rate limit 2 minutes (180 writes a minute):
    // this test is about listing, so the runners are registered in the simulator's model directly.
    for (let i = 0; i < 250; i++) sim.model.registerRunner({ kind: 'org', org: 'octo-org' }, `r-${i}`, ['self-hosted'], 1);

    const first = await client.listRunners(installationId, ORG);
    const before = sim.stats().notModified;
    const second = await client.listRunners(installationId, ORG);

    expect(first.map((r) => r.name)).toEqual(Array.from({ length: 250 }, (_, i) => `r-${i}`));
    expect(second).toEqual(first);
    expect(sim.stats().notModified - before).toBe(3);
  });

  it("lists the App's webhook deliveries and redelivers one", async () => {
    const receiver = await webhookReceiver(503);
    const { sim, client } = await setup({ webhookUrl: receiver.url });
    await simControl(sim, 'POST', '/_sim/runs', { owner: 'octo-org', repo: 'app', jobs: [{ labels: ['docker'] }] });
    await sim.deliveries.idle();

    const deliveries = await client.listDeliveries({ since: new Date(Date.now() - 60_000) });
    expect(deliveries).toEqual([expect.objectContaining({ event: 'workflow_job', action: 'queued', status_code: 503, redelivery: false })]);
    await client.redeliver(Number(deliveries[0]!.id));
    await sim.deliveries.idle();

    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers['x-github-delivery']).toBe(deliveries[0]!.guid);
    expect((await client.listDeliveries())[0]).toMatchObject({ guid: deliveries[0]!.guid, redelivery: true });
    await receiver.close();
  });
});
