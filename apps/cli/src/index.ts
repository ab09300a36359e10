/** The coffer command tree, for embedding and tests; the binary runs main.ts. */
export { buildProgram, runProgram } from './program';
