/*
 * The official runner image, ghcr.io/actions/actions-runner (actions/runner, images/Dockerfile): user `runner`, uid
 * 1001, in the groups `sudo` and `docker` (gid 123), the runner unpacked in its home /home/runner, no ENTRYPOINT —
 * actions-runner-controller starts it with `command: ["/home/runner/run.sh"]`. One statement of these facts for the
 * pools config's default, the EKS pod spec and the simulated runner's image that stands in for it.
 */
export const OFFICIAL_RUNNER_IMAGE = {
  user: 'runner',
  uid: 1001,
  dockerGid: 123,
  home: '/home/runner',
  runScript: '/home/runner/run.sh',
} as const;
