import { Command, CommanderError } from 'commander';

/** Options given on the command line; each one overrides its environment variable. */
export interface CommandLineOptions {
  dataDir?: string;
  httpHost?: string;
  httpPort?: string;
  grpcHost?: string;
  grpcPort?: string;
}

/** What parsing the command line decided: run with these options, or exit (help shown, or a usage error printed). */
export type CommandLineOutcome = { run: true; options: CommandLineOptions } | { run: false; exitCode: number };

const ENVIRONMENT_HELP = `
Every option can also be set in the environment (the option wins):
  COFFER_DATA_DIR             --data-dir: CA, master key, embedded database (created, mode 700)
  COFFER_HTTP_HOST            --http-host (default 127.0.0.1)
  COFFER_HTTP_PORT            --http-port (default 8080; 0 picks a free port)
  COFFER_GRPC_HOST            --grpc-host (default 0.0.0.0)
  COFFER_GRPC_PORT            --grpc-port (default 7443; 0 picks a free port)

Environment only:
  DATABASE_URL                postgres://user:password@host:5432/database; unset runs an
                              embedded database in DATA_DIR/db (one controller only)
  COFFER_MASTER_KEY           32 bytes as base64 or 64 hex digits; encrypts repository secrets.
                              Unset: DATA_DIR/master.key, created on first start
  COFFER_ADMIN_PASSWORD       password of the first user "admin"; unset: generated and
                              printed once on first start
  COFFER_HEARTBEAT_INTERVAL   how often agents send heartbeats (default 10s)
  COFFER_OFFLINE_AFTER_MISSED heartbeats missed before an agent is offline (default 3)
  COFFER_TLS_SERVER_NAMES     extra DNS names / IP addresses for the controller's TLS
                              certificate, comma-separated
  COFFER_SCHEDULER_TICK       how often due policies are looked for (default 1s; "200ms" works)
  COFFER_LOG_LEVEL            error, warn, info (default), debug or verbose

Exit codes: 0 stopped cleanly, 1 could not start or failed, 2 invalid configuration.`;

/** Parses `coffer-controller [options]`; prints help or usage errors itself. */
export function parseCommandLine(argv: string[], write: { out: (text: string) => void; err: (text: string) => void }): CommandLineOutcome {
  const program = new Command('coffer-controller')
    .description('Coffer controller: policies, schedules, catalog and the REST API; agents dial in over gRPC')
    .option('--data-dir <dir>', 'directory for the controller state (default: $COFFER_DATA_DIR)')
    .option('--http-host <host>', 'address for the REST API and health checks')
    .option('--http-port <port>', 'port for the REST API and health checks')
    .option('--grpc-host <host>', 'address agents connect to')
    .option('--grpc-port <port>', 'port agents connect to')
    .helpOption('-h, --help', 'show help')
    .addHelpText('after', ENVIRONMENT_HELP)
    .exitOverride()
    .configureOutput({
      writeOut: write.out,
      writeErr: write.err,
      outputError: (text, writeError) => writeError(`coffer-controller: ${text.replace(/^error: /, '')}`),
    });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help exits 0; a usage mistake is a configuration mistake.
      return { run: false, exitCode: err.exitCode === 0 ? 0 : 2 };
    }
    throw err;
  }
  return { run: true, options: program.opts<CommandLineOptions>() };
}
