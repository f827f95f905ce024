import * as z from 'zod';

/*
 * What the Lambda orchestrator sends the runner Lambda (asynchronous invoke): the runner's single-use JIT config in
 * the start request itself, so the runner Lambda's role needs no access to any other runner's config (it has none
 * to any). The handler never logs the event.
 */
export const runnerInvocation = z.strictObject({
  runnerName: z.string().regex(/^[a-z0-9-]{1,128}$/),
  pool: z.string().min(1),
  jobId: z.int().positive(),
  /** GitHub's encoded_jit_config (base64), several KB; an asynchronous invocation carries up to 256 KB. */
  encodedJitConfig: z
    .string()
    .regex(/^[A-Za-z0-9+/=]+$/)
    .max(200_000),
  traceHeader: z.string().optional(),
});

export type RunnerInvocation = z.infer<typeof runnerInvocation>;
