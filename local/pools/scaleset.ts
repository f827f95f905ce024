/*
 * The local stack's Docker pools taking their jobs from runner scale sets instead of webhooks:
 *   make local POOLS_CONFIG=local/pools/scaleset.ts
 *   DEMO_SCENARIO=chaos make demo POOLS_CONFIG=local/pools/scaleset.ts
 * Each pool has a scale set of its own in the simulator's organization (named as the pool); its listener long-polls
 * the scale set's message queue and records the jobs GitHub assigns to it. No webhook endpoint is deployed.
 * The scale sets' labels are their names, the pools' labels and the implicit ones: a job with
 * runs-on [self-hosted, linux, docker] matches docker-linux's scale set first (GitHub gives it to one scale set).
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
      intake: 'scaleset',
      scaleSet: { owner: 'octo-org' },
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
      intake: 'scaleset',
      scaleSet: { owner: 'octo-org' },
      docker: { image, cpus: 2, memoryMb: 2048 },
    },
  ],
});
