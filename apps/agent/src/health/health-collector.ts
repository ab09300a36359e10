import type { AgentHealthView } from '@coffer/contracts';
import { arch, freemem, hostname, loadavg, platform, release, totalmem, uptime } from 'node:os';
import { resolve } from 'node:path';
import { agentVersion } from '../shared/agent-version';
import { DiskSpace, DiskSpaceProbe } from './disk-space';
import { DATABASE_TOOLS, detectTools, ToolVersion } from '@coffer/sources';

/** The tools the agent reports: every one a database source runs, for backups, restores and verification. */
export const AGENT_TOOLS: readonly string[] = Object.values(DATABASE_TOOLS).flat();

/**
 * The state of the agent's host, as a Heartbeat reports it: the same shape the controller's
 * API shows (a type-only import: nothing of the contracts index is loaded at run time).
 */
export type HostHealth = AgentHealthView & { disks: DiskSpace[]; tools: ToolVersion[] };

/** Settings of a HealthCollector. */
export interface HealthCollectorOptions {
  dataDir: string;
  /** Paths the operator asked to watch (--path). */
  extraPaths?: string[];
  /** Tools are looked for again this often; they change rarely (package upgrades). */
  toolRefreshMs?: number;
  detect?: () => Promise<ToolVersion[]>;
}

/** Backed-up paths remembered for disk space reports; a bound against a policy with thousands of roots. */
const MAX_SOURCE_PATHS = 64;

/**
 * Collects host health for Hello and every Heartbeat. Cheap calls only (os.*, statfs);
 * the tool versions, which need processes, are detected at start and every 10 minutes.
 */
export class HealthCollector {
  private tools: ToolVersion[] = AGENT_TOOLS.map((name) => ({ name, version: '', path: '' }));
  private readonly sourcePaths = new Set<string>();
  private readonly disks = new DiskSpaceProbe();
  private timer?: NodeJS.Timeout;
  private readonly dataDir: string;
  private readonly extraPaths: string[];

  constructor(private readonly options: HealthCollectorOptions) {
    this.dataDir = resolve(options.dataDir);
    this.extraPaths = [...new Set((options.extraPaths ?? []).map((p) => resolve(p)))];
  }

  /** Detects the tools now, then every toolRefreshMs (an unref'd timer). */
  async start(): Promise<void> {
    await this.refreshTools();
    this.timer = setInterval(() => void this.refreshTools(), this.options.toolRefreshMs ?? 10 * 60_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Remembers paths a backup job backs up, to report their free space from now on. */
  addSourcePaths(paths: string[]): void {
    for (const p of paths) {
      if (this.sourcePaths.size >= MAX_SOURCE_PATHS) break;
      this.sourcePaths.add(resolve(p));
    }
  }

  async collect(): Promise<HostHealth> {
    const watched = new Map<string, DiskSpace['role']>([[this.dataDir, 'data_dir']]);
    for (const p of [...this.extraPaths, ...this.sourcePaths]) if (!watched.has(p)) watched.set(p, 'source');
    const disks = (await Promise.all([...watched].map(([path, role]) => this.disks.measure(path, role)))).filter((d): d is DiskSpace => d !== undefined);
    return {
      hostname: hostname(),
      os: `${platform()} ${release()}`,
      arch: arch(),
      agentVersion: agentVersion(),
      hostUptimeSeconds: uptime(),
      agentUptimeSeconds: process.uptime(),
      loadAverage: loadavg(),
      memoryTotalBytes: totalmem(),
      // libuv reads MemAvailable on Linux: memory usable without swapping, not just unused.
      memoryAvailableBytes: freemem(),
      agentRssBytes: process.memoryUsage.rss(),
      disks,
      tools: this.tools.map((t) => ({ ...t })),
    };
  }

  private async refreshTools(): Promise<void> {
    try {
      this.tools = await (this.options.detect ?? (() => detectTools(AGENT_TOOLS)))();
    } catch {
      // keep what was known: detection never stops the agent
    }
  }
}
