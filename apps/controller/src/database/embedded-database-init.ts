/*
 * Creates an embedded database directory, run as a short-lived child process by
 * startEmbeddedDatabase: PGlite's initdb leaves several hundred MB of WebAssembly memory
 * behind in the process that ran it, which the controller would otherwise keep for good.
 *
 *   node embedded-database-init.js DIR
 */
import { PGlite } from '@electric-sql/pglite';

async function initializeDatabaseDir(dir: string): Promise<void> {
  const db = await PGlite.create({ dataDir: dir });
  await db.close();
}

if (require.main === module) {
  initializeDatabaseDir(process.argv[2]).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
