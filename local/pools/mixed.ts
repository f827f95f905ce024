/*
 * Both intakes in one deployment: the two webhook Docker pools of pools.config.ts, and a scale-set pool for
 * `runs-on: [self-hosted, scan]` jobs.
 *   make local POOLS_CONFIG=local/pools/mixed.ts
 * The scale-set pool's labels share none of a webhook pool's own labels: a job GitHub gives to a scale set never
 * reaches a webhook pool's runners, so each job must belong to exactly one of the two (the config check refuses a
 * scale set whose labels cover a webhook pool's jobs).
 */
import { definePoolsConfig } from '@runners/shared';

const image = 'ephemeral-runners/sim-runner:latest';

export default definePoolsConfig({
  github: { scope: 'org', runnerGroup: 'Default' },
  runnerNamePrefix: 'gha',
  pools: [
    {
      name: 'docker-linux',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['docker'],
      maxRunners: 4,
      launchesPerMinute: 60,
      docker: { image, cpus: 1, memoryMb: 1024 },
    },
    {
      name: 'docker-large',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['docker', 'large'],
      maxRunners: 2,
      launchesPerMinute: 60,
      docker: { image, cpus: 2, memoryMb: 2048 },
    },
    {
      name: 'docker-scan',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['scan'],
      maxRunners: 4,
      launchesPerMinute: 60,
      intake: 'scaleset',
      scaleSet: { owner: 'octo-org' },
      docker: { image, cpus: 1, memoryMb: 1024 },
    },
  ],
});
