import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../shared/clock';
import { PeriodicTask } from '../shared/periodic-task';
import { AgentStore, PresenceRow } from './agent.store';
import type { AgentHealth, AgentPresenceUpdate } from './agent.types';

/** Health is written to the database at most this often per agent (it is served from memory). */
const HEALTH_WRITE_INTERVAL_MS = 30_000;
/** How often presence is flushed and silent agents are swept. */
export const LIVENESS_TICK_MS = 1_000;

interface Presence {
  name: string;
  lastSeenMs: number;
  health: AgentHealth | null;
  version: string | null;
  hostname: string | null;
  /** Something arrived since the last flush. */
  dirty: boolean;
  /** Health changed since it was last written. */
  healthDirty: boolean;
  healthWrittenMs: number;
  /** As far as this process knows, the database says online. */
  online: boolean;
}

/** An agent's presence as this process knows it. */
export interface LivePresence {
  lastSeenAt: Date;
  online: boolean;
  health: AgentHealth | null;
  version: string | null;
  hostname: string | null;
}

/**
 * Who is alive. Every message from an agent lands here in memory (a Map write, no I/O);
 * once a second all agents heard from since the last flush are written in ONE statement,
 * and then agents silent for heartbeatInterval × offlineAfterMissedHeartbeats are marked
 * offline in ONE statement. This keeps the cost per heartbeat at a few microseconds, so
 * thousands of agents cost the controller almost nothing.
 */
@Injectable()
export class AgentLivenessService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AgentLivenessService.name);
  private readonly presence = new Map<string, Presence>();
  private readonly task: PeriodicTask;

  constructor(
    private readonly store: AgentStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.task = new PeriodicTask('agent liveness', LIVENESS_TICK_MS, () => this.flushAndSweep(), this.logger);
  }

  onModuleInit(): void {
    this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
    await this.flush().catch((error: Error) => this.logger.warn(`last presence flush failed: ${error.message}`));
  }

  /** How long an agent may be silent before it counts as offline, milliseconds. */
  offlineAfterMs(): number {
    return this.config.heartbeatIntervalSeconds * this.config.offlineAfterMissedHeartbeats * 1000;
  }

  /** Records that the agent was heard from just now. Called for every message: keep it cheap. */
  touch(agentId: string, name: string, update?: AgentPresenceUpdate): void {
    const now = this.clock.now().getTime();
    let entry = this.presence.get(agentId);
    if (!entry) {
      entry = {
        name,
        lastSeenMs: now,
        health: null,
        version: null,
        hostname: null,
        dirty: true,
        healthDirty: false,
        healthWrittenMs: 0,
        online: false,
      };
      this.presence.set(agentId, entry);
    }
    entry.lastSeenMs = now;
    entry.dirty = true;
    if (update?.health) {
      entry.health = update.health;
      entry.healthDirty = true;
    }
    if (update?.version) entry.version = update.version;
    if (update?.hostname) entry.hostname = update.hostname;
  }

  /** The agent's presence if this process has heard from it. */
  presenceOf(agentId: string): LivePresence | undefined {
    const entry = this.presence.get(agentId);
    if (!entry) return undefined;
    const online = this.clock.now().getTime() - entry.lastSeenMs < this.offlineAfterMs();
    return {
      lastSeenAt: new Date(entry.lastSeenMs),
      online,
      health: entry.health,
      version: entry.version,
      hostname: entry.hostname,
    };
  }

  /** Drops what is known about the agent (revoked). */
  forget(agentId: string): void {
    this.presence.delete(agentId);
  }

  /** One liveness round: write presence, then mark silent agents offline. */
  async flushAndSweep(): Promise<void> {
    await this.flush();
    await this.sweep();
  }

  /** Writes every agent heard from since the last flush, in one statement. */
  async flush(): Promise<void> {
    const now = this.clock.now().getTime();
    const batch: PresenceRow[] = [];
    const flushed: Presence[] = [];
    for (const [id, entry] of this.presence) {
      if (!entry.dirty) continue;
      const writeHealth = entry.healthDirty && (!entry.online || now - entry.healthWrittenMs >= HEALTH_WRITE_INTERVAL_MS);
      batch.push({
        id,
        lastSeenAt: new Date(entry.lastSeenMs),
        health: writeHealth ? entry.health : null,
        version: entry.version,
        hostname: entry.hostname,
      });
      flushed.push(entry);
      entry.dirty = false;
      if (writeHealth) {
        entry.healthDirty = false;
        entry.healthWrittenMs = now;
      }
    }
    if (batch.length === 0) return;
    try {
      await this.store.flushPresence(batch);
    } catch (error) {
      // Try again next round.
      for (const entry of flushed) entry.dirty = true;
      throw error;
    }
    const cameOnline: string[] = [];
    for (const entry of flushed) {
      if (!entry.online) {
        entry.online = true;
        cameOnline.push(entry.name);
      }
    }
    if (cameOnline.length > 0) this.logger.log(`${describeAgents(cameOnline)} online`);
  }

  /** Marks agents silent for too long offline (in the database) and forgets them here. */
  async sweep(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - this.offlineAfterMs());
    const silent = await this.store.markSilentOffline(cutoff);
    const wentOffline: string[] = [];
    for (const agent of silent) {
      const entry = this.presence.get(agent.id);
      // Heard from again after the cutoff: it will be written online on the next flush.
      if (entry && entry.lastSeenMs >= cutoff.getTime()) {
        entry.online = false;
        entry.dirty = true;
        continue;
      }
      this.presence.delete(agent.id);
      wentOffline.push(agent.name);
    }
    if (wentOffline.length > 0) {
      this.logger.warn(`${describeAgents(wentOffline)} offline (nothing heard for ${this.offlineAfterMs() / 1000}s)`);
    }
  }
}

/** "agent a is", "agents a, b and c are", "42 agents are (a, b, c, … )": one line however many. */
export function describeAgents(names: string[]): string {
  if (names.length === 1) return `agent ${names[0]} is`;
  if (names.length <= 5) return `agents ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} are`;
  return `${names.length} agents are (${names.slice(0, 5).join(', ')}, …)`;
}
