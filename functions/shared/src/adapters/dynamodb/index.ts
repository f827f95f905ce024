/* The Jobs table on DynamoDB: the stores every function's ports are implemented with. */
export * from './jobs-table-access';
export * from './update-builder';
export * from './dynamodb-job-store';
export * from './dynamodb-dispatch-store';
export * from './dynamodb-launch-store';
export * from './dynamodb-notice-store';
export * from './dynamodb-delivery-log';
export * from './dynamodb-listener-lease';
