import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { GitHubClient } from '@runners/shared/github';
import { DockerHost } from '@runners/orchestrators/hosts';
import type { HostRef, HostSpec } from '@runners/orchestrators/hosts';
import { DEFAULT_LIMITS, launch, type OrchestratorPorts } from '@runners/orchestrators';
import { SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { getJob } from '../helpers/aws';
import { launchMessage, orchestratorHarness } from '../helpers/orchestrator-harness';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';

/*
 * A launch never outlives its ownership of the slot. Powertools' batch processor runs an SQS batch's records
 * concurrently, so the launch of a runner and the teardown of the same runner (its job cancelled or run elsewhere) do
 * interleave inside one invocation. Each test holds the launch at one step until the teardown has done its work, in
 * one batch through the real handler, and checks what is left: no host, no registration, no slot.
 */

const input = testPoolsInput();
const config = testPoolsConfig({ pools: [{ ...input.pools[0]!, docker: { image: SIM_RUNNER_IMAGE } }, ...input.pools.slice(1)] as typeof input.pools });
const POOL = 'docker-linux';

/** One gate per runner: waiters resolve once it is opened. */
class Gates {
  private readonly waiting = new Map<string, () => void>();
  private readonly opened = new Set<string>();
  open(runnerName: string): void {
    this.opened.add(runnerName);
    this.waiting.get(runnerName)?.();
  }
  wait(runnerName: string): Promise<void> {
    return this.opened.has(runnerName) ? Promise.resolve() : new Promise((resolve) => this.waiting.set(runnerName, resolve));
  }
}

/** The teardown's last step (the host asked to go) happened. */
const teardownDone = new Gates();
/** The launch reached the step it is held at. */
const launchHeld = new Gates();
/** Where each runner's launch is held until its teardown is done (the teardown waits for the launch to get there). */
const holdAt = new Map<string, 'registration' | 'host' | { jitterMs: number }>();
let runnerNameOf: (runnerId: number) => string | undefined = () => undefined;

async function holdLaunch(runnerName: string, step: 'registration' | 'host'): Promise<void> {
  const hold = holdAt.get(runnerName);
  if (typeof hold === 'object') await new Promise((r) => setTimeout(r, hold.jitterMs));
  if (hold !== step) return;
  launchHeld.open(runnerName);
  await teardownDone.wait(runnerName);
}

/** The teardown's first call to GitHub waits until the launch of the same runner is held where the test wants it. */
async function holdTeardown(runnerName: string | undefined): Promise<void> {
  if (runnerName !== undefined && typeof holdAt.get(runnerName) === 'string') await launchHeld.wait(runnerName);
}

/** The Docker host, with the launch held before creating the host; teardown's delete opens the gate. */
class HeldHost extends DockerHost {
  readonly created: string[] = [];
  override async create(spec: HostSpec): Promise<HostRef> {
    await holdLaunch(spec.runnerName, 'host');
    const ref = await super.create(spec);
    this.created.push(spec.runnerName);
    return ref;
  }
  override async delete(runnerName: string): Promise<'deleted' | 'absent'> {
    const outcome = await super.delete(runnerName);
    teardownDone.open(runnerName);
    return outcome;
  }
}

/** The real client: the JIT registration can be held until the runner's teardown is done, the teardown's lookups until then. */
function heldGitHub(client: GitHubClient): GitHubClient {
  return Object.assign(Object.create(client) as GitHubClient, {
    generateJitConfig: async (...args: Parameters<GitHubClient['generateJitConfig']>) => {
      await holdLaunch(args[2].name, 'registration');
      return client.generateJitConfig(...args);
    },
    findRunnerByName: async (...args: Parameters<GitHubClient['findRunnerByName']>) => {
      await holdTeardown(args[2]);
      return client.findRunnerByName(...args);
    },
    getRunner: async (...args: Parameters<GitHubClient['getRunner']>) => {
      await holdTeardown(runnerNameOf(args[2]));
      return client.getRunner(...args);
    },
  });
}

type Harness = Awaited<ReturnType<typeof orchestratorHarness>>;

describe('launch and teardown of one runner in one batch', () => {
  let h: Harness;
  let host: HeldHost;
  beforeAll(async () => {
    h = await orchestratorHarness({
      config,
      host: (docker, managedBy) => (host = new HeldHost(docker, managedBy)),
      github: heldGitHub,
    });
    runnerNameOf = (runnerId) => h.sim.model.runners.get(runnerId)?.name;
    // No queued job on the simulator: a runner that came up would idle, so what is left is what the system left.
  }, 120_000);
  afterAll(async () => expect(await h.stop()).toEqual([]));

  const dispatched = (jobId: number) => h.dispatched(jobId, POOL);

  const cancelled = (jobId: number, runnerName: string) => ({
    action: 'teardown',
    pool: POOL,
    host: 'docker',
    os: 'linux',
    runnerName,
    reason: 'job-cancelled',
    onlyIfIdle: true,
    jobId,
  });
  const left = async (runnerName: string) => ({
    hosts: (await h.host.list()).filter((c) => c.runnerName === runnerName).length,
    registrations: [...h.sim.model.runners.values()].filter((r) => r.name === runnerName).length,
  });

  it('a teardown between the claim and the registration: the launch removes the registration and host it then made', async () => {
    const jobId = 90_000_001;
    const runnerName = await dispatched(jobId);
    holdAt.set(runnerName, 'registration');

    expect(await h.invoke([launchMessage(POOL, jobId), cancelled(jobId, runnerName)])).toEqual({ batchItemFailures: [] });

    expect(await left(runnerName)).toEqual({ hosts: 0, registrations: 0 });
    // It registered and made its host (after the teardown had looked for a registration and found none), then saw the
    // slot gone when it recorded both — one write for registration and host: a host made in this rare race is removed
    // at once, the price of one write less on every launch.
    expect(h.sim.stats().calls['POST /orgs/{owner}/actions/runners/generate-jitconfig']).toBe(1);
    expect(host.created).toContain(runnerName);
    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({ slotReleasedBy: 'orchestrator' });
    expect((await getJob(h.dynamodb, h.tableName, jobId))!.slotPool).toBeUndefined();
  }, 60_000);

  it('a teardown while the host is being made: the launch removes the host and the registration, none outlives the slot', async () => {
    const jobId = 90_000_002;
    const runnerName = await dispatched(jobId);
    holdAt.set(runnerName, 'host');

    expect(await h.invoke([launchMessage(POOL, jobId), cancelled(jobId, runnerName)])).toEqual({ batchItemFailures: [] });

    // The host was made after the slot had gone: the launch saw it when recording it, and removed it.
    expect(host.created).toContain(runnerName);
    expect(await left(runnerName)).toEqual({ hosts: 0, registrations: 0 });
    expect((await getJob(h.dynamodb, h.tableName, jobId))!.slotPool).toBeUndefined();
  }, 60_000);

  it('twenty launches and their teardowns in one batch, in any order: nothing left, never a host without its slot', async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => 90_000_100 + i);
    const names = await Promise.all(jobs.map((jobId) => dispatched(jobId)));
    // Spread over the steps: some teardowns land before the registration, some during host creation, some after.
    names.forEach((name, i) => holdAt.set(name, { jitterMs: (i * 37) % 400 }));
    const messages = jobs.flatMap((jobId, i) =>
      i % 2 === 0 ? [launchMessage(POOL, jobId), cancelled(jobId, names[i]!)] : [cancelled(jobId, names[i]!), launchMessage(POOL, jobId)],
    );

    // Ten records per batch, as the event source mapping delivers them.
    for (let i = 0; i < messages.length; i += 10) expect(await h.invoke(messages.slice(i, i + 10))).toEqual({ batchItemFailures: [] });

    for (const name of names) expect(await left(name)).toEqual({ hosts: 0, registrations: 0 });
    for (const jobId of jobs) expect((await getJob(h.dynamodb, h.tableName, jobId))!.slotPool).toBeUndefined();
  }, 120_000);

  it('a takeover never kills a live attempt: the stale one, come back, finds the claim not its own and removes nothing', async () => {
    const jobId = 90_000_200;
    const runnerName = await dispatched(jobId);
    const t0 = Date.now();
    let reached!: () => void;
    let release!: () => void;
    const atRegistration = new Promise<void>((r) => (reached = r));
    const held = new Promise<void>((r) => (release = r));
    // Attempt A stalls just before registering (a slow Lambda); B is the message delivered again after the stale window.
    const stalled = Object.assign(Object.create(h.client) as GitHubClient, {
      generateJitConfig: async (...args: Parameters<GitHubClient['generateJitConfig']>) => {
        reached();
        await held;
        return h.client.generateJitConfig(...args);
      },
    });
    const portsAt = (now: number, github: GitHubClient): OrchestratorPorts => ({
      config,
      host,
      github,
      launches: h.launches,
      slots: h.dispatch,
      now: () => now,
      sleep: async () => undefined,
      limits: DEFAULT_LIMITS,
    });
    const a = launch(launchMessage(POOL, jobId), portsAt(t0, stalled));
    await atRegistration;

    expect(await launch(launchMessage(POOL, jobId), portsAt(t0 + DEFAULT_LIMITS.staleClaimMs + 1, h.client))).toBe('launched');
    release();

    expect(await a).toBe('lost-ownership');
    // B's registration and host untouched; the record is B's.
    expect(await left(runnerName)).toEqual({ hosts: 1, registrations: 1 });
    expect(await getJob(h.dynamodb, h.tableName, jobId)).toMatchObject({ launchState: 'created', launchClaimedAt: t0 + DEFAULT_LIMITS.staleClaimMs + 1 });
  }, 60_000);
});
