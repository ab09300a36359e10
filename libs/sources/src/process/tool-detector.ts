import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

/** A backup tool the agent looked for. `version` and `path` are empty when it was not found. */
export interface ToolVersion {
  name: string;
  version: string;
  path: string;
}

/** The database dump tools a policy may call from a command source. */
export const BACKUP_TOOLS = ['pg_dump', 'mariadb-dump', 'mysqldump', 'redis-cli'] as const;

const VERSION_TIMEOUT_MS = 5_000;

/**
 * Finds each tool on PATH and asks it for its version (`TOOL --version`, spawned without a
 * shell, killed after a timeout). Never throws: a tool that is missing, hangs or fails is
 * reported with what could be learnt.
 */
export async function detectTools(names: readonly string[] = BACKUP_TOOLS, pathEnv = process.env.PATH ?? ''): Promise<ToolVersion[]> {
  return Promise.all(
    names.map(async (name) => {
      const path = await findOnPath(name, pathEnv);
      if (!path) return { name, version: '', path: '' };
      const output = await runForOutput(path, ['--version'], VERSION_TIMEOUT_MS);
      return { name, version: parseToolVersion(output), path };
    }),
  );
}

/** The first executable `name` in the PATH directories, or undefined. */
export async function findOnPath(name: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue; // relative PATH entries depend on the working directory: skip
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The version in a tool's `--version` output. MariaDB's dump tools print their own protocol
 * version first ("mariadb-dump  Ver 10.19 Distrib 10.11.6-MariaDB, …"): the distribution's
 * version is the one people know, so it wins.
 *   "pg_dump (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)" → "15.8"
 *   "redis-cli 7.0.15" → "7.0.15"
 */
export function parseToolVersion(output: string): string {
  const firstLine = output.split('\n').find((l) => l.trim() !== '') ?? '';
  const distrib = /Distrib\s+(\d+(?:\.\d+)+)/.exec(firstLine);
  if (distrib) return distrib[1];
  const plain = /(\d+(?:\.\d+)+)/.exec(firstLine);
  return plain ? plain[1] : firstLine.trim().slice(0, 64);
}

function runForOutput(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    let output = '';
    let child;
    try {
      child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, LC_ALL: 'C' } });
    } catch {
      return resolve('');
    }
    const take = (chunk: Buffer) => {
      if (output.length < 4096) output += chunk.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', () => resolve(''));
    child.once('close', () => resolve(output));
  });
}
