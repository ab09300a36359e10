export * from './fs-entry';
export * from './duration';
export * from './policy';
export * from './api';
export * from './agent-proto';
export * from './join-token';
