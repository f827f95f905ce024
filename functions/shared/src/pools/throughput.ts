import { DEFAULT_GITHUB_APP, type PoolsConfig } from './pools-config';

/*
 * What the pools' launch rates add up to against the ceilings of what they launch through. Not errors: a config may
 * mean to burst past a ceiling now and then, and the launches beyond it wait (they are retried), but its author should
 * know before the first busy Monday.
 */

/**
 * GitHub's secondary rate limit: at most 900 points a minute for REST API requests, 5 points for each POST, PATCH, PUT
 * or DELETE (docs.github.com, "Rate limits for the REST API"): one App registers at most 180 runners a minute (each
 * registration a POST of generate-jitconfig), before the deletes of runners it retires.
 */
export const GITHUB_APP_REGISTRATIONS_PER_MINUTE = 180;

/**
 * EC2 launches instances from a resource token bucket of 1,000 that refills at 2 a second per account and Region (EC2
 * API reference, "Request throttling": RunInstances): 120 instances a minute, sustained.
 */
export const EC2_INSTANCES_PER_MINUTE = 120;

/** Warnings, one sentence each, about launch rates past a ceiling; none when the config stays under them. */
export function poolsConfigWarnings(config: PoolsConfig): string[] {
  const warnings: string[] = [];
  const byApp = new Map<string, { pools: string[]; perMinute: number }>();
  for (const pool of config.pools) {
    const app = byApp.get(pool.githubApp) ?? { pools: [], perMinute: 0 };
    app.pools.push(pool.name);
    app.perMinute += pool.launchesPerMinute;
    byApp.set(pool.githubApp, app);
  }
  for (const [name, app] of byApp) {
    if (app.perMinute <= GITHUB_APP_REGISTRATIONS_PER_MINUTE) continue;
    warnings.push(
      `pools ${app.pools.join(', ')} may launch ${app.perMinute} runners a minute through GitHub App "${name}", which registers about ${GITHUB_APP_REGISTRATIONS_PER_MINUTE} a minute (GitHub's secondary rate limit): the launches beyond wait; spread the pools over more Apps (github.apps, each pool's githubApp)${name === DEFAULT_GITHUB_APP && config.github.apps.length === 0 ? '' : ' or lower their launchesPerMinute'}`,
    );
  }
  const ec2 = config.pools.filter((p) => p.host === 'ec2');
  const ec2PerMinute = ec2.reduce((sum, p) => sum + p.launchesPerMinute, 0);
  if (ec2PerMinute > EC2_INSTANCES_PER_MINUTE) {
    warnings.push(
      `the EC2 pools ${ec2.map((p) => p.name).join(', ')} may launch ${ec2PerMinute} instances a minute; EC2 launches about ${EC2_INSTANCES_PER_MINUTE} a minute sustained per account and Region (RunInstances' token bucket refills 2 a second): the launches beyond are throttled and retried`,
    );
  }
  return warnings;
}
