/**
 * The controller's configuration, validated once at start-up (see load-config.ts) and
 * frozen. Injected by class: `constructor(private readonly config: AppConfig)`.
 */
export class AppConfig {
  /** Where the controller keeps its CA, master key file and embedded database. */
  readonly dataDir!: string;
  /** HTTP (REST, OpenAPI, health) listen address; port 0 picks a free port. */
  readonly httpHost!: string;
  readonly httpPort!: number;
  /** gRPC (agents) listen address; port 0 picks a free port. */
  readonly grpcHost!: string;
  readonly grpcPort!: number;
  /** PostgreSQL URL; null runs the embedded database in dataDir. */
  readonly databaseUrl!: string | null;
  /** 32-byte key that encrypts secrets (repository passwords, credentials) at rest. */
  readonly masterKey!: Buffer;
  /** Initial admin password; null means generate one and print it once. */
  readonly adminPassword!: string | null;
  /** Seconds between agent heartbeats (told to agents in Welcome). */
  readonly heartbeatIntervalSeconds!: number;
  /** An agent is offline after this many intervals without a message. */
  readonly offlineAfterMissedHeartbeats!: number;
  /** DNS names and IP addresses put into the controller's TLS certificate. */
  readonly tlsServerNames!: string[];
  /** How often the scheduler looks for due policies, milliseconds. */
  readonly schedulerTickMs!: number;
  /** How much the controller logs: error, warn, info, debug or verbose. */
  readonly logLevel!: LogLevelName;
}

/** COFFER_LOG_LEVEL values, least to most talkative. */
export const LOG_LEVEL_NAMES = ['error', 'warn', 'info', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];
