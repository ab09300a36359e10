import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DatabaseBackupPlan, SnapshotFileOpener, SOURCE_MANIFEST_FILE } from '../database/database-source';

/*
 * What the engine tests share: a "snapshot" that is a plain directory (libs/sources must not
 * depend on libs/repository), temporary directories, shims and free ports. It would belong in
 * ../../test-support, which this folder does not own.
 */

/** A short random suffix for names that must not collide with a parallel run. */
export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** A new temporary directory, and a function that removes it. */
export async function makeTempDir(label: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `coffer-it-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Streams the plan's manifest and files into `dir` as the CLI streams them into a snapshot. */
export async function writePlanToDir(plan: DatabaseBackupPlan, dir: string): Promise<void> {
  await writeFile(join(dir, SOURCE_MANIFEST_FILE), JSON.stringify(plan.manifest));
  for (const file of plan.files) await pipeline(file.open(), createWriteStream(join(dir, file.name)));
}

/** Opens files of a snapshot written by writePlanToDir. */
export function dirOpener(dir: string): SnapshotFileOpener {
  return (name) => createReadStream(join(dir, name));
}

/** Reads a stream to its end. */
export async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Writes an executable shell script `name` into `dir`. */
export async function writeShim(dir: string, name: string, script: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
  return path;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
