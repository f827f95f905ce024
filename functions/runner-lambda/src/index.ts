/* The runner Lambda's API: its handler factory and how it runs the runner. The Lambda entry is lambda.ts. */
export * from './runner-lambda-handler';
export * from './run-runner';
export * from './config';
export * from './contract';
