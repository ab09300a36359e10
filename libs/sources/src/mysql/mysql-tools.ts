import { SourceError, ToolContext } from '../database/database-source';
import { detectTools, findOnPath, ToolVersion } from '../process/tool-detector';

/** Dump tools in order of preference: MariaDB names its own first; mysqldump is MySQL's or an alias. */
const DUMP_TOOLS = ['mariadb-dump', 'mysqldump'] as const;
/** Command-line clients in order of preference. */
const CLIENT_TOOLS = ['mariadb', 'mysql'] as const;

const INSTALL_HINT = 'install the MariaDB or MySQL client tools (Debian: apt install mariadb-client)';

/** The dump tool on the context's PATH, with its distribution version ("10.11.19"). */
export async function findMysqlDumpTool(context: ToolContext): Promise<ToolVersion> {
  const found = (await detectTools(DUMP_TOOLS, searchPath(context))).find((tool) => tool.path !== '');
  if (!found) throw new SourceError(`neither ${DUMP_TOOLS.join(' nor ')} is on the PATH: ${INSTALL_HINT}`);
  return found;
}

/** The path of the command-line client on the context's PATH. */
export async function findMysqlClient(context: ToolContext): Promise<string> {
  for (const name of CLIENT_TOOLS) {
    const path = await findOnPath(name, searchPath(context));
    if (path) return path;
  }
  throw new SourceError(`neither ${CLIENT_TOOLS.join(' nor ')} is on the PATH: ${INSTALL_HINT}`);
}

/**
 * Refuses a dump tool older (major.minor) than the server: an old mysqldump may not know the
 * server's newer syntax and write a dump that does not restore, which is found out only on
 * the day it is needed. A version that cannot be read is let through.
 */
export function checkDumpToolVersion(tool: ToolVersion, serverVersion: string): void {
  const toolRelease = majorMinor(tool.version);
  const serverRelease = majorMinor(serverVersion);
  if (!toolRelease || !serverRelease) return;
  if (toolRelease[0] > serverRelease[0] || (toolRelease[0] === serverRelease[0] && toolRelease[1] >= serverRelease[1])) return;
  throw new SourceError(
    `${tool.name} ${toolRelease.join('.')} is older than the server (${describeServerVersion(serverVersion)}): install a client of ${serverRelease.join('.')} or newer`,
  );
}

/** "10.11.19-MariaDB-0+deb12u1" → "MariaDB 10.11.19"; "8.0.36" → "MySQL 8.0.36". */
export function describeServerVersion(version: string): string {
  const release = /^\d+(?:\.\d+)*/.exec(version)?.[0] ?? version;
  return `${/mariadb/i.test(version) ? 'MariaDB' : 'MySQL'} ${release}`;
}

function majorMinor(version: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function searchPath(context: ToolContext): string {
  return context.path ?? process.env.PATH ?? '';
}
