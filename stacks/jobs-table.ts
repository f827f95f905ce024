import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { JOBS_TABLE, jobsTableKeyAttributes } from '@runners/shared';
import { Construct } from 'constructs';

export interface JobsTableProps {
  readonly name: string;
  /** Refuse `terraform destroy` of the table unless turned off first (on by default: it holds in-flight jobs). */
  readonly deletionProtection?: boolean;
}

/** The Jobs table, from the definition the store and the local stack use: key, sparse queue index, stream, TTL. */
export class JobsTable extends Construct {
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: JobsTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, 'table', {
      name: props.name,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: JOBS_TABLE.partitionKey.name,
      attribute: jobsTableKeyAttributes().map((a) => ({ name: a.name, type: a.type })),
      globalSecondaryIndex: Object.values(JOBS_TABLE.indexes).map((index) => ({
        name: index.name,
        hashKey: index.partitionKey.name,
        rangeKey: index.sortKey.name,
        ...(index.projection === 'ALL' ? { projectionType: 'ALL' } : { projectionType: 'INCLUDE', nonKeyAttributes: [...index.projection.include] }),
      })),
      streamEnabled: true,
      streamViewType: JOBS_TABLE.streamView,
      ttl: { attributeName: JOBS_TABLE.ttlAttribute, enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: props.deletionProtection ?? true,
    });
  }
}
