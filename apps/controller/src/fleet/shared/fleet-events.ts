import { Injectable, Logger } from '@nestjs/common';

/** Events between the fleet's parts (in this process). */
export interface FleetEventMap {
  /** An agent was revoked: its jobs end, its stream is closed. */
  'agent.revoked': { agentId: string; name: string; at: Date };
  /** Jobs were queued; the dispatcher should look. */
  'job.queued': { count: number };
}

type Listener<K extends keyof FleetEventMap> = (event: FleetEventMap[K]) => void | Promise<void>;

/**
 * A small typed event bus so that lower layers (agents) can announce things that higher
 * ones (jobs) act on without a dependency cycle. Listeners run after the emitter's own
 * work; a failing listener is logged and does not affect the others.
 */
@Injectable()
export class FleetEvents {
  private readonly logger = new Logger(FleetEvents.name);
  private readonly listeners = new Map<keyof FleetEventMap, Listener<never>[]>();

  on<K extends keyof FleetEventMap>(name: K, listener: Listener<K>): void {
    const list = this.listeners.get(name) ?? [];
    list.push(listener as Listener<never>);
    this.listeners.set(name, list);
  }

  /** Calls every listener and waits for them. */
  async emit<K extends keyof FleetEventMap>(name: K, event: FleetEventMap[K]): Promise<void> {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        await (listener as Listener<K>)(event);
      } catch (error) {
        this.logger.error(`listener for ${name} failed: ${(error as Error).message}`, (error as Error).stack);
      }
    }
  }
}
