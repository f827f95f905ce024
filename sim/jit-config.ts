import { generateKeyPairSync, randomUUID } from 'node:crypto';

/*
 * JIT configs in GitHub's format and of GitHub's size. The real runner (actions/runner, src/Runner.Listener/Runner.cs,
 * `--jitconfig`) base64-decodes the value into a JSON object of file name → base64 file content and writes each file
 * into its root: `.runner` (settings), `.credentials` (OAuth client) and `.credentials_rsaparams` (the runner's RSA
 * key, as .NET RSAParameters). With the key inside, GitHub's encoded_jit_config is several KB — past the 4 KB of a
 * Standard SSM parameter since 2025 (terraform-aws-github-runner #4613). The simulator's are the same shape and size,
 * so a stand-in cannot hide a storage limit. Its runner authenticates with the client id it finds in `.credentials`.
 */

export interface JitRunner {
  readonly url: string;
  readonly runnerId: number;
  readonly runnerName: string;
  readonly secret: string;
  readonly runnerGroupId: number;
}

/** One 3072-bit key for the simulator's lifetime: generating one per runner would dominate a benchmark. */
let rsaParameters: Record<string, string> | undefined;
function keyParameters(): Record<string, string> {
  if (!rsaParameters) {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey.export({ format: 'jwk' });
    const b64 = (v: string | undefined) => Buffer.from(v ?? '', 'base64url').toString('base64');
    rsaParameters = {
      d: b64(jwk.d),
      dp: b64(jwk.dp),
      dq: b64(jwk.dq),
      exponent: b64(jwk.e),
      inverseQ: b64(jwk.qi),
      modulus: b64(jwk.n),
      p: b64(jwk.p),
      q: b64(jwk.q),
    };
  }
  return rsaParameters;
}

const file = (content: unknown) => Buffer.from(JSON.stringify(content, null, 2)).toString('base64');

/** `minBytes` pads `.runner` (a test knob: /_sim/jit-config) so configs of a given size can be tried. */
export function encodeJitConfig(runner: JitRunner, minBytes = 0): string {
  const settings = {
    agentId: runner.runnerId,
    agentName: runner.runnerName,
    poolId: runner.runnerGroupId,
    poolName: runner.runnerGroupId === 1 ? 'Default' : `group-${runner.runnerGroupId}`,
    serverUrl: `${runner.url}/_runner/pipelines/${randomUUID()}`,
    gitHubUrl: runner.url,
    workFolder: '_work',
    ephemeral: true,
    disableUpdate: false,
    useV2Flow: true,
    serverUrlV2: `${runner.url}/_runner`,
  };
  const encode = (padding: string) =>
    Buffer.from(
      JSON.stringify({
        '.runner': file(padding ? { ...settings, padding } : settings),
        '.credentials': file({
          scheme: 'OAuth',
          data: { clientId: runner.secret, authorizationUrl: `${runner.url}/_runner/oauth2/token`, requireFipsCryptography: 'False' },
        }),
        '.credentials_rsaparams': file(keyParameters()),
      }),
    ).toString('base64');
  const plain = encode('');
  if (plain.length >= minBytes) return plain;
  // Each padding character costs about 16/9 encoded characters (two base64 layers).
  return encode('x'.repeat(Math.ceil(((minBytes - plain.length) * 9) / 16) + 16));
}
