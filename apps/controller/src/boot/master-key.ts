import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { parseMasterKey } from '../config/load-config';
import { StartupError } from './startup-error';

/** Name of the key file in the data directory. */
export const MASTER_KEY_FILE = 'master.key';

/**
 * The master key from DATA_DIR/master.key, created (mode 600) on first start. Losing the
 * file makes stored repository secrets unreadable, so the log says where it is; the key
 * itself is never logged.
 */
export function loadOrCreateMasterKey(dataDir: string, logger: LoggerService): Buffer {
  const file = join(dataDir, MASTER_KEY_FILE);
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    logger.log(`created the master key ${file}: back it up (or set COFFER_MASTER_KEY), repository secrets cannot be read without it`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StartupError(`cannot create the master key ${file}: ${(err as Error).message}`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
    if ((statSync(file).mode & 0o077) !== 0) logger.warn(`${file} can be read by other users: chmod 600 it`);
  } catch (err) {
    throw new StartupError(`cannot read the master key ${file}: ${(err as Error).message}`);
  }
  const parsed = parseMasterKey(text);
  if ('problem' in parsed) throw new StartupError(`${file} does not hold a master key: it ${parsed.problem}`);
  return parsed.value;
}
