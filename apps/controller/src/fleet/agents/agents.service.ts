import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { AgentView } from '@coffer/contracts';
import { ApiException } from '../../shared/api-exception';
import { Clock } from '../shared/clock';
import { FleetEvents } from '../shared/fleet-events';
import { AgentLivenessService } from './agent-liveness.service';
import { AgentSessions } from './agent-sessions';
import { AgentStore } from './agent.store';
import type { AgentRecord } from './agent.types';

/** The fleet of agents as people see it: listing, details, revocation. */
@Injectable()
export class AgentsService {
  private readonly logger = new Logger(AgentsService.name);

  constructor(
    private readonly store: AgentStore,
    private readonly liveness: AgentLivenessService,
    private readonly sessions: AgentSessions,
    private readonly events: FleetEvents,
    private readonly clock: Clock,
  ) {}

  async list(): Promise<AgentView[]> {
    const [agents, running] = await Promise.all([this.store.list(), this.store.activeJobCounts()]);
    return agents.map((agent) => this.toView(agent, running.get(agent.id) ?? 0));
  }

  async get(name: string): Promise<AgentView> {
    const agent = await this.require(name);
    const running = await this.store.activeJobCounts([agent.id]);
    return this.toView(agent, running.get(agent.id) ?? 0);
  }

  /**
   * Revokes the agent named `name`: it is refused from now on (its certificate stays known
   * as revoked, forever), its open stream ends with PERMISSION_DENIED at once and its
   * unfinished jobs fail. Revoking a revoked agent changes nothing.
   */
  async revoke(name: string): Promise<AgentView> {
    const agent = await this.require(name);
    if (agent.revokedAt) return this.toView(agent, 0);
    const now = this.clock.now();
    const revoked = (await this.store.revoke(agent.id, now)) ?? (await this.store.findById(agent.id))!;
    const message = `agent ${agent.name} has been revoked`;
    this.sessions.get(agent.id)?.close({ reason: 'revoked', message });
    this.liveness.forget(agent.id);
    this.logger.warn(`${message}`);
    await this.events.emit('agent.revoked', { agentId: agent.id, name: agent.name, at: now });
    return this.toView(revoked, 0);
  }

  private async require(name: string): Promise<AgentRecord> {
    const agent = await this.store.findByName(name);
    if (!agent) throw new ApiException(HttpStatus.NOT_FOUND, 'not_found', `agent "${name}" does not exist`);
    return agent;
  }

  /** The stored agent overlaid with what this process heard in the last second (not yet flushed). */
  private toView(agent: AgentRecord, runningJobs: number): AgentView {
    const live = agent.revokedAt ? undefined : this.liveness.presenceOf(agent.id);
    const lastSeenAt = latest(agent.lastSeenAt, live?.lastSeenAt ?? null);
    let status = agent.status;
    if (!agent.revokedAt && live) status = live.online ? 'online' : 'offline';
    return {
      id: agent.id,
      name: agent.name,
      labels: agent.labels,
      status,
      lastSeenAt: lastSeenAt?.toISOString() ?? null,
      version: live?.version ?? agent.version,
      hostname: live?.hostname ?? agent.hostname,
      health: live?.health ?? agent.health,
      enrolledAt: agent.enrolledAt.toISOString(),
      revokedAt: agent.revokedAt?.toISOString() ?? null,
      runningJobs,
    };
  }
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}
