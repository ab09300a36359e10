import type { AgentHealthView, AgentStatus } from '@coffer/contracts';

/** An agent's host health as last reported (the protocol's Health, mapped at the edge). */
export type AgentHealth = AgentHealthView;

/** Stored agent status: revoked agents say so; the others are online or offline. */
export type StoredAgentStatus = AgentStatus;

/** An enrolled agent as the fleet side sees it. */
export interface AgentRecord {
  id: string;
  name: string;
  labels: Record<string, string>;
  certFingerprint: string;
  certNotAfter: Date;
  hostname: string | null;
  version: string | null;
  health: AgentHealth | null;
  lastSeenAt: Date | null;
  status: StoredAgentStatus;
  enrolledAt: Date;
  revokedAt: Date | null;
}

/** What job creation needs to know about an agent (no health: cheap to list thousands). */
export type AgentSummary = Pick<AgentRecord, 'id' | 'name' | 'labels' | 'status'>;

/** A new agent, written at enrollment. */
export interface NewAgent {
  id: string;
  name: string;
  labels: Record<string, string>;
  certFingerprint: string;
  certNotAfter: Date;
  hostname: string | null;
  version: string | null;
  enrolledAt: Date;
  enrollmentTokenId: string;
}

/** What a message from a connected agent tells about it (kept in memory, flushed in batches). */
export interface AgentPresenceUpdate {
  health?: AgentHealth;
  version?: string;
  hostname?: string;
}
