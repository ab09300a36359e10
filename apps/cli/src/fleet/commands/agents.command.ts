import { Command } from 'commander';
import type { AgentView } from '@coffer/contracts';
import { ExitCode } from '../../shared/exit-codes';
import { formatBytes, formatLocalTime, formatTable } from '../../shared/format';
import { Terminal } from '../../shared/terminal';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';
import { formatLabels, formatSpan, healthSummary, relativeTime } from '../fleet-format';

type AgentsOptions = ControllerOptions & JsonOptions;

/** `coffer agents [list]|show|revoke`: the enrolled agents and their health. */
export function registerAgentsCommands(program: Command): void {
  const agents = program.command('agents').description('the enrolled agents: status, last contact, health').helpCommand(false);

  const list = agents.command('list', { isDefault: true }).description('list the agents (the default)');
  withJson(withControllerOption(list), 'the agents as the API returns them (AgentView[])').action(
    fleetAction(async (options: AgentsOptions) => {
      const out = new Terminal(!!options.json);
      const views = await connect(options).listAgents();
      if (out.json) out.printJson(views);
      else out.print(agentTable(views));
      return ExitCode.Success;
    }),
  );

  const show = agents.command('show').description("show one agent with its full health report and tools").argument('<name>', 'agent name');
  withJson(withControllerOption(show), 'the agent as the API returns it (AgentView)').action(
    fleetAction(async (name: string, options: AgentsOptions) => {
      const out = new Terminal(!!options.json);
      const agent = await connect(options).getAgent(name);
      if (out.json) out.printJson(agent);
      else out.print(agentDetail(agent));
      return ExitCode.Success;
    }),
  );

  const revoke = agents
    .command('revoke')
    .description('revoke an agent: its certificate is refused from now on and it gets no more jobs')
    .argument('<name>', 'agent name');
  withJson(withControllerOption(revoke), 'the revoked agent as the API returns it (AgentView)').action(
    fleetAction(async (name: string, options: AgentsOptions) => {
      const out = new Terminal(!!options.json);
      const agent = await connect(options).revokeAgent(name);
      if (out.json) out.printJson(agent);
      else out.print(`agent "${agent.name}" revoked`);
      return ExitCode.Success;
    }),
  );
}

function agentTable(agents: AgentView[]): string {
  if (agents.length === 0) return 'no agents enrolled: create a join token with coffer tokens create';
  const now = Date.now();
  const rows = agents.map((a) => [
    a.name,
    a.status,
    relativeTime(a.lastSeenAt, now),
    a.version ?? '-',
    formatLabels(a.labels) || '-',
    a.runningJobs > 0 ? String(a.runningJobs) : '-',
    healthSummary(a.health),
  ]);
  return formatTable(['NAME', 'STATUS', 'LAST SEEN', 'VERSION', 'LABELS', 'JOBS', 'HEALTH'], rows, [5]);
}

function agentDetail(a: AgentView): string {
  const lines = [
    `agent:        ${a.name} (${a.id})`,
    `status:       ${a.status}${a.revokedAt ? ` since ${formatLocalTime(a.revokedAt)}` : ''}`,
    `last seen:    ${a.lastSeenAt ? `${formatLocalTime(a.lastSeenAt)} (${relativeTime(a.lastSeenAt)})` : 'never'}`,
    `enrolled:     ${formatLocalTime(a.enrolledAt)}`,
    `version:      ${a.version ?? '-'}`,
    `hostname:     ${a.hostname ?? '-'}`,
    `labels:       ${formatLabels(a.labels) || '-'}`,
    `running jobs: ${a.runningJobs}`,
  ];
  const h = a.health;
  if (!h) return [...lines, 'health:       not reported yet'].join('\n');
  const used = h.memoryTotalBytes - h.memoryAvailableBytes;
  lines.push(
    '',
    'health:',
    `  system:     ${h.os} ${h.arch}, host up ${formatSpan(h.hostUptimeSeconds)}, agent up ${formatSpan(h.agentUptimeSeconds)}`,
    `  load:       ${h.loadAverage.map((l) => l.toFixed(2)).join(' ') || '-'}`,
    `  memory:     ${formatBytes(used)} used of ${formatBytes(h.memoryTotalBytes)}, ${formatBytes(h.memoryAvailableBytes)} available; agent ${formatBytes(h.agentRssBytes)}`,
  );
  if (h.disks.length > 0) {
    lines.push('  disks:');
    for (const d of h.disks) {
      const pct = d.totalBytes > 0 ? ` (${Math.round((d.freeBytes / d.totalBytes) * 100)}% free)` : '';
      lines.push(`    ${d.path}${d.role ? ` [${d.role}]` : ''}: ${formatBytes(d.freeBytes)} free of ${formatBytes(d.totalBytes)}${pct}`);
    }
  }
  if (h.tools.length > 0) {
    lines.push('  tools:');
    for (const t of h.tools) lines.push(`    ${t.name} ${t.version || '?'}${t.path ? `  ${t.path}` : ''}`);
  } else {
    lines.push('  tools:      none found');
  }
  return lines.join('\n');
}
