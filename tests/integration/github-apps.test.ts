import { afterEach, describe, expect, it } from '@jest/globals';
import type { PoolsConfigInput } from '@runners/shared';
import type { Host, HostRef, HostSpec } from '@runners/orchestrators/hosts';
import { launchMessage, orchestratorHarness } from '../helpers/orchestrator-harness';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';

/*
 * Several GitHub Apps spread over pools: GitHub limits each App's writes (its secondary rate limit, per installation),
 * so two pools on two Apps launch what one App could not. The simulator's limit is lowered to 30 points a minute (6
 * registrations at 5 points each): 5 launches per pool fit on two Apps, not on one.
 */

/** Hosts that cost nothing: what is measured here is GitHub. */
class PaperHost implements Host {
  readonly kind = 'docker' as const;
  readonly made = new Map<string, HostRef>();
  async create(spec: HostSpec): Promise<HostRef> {
    const ref = { id: `paper-${spec.runnerName}`, runnerName: spec.runnerName, pool: spec.pool.name, jobId: spec.jobId };
    this.made.set(spec.runnerName, ref);
    return ref;
  }
  async delete(runnerName: string): Promise<'deleted' | 'absent'> {
    return this.made.delete(runnerName) ? 'deleted' : 'absent';
  }
  async list(): Promise<HostRef[]> {
    return [...this.made.values()];
  }
}

function config(appOfPoolB: string) {
  const input = testPoolsInput();
  const base = input.pools[0]!;
  const pools = [
    { ...base, name: 'docker-a', maxRunners: 10 },
    { ...base, name: 'docker-b', labels: ['docker', 'b'], maxRunners: 10, githubApp: appOfPoolB },
  ] as PoolsConfigInput['pools'];
  return testPoolsConfig({ github: { scope: 'org', runnerGroup: 'Default', apps: ['bulk'] }, pools });
}

describe('several GitHub Apps', () => {
  let stop: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  const launchFive = async (appOfPoolB: string) => {
    const h = await orchestratorHarness({
      config: config(appOfPoolB),
      host: () => new PaperHost(),
      sim: { extraApps: 1, limits: { pointsPerMinute: 30 } },
      otherApps: ['bulk'],
    });
    stop = h.stop;
    const messages = [];
    for (let i = 0; i < 5; i++) {
      for (const pool of ['docker-a', 'docker-b']) {
        const jobId = 70_000_000 + i * 10 + (pool === 'docker-a' ? 1 : 2);
        await h.dispatched(jobId, pool);
        messages.push(launchMessage(pool, jobId));
      }
    }
    const result = (await h.invoke(messages)) as { batchItemFailures: unknown[] };
    return { h, launchesLeftForLater: result.batchItemFailures.length };
  };

  it('each pool registers its runners with its own App: two Apps launch what one could not without being throttled', async () => {
    const { h, launchesLeftForLater } = await launchFive('bulk');

    expect(launchesLeftForLater).toBe(0);
    const stats = h.sim.stats();
    expect(stats.calls['POST /orgs/{owner}/actions/runners/generate-jitconfig']).toBe(10);
    expect(stats.secondaryRateLimited).toBe(0);
    // The default App's installation on octo-org (1000) and the bulk App's own (101000): five registrations each.
    expect(Object.keys(stats.callsByInstallation).sort()).toEqual(['1000', '101000']);
    const runners = [...h.sim.model.runners.values()];
    expect(runners.filter((r) => r.name.includes('-docker-b-'))).toHaveLength(5);
    expect(runners).toHaveLength(10);
  });

  it('the same launches through one App run into its secondary rate limit: some wait for a later delivery', async () => {
    const { h, launchesLeftForLater } = await launchFive('default');

    expect(h.sim.stats().secondaryRateLimited).toBeGreaterThan(0);
    expect(launchesLeftForLater).toBeGreaterThan(0);
    expect(Object.keys(h.sim.stats().callsByInstallation)).toEqual(['1000']);
  }, 120_000);
});
