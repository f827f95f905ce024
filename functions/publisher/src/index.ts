/* The publisher's API: its handler factory, the publish round and its steps. The Lambda entry is lambda.ts. */
export * from './publisher-handler';
export * from './publish-round';
export * from './finished-jobs';
export * from './launch-queued';
export * from './idle-runners';
export * from './warm-slots';
export * from './config';
export * from './contract';
