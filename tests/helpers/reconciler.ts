import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRouter, type PoolsConfig } from '@runners/shared';
import { DynamoDbDispatchStore, DynamoDbJobStore } from '@runners/shared/dynamodb';
import { motoTarget } from './aws';
import { enforcedIam } from './iam';
import { simulatorWithClient } from './simulator';

/**
 * A reconciler pass's ports on real parts: GitHub as the simulator (its REST shapes, ETags and 304s; `onCall` sees
 * each answer), the Jobs table on moto through the reconciler's synthesized role (enforced IAM), and a clock three
 * minutes ahead so that what a test just wrote counts as settled.
 */
export async function reconcilerFixture(config: PoolsConfig, onCall: (operation: string, status: number) => void) {
  const env = await simulatorWithClient({}, { onCall });
  const iam = await enforcedIam({ pools: config });
  const intake = {
    github: env.client,
    config,
    router: createRouter(config.pools),
    store: new DynamoDbJobStore(new DynamoDBClient(iam.as('reconciler').clientConfig), iam.tableName),
    slots: new DynamoDbDispatchStore(new DynamoDBClient(iam.as('reconciler').clientConfig), iam.tableName),
    now: () => new Date(Date.now() + 180_000),
    settleMs: 120_000,
  };
  const stop = async () => {
    await env.sim.stop();
    const { evaluated, denied } = { evaluated: iam.proxy.evaluated(), denied: iam.proxy.denials() };
    await iam.stop();
    return { evaluated, denied };
  };
  return { env, iam, tableName: iam.tableName, dynamodb: new DynamoDBClient(motoTarget().clientConfig), intake, stop };
}
