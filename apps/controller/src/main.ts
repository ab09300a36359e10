import 'reflect-metadata';
import type { ShutdownSequence } from './boot/shutdown-sequence';
import { StartupError } from './boot/startup-error';
import { parseCommandLine } from './config/command-line';
import { completeConfig, ConfigError, loadConfig } from './config/load-config';

/**
 * coffer-controller: load config → data dir → master key → database → Nest app (TypeORM
 * runs the migrations as it connects) → first admin → listen → controller.json → ready.
 */
async function main(shutdown: { current?: ShutdownSequence }): Promise<number> {
  const commandLine = parseCommandLine(process.argv.slice(2), { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) });
  if (!commandLine.run) return commandLine.exitCode;
  const startup = loadConfig(commandLine.options, process.env);

  const boot = await import('./boot/steps');
  const logger = new boot.ControllerLogger(startup.logLevel);
  const stop = (shutdown.current = new boot.ShutdownSequence(logger));
  stop.exitOnSignals();
  const startedAt = new Date();

  boot.ensureDataDir(startup.dataDir, logger);
  const config = completeConfig(startup, startup.masterKey ?? boot.loadOrCreateMasterKey(startup.dataDir, logger));

  const database =
    config.databaseUrl !== null ? await boot.connectToExternalDatabase(config.databaseUrl) : await boot.startEmbeddedDatabase(config.dataDir, logger);
  stop.add('database', () => database.close());

  const app = await boot.createApp(config, database, logger);
  stop.add('application', () => app.close());
  await app.init();
  await boot.checkMasterKey(app);
  await boot.ensureInitialAdmin(app, config);

  const httpUrl = await boot.listen(app, config);
  const grpcPort = boot.agentGatewayPort(app, logger);
  boot.writeControllerState(config.dataDir, { pid: process.pid, httpUrl, grpcPort, startedAt: startedAt.toISOString() });
  stop.add('controller.json', () => boot.removeControllerState(config.dataDir));

  logger.log(`started in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s (${database.embedded ? 'embedded database' : 'PostgreSQL'})`);
  boot.announceReady(httpUrl, config, grpcPort);
  return 0;
}

/** Start-up failures a person can act on are one line on stderr; a bug also shows its stack at debug level. */
function reportStartupFailure(err: unknown): number {
  if (err instanceof ConfigError || err instanceof StartupError) {
    process.stderr.write(`coffer-controller: ${err.message}\n`);
    return err instanceof StartupError ? err.exitCode : 2;
  }
  const error = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`coffer-controller: cannot start: ${error.message}\n`);
  if (/^(debug|verbose)$/i.test(process.env.COFFER_LOG_LEVEL ?? '')) process.stderr.write(`${error.stack}\n`);
  return 1;
}

const shutdown: { current?: ShutdownSequence } = {};
main(shutdown).then(
  (exitCode) => {
    if (exitCode !== 0) process.exit(exitCode);
  },
  async (err: unknown) => {
    const exitCode = reportStartupFailure(err);
    await shutdown.current?.closeAll();
    process.exit(exitCode);
  },
);
