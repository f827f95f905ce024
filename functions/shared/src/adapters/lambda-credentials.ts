import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';

/*
 * The AWS SDK's credential chain as the function bundles have it: environment variables only. Lambda gives a function
 * its execution role's credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (Lambda developer
 * guide, "Defined runtime environment variables"), the first place the SDK's default chain looks; the rest of that
 * chain (profiles, SSO, web identity, the container and instance metadata endpoints, with the STS and SSO clients
 * they carry: ~90 KB of each bundle) is never reached there. scripts/build-functions.ts puts this module in place of
 * `@aws-sdk/credential-provider-node` in the bundles only; tests and tools keep the full chain.
 */
export const defaultProvider = (init: FromEnvInit = {}) => fromEnv(init);
