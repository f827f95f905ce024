export * from './deployment-contract';
