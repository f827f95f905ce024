/* The host kinds behind one contract (host.ts), and what each needs deployed. */
export * from './host';
export * from './docker-host';
export * from './docker-engine';
export * from './ec2/ec2-host';
export * from './ec2/bootstrap';
export * from './ec2/ami-contract';
export * from './ec2/instance-contract';
export * from './ec2/contract';
export * from './eks/eks-host';
export * from './eks/eks-client';
export * from './eks/eks-token';
export * from './eks/runner-pod';
export * from './eks/contract';
export * from './lambda-host';
export * from './lambda-contract';
