/* The publisher's API: its handler factory and the publish round. The Lambda entry is lambda.ts. */
export * from './publisher-handler';
export * from './publish-round';
export * from './config';
export * from './contract';
