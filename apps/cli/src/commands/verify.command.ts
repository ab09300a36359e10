import { Command } from 'commander';
import { snapshotFileOpener } from '@coffer/repository';
import { engineName, verifyDatabaseSnapshot } from '@coffer/sources';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { formatDuration, shortId } from '../shared/format';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';
import { toolContext } from './database-options';

/**
 * `coffer repo verify`: a database snapshot is read whole — every chunk decrypted and
 * authenticated — and each dump checked by its engine's own tool (pg_restore --list for
 * PostgreSQL), without restoring anything.
 */
export function registerVerifyCommand(repo: Command): void {
  const command = repo
    .command('verify')
    .description("check a database snapshot without restoring it: every byte is read and authenticated, and each dump is read by its engine's tool (pg_restore --list)")
    .argument('<snapshot>', 'snapshot id (at least 4 hex digits) or "latest"');
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (snapshotRef: string, options: RepositoryOptions & { json?: boolean }) => {
      const out = new Terminal(!!options.json);
      const started = Date.now();
      const { id, manifest, lines } = await withRepository(options, async (repo) => {
        const ref = await repo.findSnapshot(snapshotRef);
        return { id: ref.id, ...(await verifyDatabaseSnapshot(snapshotFileOpener(repo, ref.snapshot), toolContext(out))) };
      });
      if (out.json) {
        out.printJson({ snapshotId: id, ok: true, kind: manifest.kind, server: manifest.server, files: lines });
      } else {
        for (const line of lines) out.print(line);
        out.print(`snapshot ${shortId(id)}: ${engineName(manifest.kind)} backup of ${manifest.server} verified in ${formatDuration(Date.now() - started)}`);
      }
      return ExitCode.Success;
    }),
  );
}
