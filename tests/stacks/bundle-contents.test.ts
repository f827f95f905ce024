import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { functionEntries } from '../../scripts/build-functions';

/*
 * What each shipped bundle is made of (dist/.meta/<function>.json, esbuild's metafile from `make build`): no module
 * its function never calls. Each function's list names what it must not carry; a package that lands in a bundle
 * through a barrel or a side effect fails here, with the importer chain that pulled it in.
 */

const root = resolve(import.meta.dirname, '..', '..');

/**
 * Nowhere: the old cron library, the SDK credential chain beyond the environment's, zod's non-English locales, and the
 * client libraries whose few requests the hosts make themselves (dockerode with SSH and gRPC, the Kubernetes client).
 */
const NOWHERE = [
  'dockerode',
  'docker-modem',
  'ssh2',
  '@grpc/grpc-js',
  'protobufjs',
  '@kubernetes/client-node',
  'cron-parser',
  'luxon',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/nested-clients',
  'zod/v4/locales/de.js',
];
const GITHUB = ['@octokit/core', '@octokit/auth-app', '@octokit/plugin-retry', '@octokit/plugin-throttling', 'bottleneck'];
const HOSTS = {
  docker: ['dockerode', 'docker-modem', 'ssh2'],
  ec2: ['@aws-sdk/client-ec2'],
  eks: ['@kubernetes/client-node', '@aws-sdk/client-eks'],
  lambda: ['@aws-sdk/client-lambda'],
} as const;
const allHostsBut = (kind?: keyof typeof HOSTS) => Object.entries(HOSTS).flatMap(([k, packages]) => (k === kind ? [] : [...packages]));

const FORBIDDEN: Record<string, readonly string[]> = {
  // Webhook intake: DynamoDB and the webhook secret, no GitHub API call, no dispatch, no cron evaluation.
  producer: [...GITHUB, ...allHostsBut(), '@aws-sdk/client-sns', 'croner', 'p-map'],
  // Stream → one SNS notification.
  messenger: [...GITHUB, ...allHostsBut(), '@aws-sdk/client-ssm', '@aws-sdk/client-dynamodb', '@aws-lambda-powertools/parameters', 'croner'],
  // Dispatch: DynamoDB and SNS, warm windows (croner); no GitHub, no secrets.
  publisher: [...GITHUB, ...allHostsBut(), '@aws-sdk/client-ssm', '@aws-lambda-powertools/parameters', '@middy/http-json-body-parser'],
  reconciler: [...allHostsBut(), '@aws-sdk/client-sns', 'croner'],
  // Scale-set intake: DynamoDB, the App (registration token), the Actions service; no dispatch, no hosts.
  listener: [...allHostsBut(), '@aws-sdk/client-sns', 'croner', '@middy/http-json-body-parser'],
  notifier: [...allHostsBut(), '@aws-sdk/client-sns', 'croner'],
  'orchestrator-docker': [...allHostsBut('docker'), '@aws-sdk/client-sns'],
  'orchestrator-ec2': [...allHostsBut('ec2'), '@aws-sdk/client-sns'],
  'orchestrator-eks': [...allHostsBut('eks'), '@aws-sdk/client-sns'],
  'orchestrator-lambda': [...allHostsBut('lambda'), '@aws-sdk/client-sns'],
  // The runner Lambda runs the runner: no control-plane storage, no GitHub API, no hosts.
  'runner-lambda': [...GITHUB, ...allHostsBut(), '@aws-sdk/client-dynamodb', '@aws-sdk/client-sns', '@aws-sdk/client-ssm'],
};

interface Metafile {
  readonly inputs: Record<string, { readonly imports: readonly { readonly path: string }[] }>;
  readonly outputs: Record<string, { readonly inputs: Record<string, { readonly bytesInOutput: number }> }>;
}

/** The package a bundled file belongs to (`@scope/name` or `name`), or the file itself for a deep match. */
const packageOf = (path: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];

/** How `path` got into the bundle: the chain of importers from the entry. */
function importerChain(meta: Metafile, path: string): string[] {
  const importers = new Map<string, string>();
  for (const [file, info] of Object.entries(meta.inputs))
    for (const imported of info.imports) if (!importers.has(imported.path)) importers.set(imported.path, file);
  const chain = [path];
  for (let at = importers.get(path); at && chain.length < 12; at = importers.get(at)) chain.unshift(at);
  return chain.map((p) => p.replace(/.*node_modules\//, ''));
}

describe('bundle contents', () => {
  it('has a forbidden-module list for every function that ships', () => {
    expect(Object.keys(FORBIDDEN).sort()).toEqual(
      functionEntries()
        .map((e) => e.name)
        .sort(),
    );
  });

  it.each(Object.entries(FORBIDDEN))('%s carries none of the modules it never calls', (name, forbidden) => {
    const file = resolve(root, 'dist', '.meta', `${name}.json`);
    if (!existsSync(file)) throw new Error(`${file} is missing: run "make build" first`);
    const meta = JSON.parse(readFileSync(file, 'utf8')) as Metafile;
    const bundled = Object.entries(Object.values(meta.outputs).find((o) => Object.keys(o.inputs).length > 0)!.inputs)
      .filter(([, i]) => i.bytesInOutput > 0)
      .map(([path]) => path);

    const found = [...NOWHERE, ...forbidden].flatMap((module) => {
      const hit = bundled.find((path) => packageOf(path) === module || path.includes(`node_modules/${module}`));
      return hit ? [`${module}: ${importerChain(meta, hit).join(' → ')}`] : [];
    });

    expect(found).toEqual([]);
  });
});
