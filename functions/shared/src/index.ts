/*
 * The domain core: pools and routing, the job state machine and record, dispatch (capacity, fair share, runner names,
 * messages), launch and notice rules — pure code and the ports (interfaces) its adapters implement. No AWS SDK and no
 * Octokit here: those live in the adapters, each a subpath of its own (`@runners/shared/dynamodb`, `/sns`, `/ssm`,
 * `/github`, `/tracing`, `/aws-calls`), so a bundle carries only the adapters its function calls.
 */
export * from './errors';
export * from './zod-issues';
export * from './environment';
export * from './pools/pools-config';
export * from './pools/routing';
export * from './pools/warm-slots';
export * from './pools/warm-schedule';
export * from './pools/official-runner-image';
export * from './pools/throughput';
export * from './deployment/deployment-label';
export * from './jobs/job-state';
export * from './jobs/jobs-table';
export * from './jobs/job-record';
export * from './jobs/job-store';
export * from './jobs/accept-job-event';
export * from './jobs/scale-set-jobs';
export * from './jobs/listener-lease';
export * from './webhooks/workflow-job-event';
export * from './dispatch/messages';
export * from './dispatch/runner-name';
export * from './dispatch/capacity';
export * from './dispatch/fair-share';
export * from './dispatch/dispatch-store';
export * from './dispatch/dispatch-bus';
export * from './launch/launch-store';
export * from './launch/runner-invocation';
export * from './deliveries/redelivery';
export * from './notices/job-notice';
export * from './github/github-model';
