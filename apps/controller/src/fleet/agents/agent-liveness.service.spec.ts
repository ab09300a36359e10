import { Logger } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { FakeClock } from '../shared/clock';
import { AgentLivenessService } from './agent-liveness.service';
import type { AgentStore, PresenceRow } from './agent.store';
import type { AgentHealth } from './agent.types';

const HEALTH = { hostname: 'h', os: 'linux', arch: 'x64', agentVersion: '0.1.0' } as AgentHealth;

/** Records the statements the service would run, with the SQL's offline rule. */
class FakeStore {
  flushes: PresenceRow[][] = [];
  lastSeen = new Map<string, Date>();
  online = new Set<string>();

  async flushPresence(batch: PresenceRow[]): Promise<void> {
    this.flushes.push(batch);
    for (const row of batch) {
      this.lastSeen.set(row.id, row.lastSeenAt);
      this.online.add(row.id);
    }
  }

  async markSilentOffline(cutoff: Date) {
    const silent = [...this.online].filter((id) => this.lastSeen.get(id)!.getTime() < cutoff.getTime());
    for (const id of silent) this.online.delete(id);
    return silent.map((id) => ({ id, name: id, lastSeenAt: this.lastSeen.get(id)! }));
  }
}

beforeAll(() => Logger.overrideLogger(false));

describe('AgentLivenessService', () => {
  const config = { heartbeatIntervalSeconds: 10, offlineAfterMissedHeartbeats: 3 } as AppConfig;

  function setup() {
    const clock = new FakeClock(new Date('2025-01-01T00:00:00Z'));
    const store = new FakeStore();
    const service = new AgentLivenessService(store as unknown as AgentStore, config, clock);
    return { clock, store, service };
  }

  it('writes every agent heard from in one statement per round, and nothing when all is quiet', async () => {
    const { store, service } = setup();
    for (let i = 0; i < 1000; i++) service.touch(`agent-${i}`, `agent-${i}`, { health: HEALTH });
    service.touch('agent-1', 'agent-1');
    await service.flushAndSweep();
    expect(store.flushes).toHaveLength(1);
    expect(store.flushes[0]).toHaveLength(1000);
    await service.flush();
    expect(store.flushes).toHaveLength(1);
  });

  it('writes health at most every 30 s per agent but last-seen every round', async () => {
    const { clock, store, service } = setup();
    service.touch('a', 'a', { health: HEALTH });
    await service.flush();
    clock.advance(10_000);
    service.touch('a', 'a', { health: { ...HEALTH, agentUptimeSeconds: 10 } });
    await service.flush();
    clock.advance(20_000);
    service.touch('a', 'a', { health: { ...HEALTH, agentUptimeSeconds: 30 } });
    await service.flush();
    expect(store.flushes.map((batch) => (batch[0].health ? `health@${batch[0].health.agentUptimeSeconds ?? 0}` : 'no health'))).toEqual(['health@0', 'no health', 'health@30']);
    expect(store.flushes.map((batch) => batch[0].lastSeenAt.toISOString())).toEqual([
      '2025-01-01T00:00:00.000Z',
      '2025-01-01T00:00:10.000Z',
      '2025-01-01T00:00:30.000Z',
    ]);
  });

  it('marks an agent offline after heartbeat × missed of silence, and online when it talks again', async () => {
    const { clock, store, service } = setup();
    service.touch('a', 'a');
    await service.flushAndSweep();
    expect(service.presenceOf('a')?.online).toBe(true);

    clock.advance(29_000);
    await service.flushAndSweep();
    expect(store.online.has('a')).toBe(true);

    clock.advance(2_000);
    expect(service.presenceOf('a')?.online).toBe(false);
    await service.flushAndSweep();
    expect(store.online.has('a')).toBe(false);
    expect(service.presenceOf('a')).toBeUndefined();

    service.touch('a', 'a');
    await service.flushAndSweep();
    expect(store.online.has('a')).toBe(true);
  });
});
