/*
 * Pools config: the single source that the stacks (what to deploy), the functions (routing, limits) and the local
 * stack (`make local`) all read. Validated at synth, at build and at every cold start; a bad field fails with a
 * message naming it (e.g. `pools[2].maxRunners: Too small: expected number to be >=1`).
 *
 * Routing: a job goes to a pool when every label of the job (`runs-on`) is among the pool's `labels` plus the labels
 * every self-hosted runner has (`self-hosted`, the OS `linux`/`windows`/`macos`, the arch `x64`/`arm64`), compared
 * case-insensitively. Several pools match → the higher `priority` wins, then the pool with the fewest extra labels,
 * then the one listed first. No pool matches → the job is recorded as unroutable and nothing is launched (GitHub-hosted
 * jobs such as `ubuntu-latest` land there; the `UnroutableJobs` metric counts them).
 *
 * Limits per pool: `maxRunners` caps the runners in flight (launching, idle or busy); `launchesPerMinute` caps how
 * fast new hosts are started, so a 256-job matrix does not hit the EC2/EKS/GitHub APIs all at once. The pools of one
 * GitHub App share its rate limit, about 180 registrations a minute (these add up to 180): past it, list more Apps in
 * `github.apps` and give pools their own (`githubApp: 'bulk-1'`); `make build` warns when a sum is over.
 */
import { definePoolsConfig } from './functions/shared/src/pools/pools-config';

export default definePoolsConfig({
  github: {
    // GitHub.com; for GitHub Enterprise Server use 'https://HOST/api/v3'.
    apiUrl: 'https://api.github.com',
    // 'org': organization runners, shared by the org's repositories, placed in a runner group.
    // 'repo': repository runners (no runner groups), for a personal account or a single repository.
    scope: 'org',
    runnerGroup: 'Default',
    // More GitHub Apps for pools to register their runners with (each pool's `githubApp`), past one App's rate limit.
    // apps: ['bulk-1'],
  },
  // Only jobs of these repositories get runners; omit the field to serve every repository the App is installed on.
  // repositories: ['my-org/*', 'other-org/one-repo'],
  runnerNamePrefix: 'gha',
  pools: [
    {
      // Containers on this machine's Docker engine: the local stack, and single-machine installs.
      // runs-on: [self-hosted, docker]  or  runs-on: [self-hosted, linux, docker]
      name: 'docker-linux',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['docker'],
      maxRunners: 4,
      launchesPerMinute: 60,
      docker: { image: 'ephemeral-runners/sim-runner:latest', cpus: 1, memoryMb: 1024 },
      // On the local stack a container stands for a spot instance, interruption warnings included (see ec2-linux).
      rerunInterruptedJobs: true,
    },
    {
      // A second container pool for bigger jobs: runs-on: [self-hosted, docker, large]. Its runners can also take
      // plain `docker` jobs when idle (GitHub gives a job to any runner whose labels cover it).
      name: 'docker-large',
      host: 'docker',
      os: 'linux',
      arch: 'x64',
      labels: ['docker', 'large'],
      maxRunners: 2,
      launchesPerMinute: 60,
      docker: { image: 'ephemeral-runners/sim-runner:latest', cpus: 2, memoryMb: 2048 },
    },
    {
      // EKS pods for high-volume lint and scan jobs: fast to start, cheap, no Docker daemon unless dockerInDocker
      // (a privileged docker:dind sidecar). The image's entrypoint must be the runner's run.sh, as in the Docker
      // pools; the JIT config reaches it from a Secret owned by the pod.
      name: 'eks-linux',
      host: 'eks',
      os: 'linux',
      arch: 'x64',
      labels: ['container', 'lint'],
      maxRunners: 200,
      launchesPerMinute: 25,
      eks: { image: 'ghcr.io/actions/actions-runner:latest', cpu: '2', memory: '4Gi', dockerInDocker: false },
    },
    {
      // EC2 Linux VMs for what needs a whole machine (Docker builds, services, big memory). Spot first, then on-demand.
      name: 'ec2-linux',
      host: 'ec2',
      os: 'linux',
      arch: 'x64',
      labels: ['vm'],
      maxRunners: 50,
      launchesPerMinute: 20,
      ec2: { instanceTypes: ['m7i.large', 'm6i.large', 'm5.large'], market: 'spot', image: { ssmParameter: '/ephemeral-runners/ami/linux-x64' } },
      // A job that fails because its spot instance was reclaimed is re-run once (the App needs Actions: write).
      rerunInterruptedJobs: true,
      // A warm pool keeps VMs booted ahead of jobs (minutes saved per job); they count against maxRunners. The owner is
      // the organization the runners register with:
      // warm: { owner: 'my-org', minIdle: 1, windows: [{ cron: '0 8 * * 1-5', durationMinutes: 600, minIdle: 5, timezone: 'Europe/Berlin' }] },
    },
    {
      // EC2 Windows VMs (runs-on: [self-hosted, windows]). Windows boots slowly: keep launchesPerMinute modest.
      name: 'ec2-windows',
      host: 'ec2',
      os: 'windows',
      arch: 'x64',
      labels: ['vm'],
      maxRunners: 10,
      launchesPerMinute: 5,
      ec2: {
        instanceTypes: ['m7i.xlarge', 'm6i.xlarge'],
        market: 'on-demand',
        image: { ssmParameter: '/ephemeral-runners/ami/windows-x64' },
        rootVolumeGb: 100,
      },
    },
    {
      // EC2 Mac (iOS builds): mac instances run on dedicated hosts (allocated for 24 h at least, scrubbed for up to
      // an hour after each instance ends), so maxRunners should not exceed the hosts you keep. Set
      // hostResourceGroupArn to a License Manager host resource group to have hosts allocated as needed; without it,
      // instances go on the account's mac dedicated hosts that have auto-placement on.
      name: 'ec2-macos',
      host: 'ec2',
      os: 'macos',
      arch: 'arm64',
      labels: ['xcode'],
      maxRunners: 2,
      launchesPerMinute: 2,
      ec2: { instanceTypes: ['mac2.metal'], market: 'on-demand', image: { ssmParameter: '/ephemeral-runners/ami/macos-arm64' }, rootVolumeGb: 200 },
    },
    {
      // Lambda-hosted runners for short jobs (functions/runner-lambda, a container image with the actions runner):
      // no Docker daemon (no container actions or services), only /tmp writable (ephemeralStorageMb, up to 10 GB),
      // linux only, and the runner is stopped 20 s before timeoutSeconds (15 minutes at most) — a longer job fails.
      // Only jobs that ask for the `lambda` label come here; higher priority so that `[self-hosted, linux, short]`
      // style jobs prefer it where both would match.
      name: 'lambda-linux',
      host: 'lambda',
      os: 'linux',
      arch: 'x64',
      labels: ['lambda', 'short'],
      maxRunners: 100,
      launchesPerMinute: 8,
      priority: 10,
      lambda: { memoryMb: 2048, timeoutSeconds: 900, ephemeralStorageMb: 4096 },
    },
  ],
});
