import { Injectable } from '@nestjs/common';
import type { RepositoryAccessSecret } from '../../shared/fleet-ports';
import type { JobRecord } from '../jobs/job.types';

/**
 * What the controller tells an agent, as domain values; the gateway turns them into
 * protocol messages. `runJob` carries the repository's secrets and the values of the secrets
 * the job names (database passwords, by name): they exist only in this message, on its way
 * to the agent.
 */
export type AgentCommand =
  | { type: 'runJob'; job: JobRecord; access: RepositoryAccessSecret; secrets?: Record<string, string> }
  | { type: 'cancelJob'; jobId: string; reason: string }
  | { type: 'jobFinishedAck'; jobId: string };

/** Why the controller ends a stream. */
export type SessionEnd =
  | { reason: 'revoked'; message: string }
  | { reason: 'replaced'; message: string }
  | { reason: 'shutdown'; message: string };

/** One agent's open stream on this controller process. */
export interface AgentSession {
  readonly agentId: string;
  readonly agentName: string;
  readonly connectedAt: Date;
  /** Queues a command on the stream; false when the stream is already gone. */
  send(command: AgentCommand): boolean;
  /** Ends the stream with the status that `end.reason` maps to. Idempotent. */
  close(end: SessionEnd): void;
}

/**
 * The streams open on this process, one per agent: a newer stream from the same agent
 * replaces (and ends) the older one. Only this process's streams: with several replicas,
 * an agent is connected to exactly one of them.
 */
@Injectable()
export class AgentSessions {
  private readonly sessions = new Map<string, AgentSession>();

  /** Adds a session; ends and returns the one it replaces, if any. */
  register(session: AgentSession): AgentSession | undefined {
    const previous = this.sessions.get(session.agentId);
    this.sessions.set(session.agentId, session);
    if (previous && previous !== session) {
      previous.close({ reason: 'replaced', message: 'replaced by a newer stream from the same agent' });
      return previous;
    }
    return undefined;
  }

  /** Removes `session` if it is still the agent's current one (a replaced one is not). */
  unregister(session: AgentSession): boolean {
    if (this.sessions.get(session.agentId) !== session) return false;
    this.sessions.delete(session.agentId);
    return true;
  }

  get(agentId: string): AgentSession | undefined {
    return this.sessions.get(agentId);
  }

  isConnected(agentId: string): boolean {
    return this.sessions.has(agentId);
  }

  connectedAgentIds(): string[] {
    return [...this.sessions.keys()];
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Ends every stream (controller shutdown). */
  closeAll(end: SessionEnd): void {
    for (const session of [...this.sessions.values()]) session.close(end);
    this.sessions.clear();
  }
}
