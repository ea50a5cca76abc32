export * from './org';
export * from './scheme';
export * from './campaign';
export * from './self-evaluation';
export * from './infra';
export * from './grading';
export * from './ledger';
