/* GitHub through Octokit: the App's client, its credentials (SSM), call metrics. */
export * from './github-client';
export * from './app-credentials';
export * from './call-metrics';
