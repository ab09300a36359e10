import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ConnectionSupervisor } from '../connection/connection-supervisor';
import { createGatewayClient } from '../connection/gateway-client';
import { HealthCollector } from '../health/health-collector';
import { parseControllerAddress } from '../identity/controller-address';
import { IdentityStore } from '../identity/identity-store';
import { acquireRunLock } from '../identity/run-lock';
import { JobLedger } from '../jobs/job-ledger';
import { ProcessJobLauncher } from '../jobs/job-launcher';
import { JobManager } from '../jobs/job-manager';
import { agentVersion } from '../shared/agent-version';
import { ExitCode } from '../shared/exit-codes';
import { createLogger } from '../shared/logger';

/** `coffer-agent run`'s options. */
export interface RunOptions {
  dataDir: string;
  /** Extra paths to report free space for. */
  path?: string[];
}

/** The message of an agent the controller refuses for good. */
export const REVOKED_MESSAGE = 'this agent has been revoked (or is unknown) at the controller; enroll it again with a new token';

const TOMBSTONE_SWEEP_MS = 6 * 3600 * 1000;

/**
 * The agent: ReadIdentity → LockDataDir → OpenLedger (fail jobs a dead agent left running)
 * → DetectTools → ConnectForever. Returns the exit code once stopped by a signal (0) or
 * refused by the controller (1).
 */
export async function runAgent(options: RunOptions): Promise<ExitCode> {
  const logger = createLogger();
  const store = new IdentityStore(options.dataDir);
  const { identity, keyPem, certPem, caPem } = store.readCredentials();
  const address = parseControllerAddress(identity.controller);
  const releaseLock = acquireRunLock(store.dir);
  try {
    logger.info(`coffer-agent ${agentVersion()} starting as ${identity.name} (id ${identity.agentId}), data dir ${store.dir}, controller ${address.target}`);

    const ledger = new JobLedger(join(store.dir, 'jobs'));
    const { interrupted, damaged } = ledger.open();
    for (const problem of damaged) logger.warn(problem);
    for (const jobId of interrupted) logger.warn(`job ${jobId} was running when the agent stopped: recorded as failed`);
    const sweep = () => {
      try {
        ledger.pruneTombstones();
      } catch (err) {
        logger.warn(`cannot prune old job records: ${(err as Error).message}`);
      }
    };
    sweep();
    setInterval(sweep, TOMBSTONE_SWEEP_MS).unref();

    const health = new HealthCollector({ dataDir: store.dir, extraPaths: options.path });
    for (const entry of ledger.all()) health.addSourcePaths(entry.result?.snapshots.filter((s) => s.sourceKind === 'files').flatMap((s) => s.paths) ?? []);
    await health.start();

    const jobs = new JobManager({
      ledger,
      launcher: new ProcessJobLauncher(join(store.dir, 'cache')),
      agentName: identity.name,
      logger,
      onJobStarted: (request) => {
        if (request.spec.kind === 'backup') health.addSourcePaths(request.spec.sources.flatMap((s) => (s.kind === 'files' ? s.paths : [])));
      },
    });
    const credentials = grpc.credentials.createSsl(Buffer.from(caPem), Buffer.from(keyPem), Buffer.from(certPem));
    const supervisor = new ConnectionSupervisor({
      target: address.target,
      agentName: identity.name,
      createClient: () => createGatewayClient(address.target, credentials),
      jobs,
      health,
      logger,
    });

    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn(`${signal} again: exiting now`);
        process.exit(ExitCode.Failure);
      }
      stopping = true;
      logger.info(`${signal}: stopping (running jobs are stopped and recorded as failed)`);
      void jobs.shutdown().then(() => supervisor.stop());
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);

    const exit = await supervisor.run();
    health.stop();
    if (exit.kind === 'revoked') {
      logger.error(`${REVOKED_MESSAGE} (the controller said: ${exit.details})`);
      await jobs.shutdown();
      return ExitCode.Failure;
    }
    logger.info('stopped');
    return ExitCode.Success;
  } finally {
    releaseLock();
  }
}
