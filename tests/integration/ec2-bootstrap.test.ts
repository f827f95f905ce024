import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linuxBootstrap, windowsBootstrap } from '../../functions/orchestrators/src/hosts/ec2/bootstrap';

/*
 * The Linux bootstrap, run for real with bash; `aws`, `run.sh` and `shutdown` are recording doubles on PATH / in the
 * runner folder, each appending its command line to one log, so the order of what happened is visible.
 */

function sandbox(options: { awsFails?: 'get' | 'delete'; runnerExit?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-'));
  const log = join(dir, 'calls.log');
  const bin = join(dir, 'bin');
  const runnerDir = join(dir, 'runner');
  spawnSync('mkdir', ['-p', bin, runnerDir]);
  const tool = (path: string, body: string) => {
    writeFileSync(path, `#!/bin/bash\necho "$(basename "$0") $*" >> '${log}'\n${body}\n`);
    chmodSync(path, 0o755);
  };
  tool(
    join(bin, 'aws'),
    [
      `if [ "$2" = get-parameter ]; then ${options.awsFails === 'get' ? 'exit 254' : "echo 'ENCODED-JIT-CONFIG'"}; fi`,
      `if [ "$2" = delete-parameter ]; then ${options.awsFails === 'delete' ? 'exit 254' : 'true'}; fi`,
    ].join('\n'),
  );
  tool(join(bin, 'shutdown'), 'exit 0');
  tool(join(runnerDir, 'run.sh'), `exit ${options.runnerExit ?? 0}`);
  const script = join(dir, 'user-data.sh');
  writeFileSync(script, linuxBootstrap({ parameterName: '/er/runners/gha-ec2-linux-42-1/jit', region: 'eu-west-1', runnerDir }));
  const result = spawnSync('bash', [script], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
  const calls = readFileSync(log, 'utf8').trim().split('\n');
  return { result, calls };
}

describe('EC2 Linux bootstrap (bash, recording doubles)', () => {
  it('reads and deletes the JIT parameter, runs the runner with it, then powers off', () => {
    const { calls } = sandbox();

    expect(calls).toEqual([
      'aws ssm get-parameter --name /er/runners/gha-ec2-linux-42-1/jit --with-decryption --query Parameter.Value --output text',
      'aws ssm delete-parameter --name /er/runners/gha-ec2-linux-42-1/jit',
      'run.sh --jitconfig ENCODED-JIT-CONFIG',
      'shutdown -h now',
    ]);
  });

  it('powers off when the JIT config cannot be read, without starting a runner', () => {
    const { calls, result } = sandbox({ awsFails: 'get' });

    expect(result.status).not.toBe(0);
    expect(calls.at(-1)).toBe('shutdown -h now');
    expect(calls.some((c) => c.startsWith('run.sh'))).toBe(false);
  });

  it('does not start a runner whose JIT config it could not delete (single use), and powers off', () => {
    const { calls } = sandbox({ awsFails: 'delete' });

    expect(calls.some((c) => c.startsWith('run.sh'))).toBe(false);
    expect(calls.at(-1)).toBe('shutdown -h now');
  });

  it('powers off when the runner fails too', () => {
    const { calls } = sandbox({ runnerExit: 3 });

    expect(calls.slice(-2)).toEqual(['run.sh --jitconfig ENCODED-JIT-CONFIG', 'shutdown -h now']);
  });

  it('refuses inputs a shell could interpret, in both templates', () => {
    const bad = { parameterName: "/x'; rm -rf / #", region: 'eu-west-1', runnerDir: '/opt/runner' };

    expect(() => linuxBootstrap(bad)).toThrow(/characters a shell could interpret/);
    expect(() => windowsBootstrap(bad)).toThrow(/characters a shell could interpret/);
    const windows = windowsBootstrap({ parameterName: '/er/runners/r/jit', region: 'eu-west-1', runnerDir: 'C:\\actions-runner' });
    expect(windows).toContain("Set-Location 'C:\\actions-runner'");
    expect(windows).toContain('& .\\run.cmd --jitconfig $jit');
  });
});
