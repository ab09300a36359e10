export * from './storage';
export * from './local/local-storage';
export * from './open-storage';
export * from './fault-injecting-storage';
export * from './retry';
export * from './s3/s3-storage';
