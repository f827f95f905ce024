/* The producer's API: its handler factory and what it is made of. The Lambda entry (cold-start wiring) is lambda.ts. */
export * from './producer-handler';
export * from './webhook-secret';
export * from './config';
export * from './contract';
