import { afterEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installSimRunner } from '../../sim/runner/image';
import { ORG, runSimulatedRunner, simControl, simulatorWithClient, waitUntil } from '../helpers/simulator';

/*
 * The simulated runner keeps the real runner's contract (actions/runner: src/Misc/layoutroot, Runner.Listener), and
 * the simulator watches its connection as GitHub does: these are the refusals and deaths a host must survive.
 */

type Jobs = { jobs: { id: number }[] };
/** GitHub's clocks scaled down: a silent runner is offline after 1 s, a job not renewed for 2 s fails. */
const timing = { assignDelayMs: 200, offlineAfterMs: 1_000, jobLockMs: 2_000, renewEveryMs: 300, cancelTimeoutMs: 1_500 };

describe('the simulated runner and the simulator, as strict as the real ones', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0)) await fn();
  });

  async function setup() {
    const env = await simulatorWithClient({ timing });
    cleanup.push(() => env.sim.stop());
    const installationId = await env.client.installationId(ORG);
    const jit = (name: string) => env.client.generateJitConfig(installationId, ORG, { name, labels: ['self-hosted', 'linux', 'docker'] });
    const queue = (durationMs: number) =>
      simControl<Jobs>(env.sim, 'POST', '/_sim/runs', { owner: 'octo-org', repo: 'app', jobs: [{ labels: ['docker'], durationMs }] });
    const start = (config: string, env: Record<string, string> = {}) => {
      const runner = runSimulatedRunner(config, env);
      cleanup.push(() => runner.kill());
      return runner;
    };
    return { ...env, installationId, jit, queue, start };
  }

  it('unpacks as the release does: run.sh, run-helper.sh.template, config.sh, bin/Runner.Listener; _work and _diag at run time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layout-'));
    installSimRunner(dir);
    expect(readdirSync(dir).sort()).toEqual(['bin', 'config.sh', 'run-helper.sh.template', 'run.sh', 'safe_sleep.sh']);
    for (const script of ['run.sh', 'config.sh', 'bin/Runner.Listener']) expect(statSync(join(dir, script)).mode & 0o111).toBe(0o111);

    const { jit, queue, start } = await setup();
    await queue(100);
    const runner = start((await jit('layout')).encodedJitConfig);
    expect(await runner.exited).toBe(0);
    // The JIT config's files written into the root, the work folder and the diagnostics beside them.
    for (const made of ['.runner', '.credentials', '.credentials_rsaparams', '_work/app/app', '_diag']) expect(existsSync(join(runner.dir, made))).toBe(true);
  }, 30_000);

  it('refuses root without RUNNER_ALLOW_RUNASROOT ("Must not run interactively with sudo") and never comes online', async () => {
    const { sim, jit, start } = await setup();
    const { encodedJitConfig, runnerId } = await jit('as-root');

    // As the official image runs it (RUNNER_MANUALLY_TRAP_SIG=1): run.sh exits with the helper's 1.
    const trapped = start(encodedJitConfig, { RUNNER_ALLOW_RUNASROOT: '', RUNNER_MANUALLY_TRAP_SIG: '1' });
    expect(await trapped.exited).toBe(1);
    expect(trapped.output()).toContain('Must not run interactively with sudo');
    // Without it, run.sh exits 0 all the same: only GitHub's view tells that no runner came.
    const plain = start(encodedJitConfig, { RUNNER_ALLOW_RUNASROOT: '', RUNNER_MANUALLY_TRAP_SIG: '' });
    expect(await plain.exited).toBe(0);
    expect(plain.output()).toContain('Must not run interactively with sudo');
    expect(sim.model.runners.get(runnerId)?.status).toBe('offline');
  }, 30_000);

  it('cannot start in a root it cannot write (installed by root, run as another user), and says so only in its output', async () => {
    const { sim, jit } = await setup();
    const { encodedJitConfig, runnerId } = await jit('read-only-root');
    const dir = mkdtempSync(join(tmpdir(), 'root-owned-'));
    installSimRunner(dir);
    chmodSync(dir, 0o755);
    // uid 1001 (the runner user of the official image) in a directory owned by root: as an AMI that installed the
    // runner as root and starts it as another user.
    const result = await new Promise<{ code: number; output: string }>((done) =>
      execFile(
        'setpriv',
        ['--reuid=1001', '--regid=1001', '--clear-groups', join(dir, 'run.sh'), '--jitconfig', encodedJitConfig],
        { env: { ...process.env, HOME: '/tmp' } },
        (error, stdout, stderr) => done({ code: error ? Number(error.code) : 0, output: stdout + stderr }),
      ),
    );
    // run.sh copies run-helper.sh.template beside itself first (as the real one does), so it fails there already.
    expect(result.output).toMatch(/cannot create regular file .*run-helper\.sh.*Permission denied/);
    expect(result.code).toBe(0);
    expect(sim.model.runners.get(runnerId)?.status).toBe('offline');
  }, 30_000);

  it('gets its job asynchronously, after GitHub’s assignment delay, not inside the request that queued it', async () => {
    const { sim, jit, queue, start } = await setup();
    const runner = start((await jit('async')).encodedJitConfig);
    await waitUntil('the runner online', () => [...sim.model.runners.values()].some((r) => r.status === 'online' && r.waiter !== undefined));
    const { jobs } = await queue(100);
    expect(sim.model.jobs.get(jobs[0]!.id)!.status).toBe('queued');
    await waitUntil('the job assigned', () => sim.model.jobs.get(jobs[0]!.id)!.status !== 'queued');
    expect(await runner.exited).toBe(0);
    expect(sim.model.jobs.get(jobs[0]!.id)).toMatchObject({ status: 'completed', conclusion: 'success', endedBy: 'runner' });
  }, 30_000);

  it('a runner killed mid-job goes offline, and GitHub fails its job when the job request is no longer renewed', async () => {
    const { sim, client, installationId, jit, queue, start } = await setup();
    const { encodedJitConfig, runnerId } = await jit('killed');
    const { jobs } = await queue(60_000);
    const runner = start(encodedJitConfig);
    const job = () => sim.model.jobs.get(jobs[0]!.id)!;
    await waitUntil('the job running', () => job().status === 'in_progress', 10_000);

    runner.kill('SIGKILL');
    await waitUntil('the runner offline', () => sim.model.runners.get(runnerId)?.status === 'offline', 5_000);
    expect(job().status).toBe('in_progress');
    await waitUntil('the job failed', () => job().status === 'completed', 5_000);

    expect(job()).toMatchObject({ conclusion: 'failure', endedBy: 'lost-communication' });
    // The registration stays, offline and no longer busy: deleting it is the system's job (GitHub keeps an offline
    // ephemeral runner for a day).
    expect(await client.getRunner(installationId, ORG, runnerId)).toMatchObject({ status: 'offline', busy: false });
  }, 30_000);

  it('a running job cancelled stays in progress until its runner reports it cancelled; then `completed`, and the runner is gone', async () => {
    const { sim, client, installationId, jit, queue, start } = await setup();
    const { encodedJitConfig, runnerId } = await jit('cancelled-running');
    const { jobs } = await queue(60_000);
    const runner = start(encodedJitConfig);
    const job = () => sim.model.jobs.get(jobs[0]!.id)!;
    await waitUntil('the job running', () => job().status === 'in_progress', 10_000);

    await simControl(sim, 'POST', `/_sim/jobs/${jobs[0]!.id}/cancel`);
    // No `completed` yet: the runner has only been asked (a teardown on this webhook must not find its runner busy).
    expect(job().status).toBe('in_progress');
    expect(sim.model.runners.get(runnerId)?.busy).toBe(true);

    expect(await runner.exited).toBe(0);
    expect(runner.output()).toContain('completed with result: Canceled');
    expect(job()).toMatchObject({ status: 'completed', conclusion: 'cancelled', endedBy: 'cancel' });
    expect(await client.getRunner(installationId, ORG, runnerId)).toBeUndefined();
  }, 30_000);

  it('a cancelled job whose runner died ends at the server’s cancellation timeout, the dead runner no longer busy', async () => {
    const { sim, client, installationId, jit, queue, start } = await setup();
    const { encodedJitConfig, runnerId } = await jit('cancelled-dead');
    const { jobs } = await queue(60_000);
    const runner = start(encodedJitConfig);
    const job = () => sim.model.jobs.get(jobs[0]!.id)!;
    await waitUntil('the job running', () => job().status === 'in_progress', 10_000);

    runner.kill('SIGKILL');
    await simControl(sim, 'POST', `/_sim/jobs/${jobs[0]!.id}/cancel`);
    await waitUntil('the job ended', () => job().status === 'completed', 5_000);

    expect(job()).toMatchObject({ conclusion: 'cancelled' });
    // Left to the system to delete, as a dead runner's registration is: it must not stay busy for ever.
    expect(await client.getRunner(installationId, ORG, runnerId)).toMatchObject({ busy: false });
  }, 30_000);

  it('a second listener on the same registration gets a session conflict and leaves (SessionConflict)', async () => {
    const { sim, jit, start } = await setup();
    const { encodedJitConfig, runnerId } = await jit('twice');
    const first = start(encodedJitConfig);
    await waitUntil('the first online', () => sim.model.runners.get(runnerId)?.status === 'online');

    const second = start(encodedJitConfig, { SIM_RUNNER_SESSION_CONFLICT_RETRY_MS: '1500' });
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('Runner listener exit with Session Conflict error');
    expect(sim.model.runners.get(runnerId)?.status).toBe('online');
    first.kill('SIGTERM');
    // A listener told to stop deletes its session on the way out: offline at once, not after the offline interval.
    await waitUntil('the first offline', () => sim.model.runners.get(runnerId)?.status === 'offline', 900);
    await first.exited;
  }, 30_000);
});
