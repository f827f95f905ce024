/* The reconciler's API: its handler factory and each pass. The Lambda entry is lambda.ts. */
export * from './reconciler-handler';
export * from './redeliver';
export * from './discover-lost-jobs';
export * from './sync-open-jobs';
export * from './remove-leaked-registrations';
export * from './repositories';
export * from './job-event-from-api';
export * from './config';
export * from './contract';
