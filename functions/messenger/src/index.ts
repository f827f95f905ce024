/* The messenger's API: its handler factory and the stream rule it applies. The Lambda entry is lambda.ts. */
export * from './messenger-handler';
export * from './stream-changes';
export * from './config';
export * from './contract';
