import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Docker from 'dockerode';
import { containerOutput } from '../../sim/images/images';
import { ensureSimRunnerImage, RUNNER_USER, SIM_RUNNER_IMAGE } from '../../sim/runner/image';
import { ORG, simControl, simulatorWithClient } from '../helpers/simulator';

/*
 * The simulated runner image has the official image's shape (ghcr.io/actions/actions-runner, actions/runner
 * images/Dockerfile), so that a host that starts it wrongly fails here as it would with the real one.
 */

describe('simulated runner image', () => {
  const docker = new Docker();
  let env: Awaited<ReturnType<typeof simulatorWithClient>>;

  beforeAll(async () => {
    await ensureSimRunnerImage(docker);
    env = await simulatorWithClient({ timing: { assignDelayMs: 100 } });
  }, 300_000);
  afterAll(async () => {
    await env.sim.stop();
  });

  /** Runs the image to its exit with `options`; returns the exit code (or the start error) and the output. */
  async function run(options: Partial<Docker.ContainerCreateOptions>): Promise<{ code: number | string; output: string }> {
    const container = await docker.createContainer({
      Image: SIM_RUNNER_IMAGE,
      Labels: { 'ephemeral-runners.test': 'sim-runner-image' },
      HostConfig: { NetworkMode: 'host' },
      ...options,
    });
    try {
      await container.start();
    } catch (error) {
      await container.remove({ force: true });
      return { code: (error as { json?: { message?: string } }).json?.message ?? String(error), output: '' };
    }
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = await containerOutput(container);
    await container.remove({ force: true });
    return { code: StatusCode, output };
  }

  async function queuedJobAndConfig(name: string) {
    const installationId = await env.client.installationId(ORG);
    const jit = await env.client.generateJitConfig(installationId, ORG, { name, labels: ['self-hosted', 'linux', 'x64', 'docker'] });
    const { jobs } = await simControl<{ jobs: { id: number }[] }>(env.sim, 'POST', '/_sim/runs', {
      owner: 'octo-org',
      repo: 'app',
      jobs: [{ labels: ['self-hosted', 'docker'], durationMs: 200 }],
    });
    return { ...jit, installationId, job: () => env.sim.model.jobs.get(jobs[0]!.id)! };
  }

  it('is shaped like the official image: user runner (1001) in docker (123) and sudo, /home/runner, no ENTRYPOINT', async () => {
    const { Config, Architecture } = await docker.getImage(SIM_RUNNER_IMAGE).inspect();
    expect(Config.User).toBe('runner');
    expect(Config.WorkingDir).toBe(RUNNER_USER.home);
    expect(Config.Entrypoint ?? null).toBeNull();
    expect(Config.Cmd).toEqual(['/bin/bash']);
    expect(Config.Env).toEqual(expect.arrayContaining(['RUNNER_MANUALLY_TRAP_SIG=1', 'ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1']));
    expect(Architecture).toBe(process.arch === 'arm64' ? 'arm64' : 'amd64');

    const { output } = await run({ Cmd: ['bash', '-c', 'id; ls -ln /home/runner/run.sh; sudo -n true && echo sudo-ok'] });
    expect(output).toMatch(/uid=1001\(runner\) gid=1001\(runner\) groups=1001\(runner\),27\(sudo\),123\(docker\)/);
    expect(output).toMatch(/-rwx.* 1001 123 .*\/home\/runner\/run\.sh/);
    expect(output).toContain('sudo-ok');
  }, 60_000);

  it('started with only arguments (no command), as a pod without `command`, it cannot start: there is no entrypoint', async () => {
    const { encodedJitConfig, job } = await queuedJobAndConfig('no-entrypoint');
    const { code } = await run({ Cmd: ['--jitconfig', encodedJitConfig] });
    expect(String(code)).toMatch(/exec: "--jitconfig": executable file not found/);
    expect(job().status).toBe('queued');
    await simControl(env.sim, 'POST', `/_sim/jobs/${job().id}/cancel`);
  }, 60_000);

  it('started as the hosts start it (run.sh, the config in ACTIONS_RUNNER_INPUT_JITCONFIG) it runs one job and exits 0', async () => {
    const { encodedJitConfig, runnerId, installationId, job } = await queuedJobAndConfig('container-runner-1');
    const { code, output } = await run({ Entrypoint: [`${RUNNER_USER.home}/run.sh`], Env: [`ACTIONS_RUNNER_INPUT_JITCONFIG=${encodedJitConfig}`] });

    expect(code).toBe(0);
    expect(output).toContain('Connected to GitHub as container-runner-1');
    expect(job()).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'container-runner-1' });
    expect(await env.client.getRunner(installationId, ORG, runnerId)).toBeUndefined();
  }, 60_000);

  it('as root (User 0) the runner refuses, with the image’s RUNNER_MANUALLY_TRAP_SIG run.sh exits 1', async () => {
    const { encodedJitConfig, job } = await queuedJobAndConfig('container-as-root');
    const { code, output } = await run({ User: '0', Entrypoint: [`${RUNNER_USER.home}/run.sh`], Env: [`ACTIONS_RUNNER_INPUT_JITCONFIG=${encodedJitConfig}`] });

    expect(code).toBe(1);
    expect(output).toContain('Must not run interactively with sudo');
    expect(job().status).toBe('queued');
    await simControl(env.sim, 'POST', `/_sim/jobs/${job().id}/cancel`);
  }, 60_000);
});
