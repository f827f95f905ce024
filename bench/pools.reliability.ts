/*
 * The reliability benchmark's pools: the demo's two Docker pools (same names and labels), with limits raised so a
 * 1,000-job burst is not mostly waiting for a slot on a small machine.
 */
import { definePoolsConfig } from '@runners/shared';

const image = 'ephemeral-runners/sim-runner:latest';

export default definePoolsConfig({
  github: { scope: 'org', runnerGroup: 'Default' },
  pools: [
    {
      name: 'docker-linux',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['docker'],
      maxRunners: 8,
      launchesPerMinute: 120,
      docker: { image, cpus: 0.5, memoryMb: 256 },
    },
    {
      name: 'docker-large',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['docker', 'large'],
      maxRunners: 4,
      launchesPerMinute: 60,
      docker: { image, cpus: 0.5, memoryMb: 256 },
    },
  ],
});
