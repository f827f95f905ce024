import * as z from 'zod';
import { ConfigError, type ConfigIssue } from '../errors';
import { formatPath } from '../zod-issues';
import { WARM_SLOTS_PER_POOL, warmIdCollision } from './warm-slots';
import { longestRunnerName, MAX_RUNNER_NAME_LENGTH } from '../dispatch/runner-name';
import { OFFICIAL_RUNNER_IMAGE } from './official-runner-image';

/*
 * The pools config: the single source for the stacks (what to deploy), the functions (routing, limits) and the local
 * stack. Validated strictly: an unknown key is an error, so a typo never becomes a silent default.
 */

const GITHUB_NAME = /^[A-Za-z0-9_.-]+$/;

const label = z
  .string()
  .trim()
  .min(1, 'a label cannot be empty')
  .max(256, 'a label has at most 256 characters')
  .refine((value) => !value.includes(','), 'a label cannot contain a comma');

const repositoryPattern = z.string().refine((value) => {
  const [owner, name, ...rest] = value.split('/');
  return rest.length === 0 && !!owner && GITHUB_NAME.test(owner) && !!name && (name === '*' || GITHUB_NAME.test(name));
}, 'expected "owner/repository" or "owner/*"');

const warmWindow = z
  .strictObject({
    /** When the window opens, e.g. "0 8 * * 1-5" (weekdays 08:00). */
    cron: z.string(),
    durationMinutes: z
      .int()
      .min(1)
      .max(7 * 24 * 60),
    minIdle: z
      .int()
      .min(0)
      .max(WARM_SLOTS_PER_POOL - 1),
    /** IANA time zone of the cron expression. */
    timezone: z.string().default('UTC').refine(isTimeZone, 'unknown time zone (expected an IANA name such as "Europe/Berlin")'),
  })
  .superRefine((window, ctx) => {
    // The full check takes a cron library (checks.cron); this one costs nothing where windows are never evaluated.
    if (window.cron.trim().split(/\s+/).length !== 5)
      ctx.addIssue({
        code: 'custom',
        path: ['cron'],
        message: `invalid cron "${window.cron}": expected 5 cron fields: minute hour day-of-month month day-of-week`,
      });
  });

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Runners kept registered and idle ahead of jobs (see warm-pool.ts); they count against maxRunners. */
const warmPool = z.strictObject({
  /** The organization (org scope) or repository owner (repo scope) the warm runners register with. */
  owner: z.string().regex(GITHUB_NAME),
  /** Repo scope only: the repository the warm runners register on. */
  repo: z.string().regex(GITHUB_NAME).optional(),
  minIdle: z
    .int()
    .min(0)
    .max(WARM_SLOTS_PER_POOL - 1)
    .default(0),
  idleTimeoutMinutes: z
    .int()
    .min(1)
    .max(24 * 60)
    .default(10),
  windows: z.array(warmWindow).default([]),
});

/** A GitHub App's name in this config (SSM parameter paths and environment variables carry it). */
const appName = z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, 'expected 1-20 lowercase letters, digits or "-", starting with a letter');

/** The App that sends the webhooks, and registers the runners of every pool that names no other. */
export const DEFAULT_GITHUB_APP = 'default';

const poolCommon = {
  /** Used in queue, runner and host names: short, lowercase, DNS-safe. */
  name: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'expected 1-32 lowercase letters, digits or "-", not starting or ending with "-"'),
  os: z.enum(['linux', 'windows', 'macos']),
  arch: z.enum(['x64', 'arm64']),
  labels: z.array(label).min(1, 'a pool needs at least one label of its own'),
  maxRunners: z.int().min(1).max(10_000),
  launchesPerMinute: z.int().min(1).max(1_000),
  priority: z.int().min(-1_000).max(1_000).default(0),
  /** Org scope only: overrides `github.runnerGroup` for this pool. */
  runnerGroup: z.string().min(1).optional(),
  /**
   * The GitHub App that registers this pool's runners (`github.apps`): GitHub limits each App's writes (about 180
   * registrations a minute), so a fleet beyond that spreads its pools over several Apps.
   */
  githubApp: appName.default(DEFAULT_GITHUB_APP),
  warm: warmPool.optional(),
  /**
   * How the pool learns of its jobs: `webhook`, from GitHub's workflow_job webhooks to the producer; `scaleset`, from
   * a runner scale set of its own on GitHub, whose job messages a listener pulls (no public endpoint; no job lost to
   * a late or failed webhook delivery).
   */
  intake: z.enum(['webhook', 'scaleset']).default('webhook'),
  /** `intake: 'scaleset'`: where its scale set is registered, and its name. */
  scaleSet: z
    .strictObject({
      /** The organization (org scope) or the repository's owner (repo scope). */
      owner: z.string().regex(GITHUB_NAME),
      /** Repo scope only: the repository. */
      repo: z.string().regex(GITHUB_NAME).optional(),
      /**
       * Unique in its runner group, and the scale set's first label (`runs-on` can name it). Default: the pool's name;
       * two deployments in one organization give theirs different names (one scale set has one listener).
       */
      name: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 letters, digits, ".", "_" or "-"')
        .optional(),
    })
    .optional(),
  /**
   * A runner launched for a job that GitHub has not given any job this long after its host came up is removed and
   * its job given up ("never assigned": a runner-group policy, a public repository, labels another runner owns).
   */
  idleLimitMinutes: z
    .int()
    .min(5)
    .max(24 * 60)
    .default(60),
  /** No host lives longer: past it, removed once GitHub says its runner is idle (a busy one only past GitHub's own job limit). */
  maxLifetimeHours: z
    .int()
    .min(1)
    .max(5 * 24)
    .default(24),
  /**
   * A job that failed because its host was interrupted (an EC2 spot interruption warning for it came first) is re-run
   * once through GitHub's API. The App then needs Actions: write.
   */
  rerunInterruptedJobs: z.boolean().default(false),
  /**
   * When this pool gives up launching a job's runner (a permanent failure, or every attempt failed), cancel the job's
   * workflow run instead of letting it wait for GitHub's 24 h queue timeout. GitHub cancels runs, not single jobs; the
   * App then needs Actions: write.
   */
  cancelJobsItCannotRun: z.boolean().default(false),
  /** Alarm when the p95 of the pool's time to runner (queued → a runner took the job, GitHub's times) exceeds this over 15 minutes. */
  timeToRunnerAlarmMinutes: z
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
};

/**
 * The runner's start script in a container image: the official `ghcr.io/actions/actions-runner` has no ENTRYPOINT
 * and the runner in /home/runner, so the host names the script (actions-runner-controller: `command:
 * ["/home/runner/run.sh"]`). The JIT config reaches it as ACTIONS_RUNNER_INPUT_JITCONFIG, which the runner reads as
 * its --jitconfig input and removes from its environment (actions/runner CommandSettings.cs): never in the arguments.
 */
const runScript = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]+$/, `expected an absolute path such as "${OFFICIAL_RUNNER_IMAGE.runScript}"`)
  .default(OFFICIAL_RUNNER_IMAGE.runScript);

const dockerPool = z.strictObject({
  ...poolCommon,
  host: z.literal('docker'),
  docker: z.strictObject({
    image: z.string().min(1),
    runScript,
    cpus: z.number().positive().max(256).optional(),
    memoryMb: z.int().min(64).optional(),
  }),
});

const ec2Pool = z.strictObject({
  ...poolCommon,
  host: z.literal('ec2'),
  ec2: z.strictObject({
    instanceTypes: z.array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'expected an instance type such as "m7i.large"')).min(1),
    /** spot falls back to on-demand on capacity errors; macOS needs dedicated hosts and ignores it. */
    market: z.enum(['spot', 'on-demand']).default('spot'),
    /** An AMI id, or an SSM parameter that holds one (resolved at deploy time). */
    image: z.union([
      z.strictObject({ amiId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'expected an AMI id such as "ami-0abc12345"') }),
      z.strictObject({ ssmParameter: z.string().startsWith('/', 'an SSM parameter name starts with "/"') }),
    ]),
    /**
     * Who may own the AMIs this pool launches (`ec2:Owner`: "amazon", "aws-marketplace" or an account id); the
     * orchestrator's role can launch no other image. Default: Amazon's and this account's ("self").
     */
    imageOwners: z
      .array(
        z.union([
          z.enum(['amazon', 'aws-marketplace', 'self']),
          z.string().regex(/^\d{12}$/, 'expected "amazon", "aws-marketplace", "self" or a 12-digit account id'),
        ]),
      )
      .min(1)
      .default(['amazon', 'self']),
    rootVolumeGb: z.int().min(8).max(16_384).default(40),
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).optional(),
    /**
     * macOS only: the License Manager host resource group whose dedicated hosts the instances go on (allocated as
     * needed). Without it, instances go on any dedicated mac host of the account with auto-placement on.
     */
    hostResourceGroupArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:resource-groups:[a-z0-9-]+:\d{12}:group\/[A-Za-z0-9_.-]+$/, 'expected a resource group ARN')
      .optional(),
  }),
});

const eksPool = z.strictObject({
  ...poolCommon,
  host: z.literal('eks'),
  eks: z.strictObject({
    image: z.string().min(1),
    runScript,
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .default('gha-runners'),
    cpu: z
      .string()
      .regex(/^\d+(\.\d+)?m?$/, 'expected a Kubernetes CPU quantity such as "2" or "500m"')
      .default('2'),
    memory: z
      .string()
      .regex(/^\d+(Mi|Gi)$/, 'expected a Kubernetes memory quantity such as "4Gi"')
      .default('4Gi'),
    nodeSelector: z.record(z.string(), z.string()).default({}),
    dockerInDocker: z.boolean().default(false),
    /** The pod is ended after this long, whatever it is doing (activeDeadlineSeconds); GitHub's default job timeout is 360. */
    maxRunMinutes: z
      .int()
      .min(10)
      .max(7 * 24 * 60)
      .default(390),
  }),
});

const lambdaPool = z.strictObject({
  ...poolCommon,
  host: z.literal('lambda'),
  lambda: z.strictObject({
    memoryMb: z.int().min(128).max(10_240).default(2_048),
    /** Lambda stops a function at 15 minutes: only short jobs belong here. */
    timeoutSeconds: z.int().min(60).max(900).default(900),
    ephemeralStorageMb: z.int().min(512).max(10_240).default(4_096),
  }),
});

const pool = z.discriminatedUnion('host', [dockerPool, ec2Pool, eksPool, lambdaPool], {
  error: 'expected host to be one of "docker", "ec2", "eks", "lambda"',
});

export const poolsConfigSchema = z
  .strictObject({
    github: z.strictObject({
      /** REST API root: https://api.github.com, GHES `https://HOST/api/v3`, or the simulator. */
      apiUrl: z.url().default('https://api.github.com'),
      /** org: organization runners (runner groups available); repo: repository runners. */
      scope: z.enum(['org', 'repo']),
      runnerGroup: z.string().min(1).optional(),
      /**
       * More GitHub Apps, besides the one that sends the webhooks ("default"), for pools to register their runners
       * with (`githubApp`). Each needs the runner permission and an installation where the default App has one, but no
       * webhook; its id and key go to SSM like the default App's.
       */
      apps: z
        .array(appName.refine((name) => name !== DEFAULT_GITHUB_APP, `"${DEFAULT_GITHUB_APP}" is the App that sends the webhooks: name the others`))
        .max(20)
        .default([]),
    }),
    /** Repository allowlist; omit it to accept every repository the GitHub App is installed on. */
    repositories: z.array(repositoryPattern).min(1, 'list at least one repository, or omit the field to allow all').optional(),
    /** Runner names are `<prefix>-<pool>-<job id>-<attempt>`. */
    runnerNamePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,15}$/)
      .default('gha'),
    pools: z.array(pool).min(1, 'configure at least one pool'),
    /**
     * Why a job waits, told on GitHub: a check run on the job's commit when no pool matches its labels, its
     * repository is not allowed, its pool gave up launching, or it has waited `waitingMinutes` in its pool's queue;
     * updated when it gets its runner. Needs the App's Checks: write permission (without it, nothing is written).
     */
    notices: z
      .strictObject({
        checkRuns: z.boolean().default(true),
        waitingMinutes: z
          .int()
          .min(1)
          .max(24 * 60)
          .default(15),
        /** Cancel the workflow run of a job no pool can run (unknown labels, repository not allowed); Actions: write. */
        cancelUnroutableJobs: z.boolean().default(false),
      })
      .default({ checkRuns: true, waitingMinutes: 15, cancelUnroutableJobs: false }),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.pools.forEach((p, index) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['pools', index, 'name'], message: `duplicate pool name "${p.name}"` });
      seen.add(p.name);
      for (const issue of poolRuleViolations(p, config.github.scope)) {
        ctx.addIssue({ code: 'custom', path: ['pools', index, ...issue.path], message: issue.message });
      }
    });
    config.pools.forEach((p, index) => {
      const longest = longestRunnerName(config.runnerNamePrefix, p.name);
      // Caught here, not as a launch GitHub refuses (422) on every tick for every job of the pool.
      if (longest > MAX_RUNNER_NAME_LENGTH)
        ctx.addIssue({
          code: 'custom',
          path: ['pools', index, 'name'],
          message: `runner names "${config.runnerNamePrefix}-${p.name}-<job id>-<attempt>" can reach ${longest} characters; GitHub allows ${MAX_RUNNER_NAME_LENGTH}: shorten the pool name or the prefix by ${longest - MAX_RUNNER_NAME_LENGTH}`,
        });
    });
    const apps = new Set([DEFAULT_GITHUB_APP, ...config.github.apps]);
    config.github.apps.forEach((app, index) => {
      if (config.github.apps.indexOf(app) !== index)
        ctx.addIssue({ code: 'custom', path: ['github', 'apps', index], message: `duplicate GitHub App "${app}"` });
    });
    config.pools.forEach((p, index) => {
      if (!apps.has(p.githubApp))
        ctx.addIssue({
          code: 'custom',
          path: ['pools', index, 'githubApp'],
          message: `no GitHub App "${p.githubApp}": list it in github.apps (${[...apps].join(', ')})`,
        });
    });
    const scaleSetNames = new Map<string, string>();
    config.pools.forEach((p, index) => {
      if (p.intake !== 'scaleset') return;
      const key = `${p.runnerGroup ?? config.github.runnerGroup ?? 'default'}/${scaleSetNameOf(p)}`.toLowerCase();
      const other = scaleSetNames.get(key);
      if (other)
        ctx.addIssue({
          code: 'custom',
          path: ['pools', index, 'scaleSet', 'name'],
          message: `pools "${other}" and "${p.name}" name the same scale set: names are unique in a runner group`,
        });
      scaleSetNames.set(key, p.name);
      // GitHub gives a job to a scale set whose labels hold all of the job's: a webhook pool's own jobs (runs-on: its
      // labels) must not fit one, or they land on the scale set, where the webhook pool's runners never get them.
      const held = new Set(scaleSetLabelsOf(p).map((l) => l.toLowerCase()));
      for (const w of config.pools) {
        if (w.intake !== 'webhook') continue;
        const targeting = ['self-hosted', ...w.labels];
        if (targeting.every((l) => held.has(l.toLowerCase())))
          ctx.addIssue({
            code: 'custom',
            path: ['pools', index, 'labels'],
            message: `the scale set of "${p.name}" (labels ${[...held].join(', ')}) also fits the jobs of webhook pool "${w.name}" (runs-on: [${targeting.join(', ')}]): GitHub would give them to the scale set; give one of the pools a label of its own`,
          });
      }
    });
    const collision = warmIdCollision(config.pools.map((p) => p.name));
    if (collision)
      ctx.addIssue({ code: 'custom', path: ['pools'], message: `pools "${collision[0]}" and "${collision[1]}" hash to the same warm slot ids: rename one` });
    if (config.github.scope === 'repo' && config.github.runnerGroup) {
      ctx.addIssue({ code: 'custom', path: ['github', 'runnerGroup'], message: 'runner groups exist only for org scope' });
    }
  });

export type PoolsConfigInput = z.input<typeof poolsConfigSchema>;
export type PoolsConfig = z.output<typeof poolsConfigSchema>;
export type Pool = PoolsConfig['pools'][number];
export type HostKind = Pool['host'];

/** The name of a scale-set pool's scale set on GitHub. */
export function scaleSetNameOf(pool: Pick<Pool, 'name' | 'scaleSet'>): string {
  return pool.scaleSet?.name ?? pool.name;
}

/**
 * A scale set's labels: its name first (as actions-runner-controller does), then what a job routed to the pool may
 * ask for — the pool's labels and a self-hosted runner's defaults — so that the same `runs-on` reaches it in either
 * intake. GitHub versions that keep one label per scale set (GHES before 3.21 without
 * DistributedTask.AllowRunnerScaleSetCustomLabels, actions/scaleset README) drop all but the name: there, runs-on names it.
 */
export function scaleSetLabelsOf(pool: Pick<Pool, 'name' | 'scaleSet' | 'labels' | 'os' | 'arch'>): string[] {
  const all = [scaleSetNameOf(pool), ...pool.labels, 'self-hosted', pool.os, pool.arch];
  return [...new Map(all.map((l) => [l.toLowerCase(), l])).values()];
}

/** The pools whose jobs come from their scale sets (a listener each). */
export const scaleSetPools = <P extends Pick<Pool, 'intake'>>(pools: readonly P[]): P[] => pools.filter((p) => p.intake === 'scaleset');

/** Rules across fields of one pool, that a per-field schema cannot express. */
function poolRuleViolations(p: Pool, scope: 'org' | 'repo'): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  if (p.os !== 'linux' && p.host !== 'ec2') {
    out.push({ path: ['os'], message: `host "${p.host}" runs linux only; ${p.os} needs host "ec2"` });
  }
  if (p.host === 'ec2' && p.os === 'macos') {
    p.ec2.instanceTypes.forEach((type, i) => {
      if (!type.startsWith('mac')) out.push({ path: ['ec2', 'instanceTypes', i], message: `macOS needs a mac instance type (mac2.metal, …), not "${type}"` });
    });
  }
  if (p.host === 'ec2' && p.os !== 'macos' && p.ec2.hostResourceGroupArn) {
    out.push({ path: ['ec2', 'hostResourceGroupArn'], message: 'dedicated hosts are used for macOS pools only' });
  }
  if (scope === 'repo' && p.runnerGroup) out.push({ path: ['runnerGroup'], message: 'runner groups exist only for org scope' });
  if (p.warm) {
    if (scope === 'repo' && !p.warm.repo) out.push({ path: ['warm', 'repo'], message: 'repo scope: name the repository the warm runners register on' });
    if (scope === 'org' && p.warm.repo)
      out.push({ path: ['warm', 'repo'], message: 'org scope: warm runners register with the organization, not a repository' });
    const most = Math.max(p.warm.minIdle, ...p.warm.windows.map((w) => w.minIdle));
    if (most > p.maxRunners)
      out.push({ path: ['warm', 'minIdle'], message: `${most} warm runners do not fit in maxRunners ${p.maxRunners} (they count against it)` });
  }
  if (p.intake === 'scaleset') {
    if (!p.scaleSet)
      out.push({ path: ['scaleSet'], message: 'intake "scaleset" needs scaleSet: { owner } (and repo, for repo scope): where its scale set is registered' });
    else if (scope === 'repo' && !p.scaleSet.repo)
      out.push({ path: ['scaleSet', 'repo'], message: 'repo scope: name the repository the scale set is registered on' });
    else if (scope === 'org' && p.scaleSet.repo)
      out.push({ path: ['scaleSet', 'repo'], message: 'org scope: the scale set is registered with the organization, not a repository' });
    if (p.warm)
      out.push({
        path: ['warm'],
        message: 'warm runners are not supported on a scale-set pool yet (its runners follow the jobs GitHub assigns to the scale set)',
      });
  } else if (p.scaleSet) out.push({ path: ['scaleSet'], message: 'scaleSet is for intake "scaleset" only' });
  const lowered = p.labels.map((l) => l.toLowerCase());
  lowered.forEach((l, i) => {
    if (lowered.indexOf(l) !== i) out.push({ path: ['labels', i], message: `duplicate label "${p.labels[i]}" (labels are case-insensitive)` });
  });
  return out;
}

/** Checks that need a library only some callers bundle. */
export interface PoolsConfigChecks {
  /**
   * The problem of a warm window's cron expression in its time zone, if any (warm-schedule.ts: cronProblem). Passed
   * where windows are evaluated (publisher, orchestrators) and where a config is built, synthesized or run locally;
   * the other functions load the config the build checked in full, without bundling the cron library.
   */
  readonly cron?: (expression: string, timezone: string) => string | undefined;
}

/** Parse and validate a pools config; throws a ConfigError listing every bad field. */
export function parsePoolsConfig(raw: unknown, source = 'pools config', checks: PoolsConfigChecks = {}): PoolsConfig {
  const result = poolsConfigSchema.safeParse(raw);
  if (result.success) {
    const cronIssues = checks.cron ? windowCronIssues(result.data, checks.cron) : [];
    if (cronIssues.length === 0) return result.data;
    throw new ConfigError(source, cronIssues);
  }
  const issues: ConfigIssue[] = result.error.issues
    .map((issue) => {
      // Unknown keys are reported on their parent: name the key itself.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      return keys.map((key) => ({
        path: formatPath(key === undefined ? issue.path : [...issue.path, key]),
        message: key === undefined ? issue.message : 'unknown field (check the spelling)',
      }));
    })
    .flat();
  throw new ConfigError(source, issues);
}

/** Typed helper for writing a config file: no runtime effect, validation happens where it is loaded. */
export function definePoolsConfig(config: PoolsConfigInput): PoolsConfigInput {
  return config;
}

/** Whether the allowlist admits `owner/repo` (GitHub names are case-insensitive). */
export function isRepositoryAllowed(config: Pick<PoolsConfig, 'repositories'>, fullName: string): boolean {
  if (!config.repositories) return true;
  const [owner = '', name = ''] = fullName.toLowerCase().split('/');
  return config.repositories.some((pattern) => {
    const [pOwner, pName] = pattern.toLowerCase().split('/');
    return pOwner === owner && (pName === '*' || pName === name);
  });
}

function windowCronIssues(config: PoolsConfig, cron: NonNullable<PoolsConfigChecks['cron']>): ConfigIssue[] {
  return config.pools.flatMap((p, index) =>
    (p.warm?.windows ?? []).flatMap((window, w) => {
      const problem = cron(window.cron, window.timezone);
      return problem
        ? [{ path: formatPath(['pools', index, 'warm', 'windows', w, 'cron']), message: `invalid cron "${window.cron}" (${window.timezone}): ${problem}` }]
        : [];
    }),
  );
}
