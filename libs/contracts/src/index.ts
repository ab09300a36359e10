export * from './fs-entry';
