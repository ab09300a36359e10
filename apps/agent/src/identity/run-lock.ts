import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../shared/agent-error';

const PID_FILE = 'agent.pid';

/** The pid of the agent running on `dataDir`, if one is. */
export function runningAgentPid(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * Makes sure only one agent runs on a data dir: two would both answer for the same identity
 * and could run the same job twice from one ledger. A pid file left by a dead agent is taken
 * over. Returns the release function.
 */
export function acquireRunLock(dataDir: string): () => void {
  const path = join(dataDir, PID_FILE);
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const other = runningAgentPid(dataDir);
      if (other !== undefined && other !== process.pid) throw new AgentError(`another agent (pid ${other}) is running on ${dataDir}; stop it first`);
      unlinkSync(path); // left by an agent that died
    }
  }
  throw new AgentError(`cannot take ${path}: another agent is starting on this data dir`);
}
