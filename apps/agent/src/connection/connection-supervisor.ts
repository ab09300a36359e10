import type * as grpc from '@grpc/grpc-js';
import type { agentV1 } from '@coffer/contracts';
import type { HealthCollector } from '../health/health-collector';
import type { JobManager } from '../jobs/job-manager';
import type { Logger } from '../shared/logger';
import { Backoff } from './backoff';
import { ControllerSession } from './controller-session';

/** Settings of the supervisor. */
export interface SupervisorOptions {
  target: string;
  agentName: string;
  /** Makes a fresh client per attempt, so each attempt is a fresh TLS connection on our schedule. */
  createClient: () => agentV1.AgentGatewayClient;
  jobs: JobManager;
  health: HealthCollector;
  logger: Logger;
  backoff?: Backoff;
  /** A session up at least this long after Welcome counts as "lasted": the backoff starts over. */
  stableAfterMs?: number;
}

/** Why the supervisor returned. */
export type SupervisorExit = { kind: 'revoked'; details: string } | { kind: 'stopped' };

/**
 * Keeps one session with the controller open, forever: reconnects with exponential backoff
 * and full jitter (1 s base, 60 s cap), starting over after a session that lasted. Returns
 * only when the controller refuses the agent for good (revoked or unknown) or stop() is
 * called.
 */
export class ConnectionSupervisor {
  private stopped = false;
  private session?: ControllerSession;
  private wake?: () => void;
  private readonly backoff: Backoff;

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = options.backoff ?? new Backoff();
  }

  async run(): Promise<SupervisorExit> {
    const { logger, target } = this.options;
    while (!this.stopped) {
      const client = this.options.createClient();
      this.session = new ControllerSession(client, {
        jobs: this.options.jobs,
        health: this.options.health,
        logger,
        agentName: this.options.agentName,
        target,
      });
      const end = await this.session.run();
      this.session = undefined;
      (client as grpc.Client).close();
      if (this.stopped) break;
      if (end.kind === 'revoked') return end;

      if (end.welcomedForMs >= (this.options.stableAfterMs ?? 30_000)) this.backoff.reset();
      const delayMs = this.backoff.next();
      const what = end.welcomedForMs > 0 ? 'connection to the controller lost' : `cannot connect to the controller at ${target}`;
      logger.warn(`${what}: ${end.details}; retrying in ${(delayMs / 1000).toFixed(1)} s`);
      await this.sleep(delayMs);
    }
    return { kind: 'stopped' };
  }

  /** Ends the current session and the loop. */
  stop(): void {
    this.stopped = true;
    this.session?.close();
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
