import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DescribeImagesCommand, DescribeInstanceAttributeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { PoolsConfig } from '@runners/shared';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Ec2Host } from '@runners/orchestrators/hosts';
import { ec2HostUnderIam } from '../helpers/ec2';
import { AMI_CONTRACT } from '@runners/orchestrators/contract';
import { linuxBootstrap, windowsBootstrap } from '@runners/orchestrators/hosts';
import { encodeJitConfig } from '../../sim/jit-config';
import { motoTarget } from '../helpers/aws';
import { enforcedIam } from '../helpers/iam';
import { testPoolsConfig, testPoolsInput } from '../helpers/pools';

/*
 * The EC2 bootstrap as it ships: the user data the EC2 host put on the instance (read back from EC2), run with bash
 * and the real aws CLI, as the instance's own session of the runner-instance role the stacks synthesize (with its
 * `ec2:SourceInstanceARN`), against the local AWS under enforced IAM. `run.sh`, `shutdown` and `sleep` are recording
 * doubles (the runner's own contract is tested elsewhere). It reads its runner's JIT config — 8 KB and 16 KB ones,
 * split over Standard parameters — and cannot read, delete or list another runner's.
 */

const AWS_CLI_DIR = resolve('.venv/bin');

function run(file: string, args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) =>
      done({ status: error ? Number((error as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}
const config: PoolsConfig = testPoolsConfig({
  pools: [
    ...testPoolsInput().pools.filter((p) => p.host !== 'ec2'),
    {
      name: 'ec2-linux',
      host: 'ec2',
      os: 'linux',
      arch: 'x64',
      labels: ['vm'],
      maxRunners: 4,
      launchesPerMinute: 10,
      ec2: { instanceTypes: ['m7g.large'], image: { amiId: 'ami-0123456789abcdef0' } },
    },
  ],
});
const pool = config.pools.find((p) => p.name === 'ec2-linux')!;
const jitConfig = (runnerName: string, minBytes: number) =>
  encodeJitConfig({ url: 'https://github.example', runnerId: 1, runnerName, secret: 'runner-credential', runnerGroupId: 1 }, minBytes);

describe('EC2 bootstrap, run as the instance under enforced IAM', () => {
  let iam: Awaited<ReturnType<typeof enforcedIam>>;
  let host: Ec2Host;
  let runnerDir: string;
  const admin = motoTarget();

  beforeAll(async () => {
    if (!existsSync(join(AWS_CLI_DIR, 'aws')))
      throw new Error(`${AWS_CLI_DIR}/aws is missing: "make install" puts the aws CLI in the venv (local/requirements.txt)`);
    // An AMI the emulator has, owned by Amazon (the role may launch only images of the allowed owners).
    const { Images = [] } = await new EC2Client(admin.clientConfig).send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    iam = await enforcedIam({ pools: config, launchTemplateImage: () => Images[0]!.ImageId! });
  });
  afterAll(async () => iam?.stop());

  const setup = () => {
    runnerDir = mkdtempSync(join(tmpdir(), 'ec2-runner-'));
    host = ec2HostUnderIam(iam, 'ec2-linux', {
      ami: { linux: { runnerDir, runnerUser: 'runner' }, macos: { runnerDir, runnerUser: 'runner' }, windows: { runnerDir: 'C:\\actions-runner' } },
    });
  };

  /** The instance's user data, run once as root would run it, with the instance's credentials. */
  const boot = async (instanceId: string, options: { awsArgs?: string[] } = {}) => {
    const { UserData } = await new EC2Client(admin.clientConfig).send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }));
    const dir = mkdtempSync(join(tmpdir(), 'boot-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'calls.log');
    const tool = (path: string, body: string) => {
      writeFileSync(path, `#!/bin/bash\necho "$(basename "$0") $1" >> '${log}'\n${body}\n`);
      chmodSync(path, 0o755);
    };
    tool(join(bin, 'shutdown'), 'exit 0');
    tool(join(bin, 'sleep'), 'exit 0');
    // sudo: records the user it switches to and runs the command after `--`, keeping the variables it was told to.
    tool(
      join(bin, 'sudo'),
      'user="$(printf "%s\\n" "$@" | sed -n "/^-u$/{n;p}")"; echo "as $user" >> \'' + log + '\'; while [ "$1" != "--" ]; do shift; done; shift; exec "$@"',
    );
    tool(join(runnerDir, 'run.sh'), `printf '%s' "$ACTIONS_RUNNER_INPUT_JITCONFIG" > '${join(dir, 'jitconfig')}'`);
    const script = join(dir, 'user-data.sh');
    writeFileSync(script, Buffer.from(UserData!.Value!, 'base64'));
    const session = iam.as('runner-instance', instanceId, { 'ec2:SourceInstanceARN': `arn:aws:ec2:${admin.region}:123456789012:instance/${instanceId}` });
    const env = {
      PATH: `${bin}:${AWS_CLI_DIR}:/usr/bin:/bin`,
      HOME: dir,
      AWS_ENDPOINT_URL: session.endpoint,
      AWS_ACCESS_KEY_ID: session.clientConfig.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: session.clientConfig.credentials.secretAccessKey,
    };
    // Asynchronous: the IAM proxy answering these calls runs in this process.
    const aws = (...args: string[]) => run(join(AWS_CLI_DIR, 'aws'), args, { ...env, AWS_DEFAULT_REGION: admin.region });
    const result = options.awsArgs ? undefined : await run('bash', [script], env);
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    const ran = existsSync(join(dir, 'jitconfig')) ? readFileSync(join(dir, 'jitconfig'), 'utf8') : undefined;
    return { result, calls, ran, aws };
  };

  const exists = (name: string) =>
    new SSMClient(admin.clientConfig).send(new GetParameterCommand({ Name: name })).then(
      () => true,
      () => false,
    );

  it('reads its own 8 KB and 16 KB JIT configs, deletes them before the runner starts, runs ONE runner, powers off', async () => {
    setup();
    for (const [name, size] of [
      ['gha-ec2-linux-1-1', 8 * 1024],
      ['gha-ec2-linux-2-1', 16 * 1024],
    ] as const) {
      const config = jitConfig(name, size);
      const instance = await host.create({ runnerName: name, pool, jobId: 1, encodedJitConfig: config });

      const { ran, calls, result } = await boot(instance.id);

      expect(result?.stderr).toBe('');
      expect(ran).toBe(config);
      expect(calls.filter((c) => c.startsWith('run.sh'))).toHaveLength(1);
      // As the AMI's runner user, through sudo; the config in the environment, not in the arguments.
      expect(calls).toContain('as runner');
      expect(calls).toContain('run.sh ');
      expect(calls.at(-1)).toBe('shutdown -h');
      expect(await exists(`${host.parameterPrefix(name)}/0`)).toBe(false);
    }
    expect(iam.proxy.denials()).toEqual([]);
  }, 120_000);

  it("cannot read, delete or list another runner's JIT config; its own it can read", async () => {
    setup();
    const config = jitConfig('gha-ec2-linux-3-1', 0);
    const mine = await host.create({ runnerName: 'gha-ec2-linux-3-1', pool, jobId: 3, encodedJitConfig: config });
    await host.create({ runnerName: 'gha-ec2-linux-4-1', pool, jobId: 4, encodedJitConfig: jitConfig('gha-ec2-linux-4-1', 0) });
    const other = `${host.parameterPrefix('gha-ec2-linux-4-1')}/0`;
    const { aws } = await boot(mine.id, { awsArgs: [] });

    const read = await aws('ssm', 'get-parameters', '--names', other, '--with-decryption');
    const readOne = await aws('ssm', 'get-parameter', '--name', other, '--with-decryption');
    const remove = await aws('ssm', 'delete-parameter', '--name', other);
    const list = await aws('ssm', 'describe-parameters');
    const overwrite = await aws('ssm', 'put-parameter', '--name', other, '--value', 'x', '--type', 'SecureString', '--overwrite');
    const own = await aws(
      'ssm',
      'get-parameters',
      '--names',
      `${host.parameterPrefix('gha-ec2-linux-3-1')}/0`,
      '--with-decryption',
      '--query',
      'Parameters[0].Value',
      '--output',
      'text',
    );

    for (const refused of [read, readOne, remove, list, overwrite]) {
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/AccessDeniedException.*is not authorized to perform: ssm:/);
    }
    expect(own.status).toBe(0);
    expect(own.stdout.trim()).toBe(config.slice(0, 4096));
    expect(await exists(other)).toBe(true);
  }, 60_000);

  it('powers off without starting a runner when its config never arrives', async () => {
    setup();
    const instance = await host.create({ runnerName: 'gha-ec2-linux-5-1', pool, jobId: 5, encodedJitConfig: jitConfig('gha-ec2-linux-5-1', 0) });
    // Torn down before it booted: the parameters are gone, the instance still runs its user data.
    await host.delete('gha-ec2-linux-5-1');

    const { ran, calls, result } = await boot(instance.id);

    expect(result?.status).not.toBe(0);
    expect(ran).toBeUndefined();
    expect(calls.filter((c) => c.startsWith('sleep'))).toHaveLength(60);
    expect(calls.at(-1)).toBe('shutdown -h');
  }, 120_000);

  it('renders Linux and macOS user data that bash parses and shellcheck passes (macOS runs the same script)', async () => {
    if (!existsSync('/usr/bin/shellcheck')) throw new Error("shellcheck is missing: install Debian's shellcheck (.ci/run does)");
    for (const os of ['linux', 'macos'] as const) {
      const script = join(mkdtempSync(join(tmpdir(), 'user-data-')), 'user-data.sh');
      writeFileSync(
        script,
        linuxBootstrap({
          parameterPrefix: '/er/runners/gha-x-1-1/jit',
          chunks: 3,
          region: 'eu-west-1',
          ...AMI_CONTRACT[os],
          runnerUser: AMI_CONTRACT[os].runnerUser!,
        }),
      );
      expect(await run('bash', ['-n', script], { PATH: '/usr/bin:/bin' })).toMatchObject({ status: 0, stderr: '' });
      expect(await run('shellcheck', ['--shell=bash', '--severity=style', script], { PATH: '/usr/bin:/bin' })).toMatchObject({ status: 0, stdout: '' });
    }
  });

  it('refuses inputs a shell could interpret, in both templates; renders the Windows one with the same chunks', () => {
    const bad = { parameterPrefix: "/x'; rm -rf / #", chunks: 1, region: 'eu-west-1', runnerDir: '/opt/runner', runnerUser: '' };

    expect(() => windowsBootstrap(bad)).toThrow(/characters a shell could interpret/);
    expect(() => windowsBootstrap({ ...bad, parameterPrefix: '/er/r/jit', chunks: 11 })).toThrow(/chunks must be 1 to 10/);
    expect(() => linuxBootstrap({ ...bad, parameterPrefix: '/er/r/jit', runnerUser: 'runner; id' })).toThrow(/characters a shell could interpret/);
    expect(() => linuxBootstrap({ ...bad, parameterPrefix: '/er/r/jit' })).toThrow(/runner user/);
    const windows = windowsBootstrap({ parameterPrefix: '/er/runners/r/jit', chunks: 3, region: 'eu-west-1', runnerDir: 'C:\\actions-runner', runnerUser: '' });
    expect(windows).toContain('$names = 0..(3 - 1) | ForEach-Object { "/er/runners/r/jit/$_" }');
    expect(windows).toContain('@($found.Parameters).Count -eq 3');
    expect(windows).toContain("Set-Location 'C:\\actions-runner'");
    expect(windows).toContain('& .\\run.cmd --jitconfig $jit');
  });
});
