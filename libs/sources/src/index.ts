export * from './files/walk-files';
export * from './stdin/stdin-source';
