/* The notifier's API: its handler factory and the notices it writes. The Lambda entry is lambda.ts. */
export * from './notifier-handler';
export * from './notify';
export * from './config';
export * from './contract';
