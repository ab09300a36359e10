/*
 * The start-up steps main.ts runs, in one module so that they (and the framework behind
 * them) load only once the configuration is known to be good: `--help` and configuration
 * errors answer at once.
 */
export { agentGatewayPort, announceReady, checkMasterKey, createApp, ensureInitialAdmin, listen } from './application';
export { removeControllerState, writeControllerState } from './controller-state-file';
export { ensureDataDir } from './data-dir';
export { ControllerLogger } from './logger';
export { loadOrCreateMasterKey } from './master-key';
export { ShutdownSequence } from './shutdown-sequence';
export { startEmbeddedDatabase } from '../database/embedded-database';
export { connectToExternalDatabase } from '../database/external-database';
