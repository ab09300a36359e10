import { join } from 'node:path';
import { IdentityStore } from '../identity/identity-store';
import { runningAgentPid } from '../identity/run-lock';
import { JobLedger, LedgerEntry } from '../jobs/job-ledger';

/** `coffer-agent status`'s options. */
export interface StatusOptions {
  dataDir: string;
  json?: boolean;
}

/**
 * What a data dir says about its agent: identity, controller, labels, whether an agent runs
 * on it, and the results waiting for the controller. Reads only; safe beside a running agent.
 */
export function agentStatus(options: StatusOptions): string {
  const store = new IdentityStore(options.dataDir);
  const identity = store.readIdentity();
  const pid = runningAgentPid(store.dir);
  const entries = JobLedger.peek(join(store.dir, 'jobs'));
  const running = entries.filter((e) => e.state === 'running');
  const outbox = entries.filter((e) => e.state === 'finished' && e.ackedAtMs === undefined).sort((a, b) => (a.result?.finishedAtMs ?? 0) - (b.result?.finishedAtMs ?? 0));
  const delivered = entries.length - running.length - outbox.length;

  if (options.json) {
    return JSON.stringify(
      {
        agentId: identity.agentId,
        name: identity.name,
        controller: identity.controller,
        labels: identity.labels,
        enrolledAt: identity.enrolledAt,
        dataDir: store.dir,
        agentPid: pid ?? null,
        runningJobs: running.map((e) => ({ jobId: e.jobId, kind: e.kind, startedAt: new Date(e.startedAtMs).toISOString() })),
        pendingResults: outbox.map(resultJson),
        deliveredResults: delivered,
      },
      null,
      2,
    );
  }
  const labels = Object.entries(identity.labels).map(([k, v]) => `${k}=${v}`);
  const lines = [
    `agent:       ${identity.name} (id ${identity.agentId})`,
    `controller:  ${identity.controller}`,
    `labels:      ${labels.length > 0 ? labels.join(', ') : '(none)'}`,
    `enrolled:    ${identity.enrolledAt}`,
    `data dir:    ${store.dir}`,
    `agent:       ${pid !== undefined ? `running (pid ${pid})` : 'not running'}`,
  ];
  if (running.length > 0) {
    lines.push(`running jobs (${running.length}):`);
    for (const e of running) lines.push(`  ${e.jobId}  ${e.kind}  since ${new Date(e.startedAtMs).toISOString()}`);
  }
  lines.push(outbox.length === 0 ? 'pending results: none (the controller has every result)' : `pending results (${outbox.length}, re-sent until the controller acknowledges them):`);
  for (const e of outbox) {
    const r = resultJson(e);
    lines.push(`  ${r.jobId}  ${r.kind}  ${r.outcome}  ${r.finishedAt}${r.errorMessage ? `  ${r.errorMessage}` : ''}`);
  }
  return lines.join('\n');
}

function resultJson(e: LedgerEntry) {
  return {
    jobId: e.jobId,
    kind: e.kind,
    outcome: e.result?.outcome ?? 'failed',
    finishedAt: new Date(e.result?.finishedAtMs ?? e.startedAtMs).toISOString(),
    errorMessage: e.result?.errorMessage ?? '',
    snapshots: e.result?.snapshots.map((s) => s.id) ?? [],
  };
}
