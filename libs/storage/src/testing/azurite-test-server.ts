import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

/** Azurite's built-in storage account; its key is public, published by Microsoft for the emulator. */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Azurite starts in about a second; a loaded CI machine gets plenty more. */
const START_DEADLINE_MS = 30_000;
const STOP_DEADLINE_MS = 10_000;

/** The line Azurite prints once its blob service accepts connections. */
const LISTENING = /successfully listens on (http:\/\/\S+)/;

/** A running Azurite blob service on loopback, with one container made for the test. */
export interface AzuriteTestServer {
  /** AZURE_ACCOUNT_KEY and COFFER_AZURE_ENDPOINT for openStorage's `env`. */
  readonly env: NodeJS.ProcessEnv;
  /** The account's blob endpoint, e.g. http://127.0.0.1:41234/devstoreaccount1. */
  readonly endpoint: string;
  readonly accountName: string;
  readonly accountKey: string;
  /** The container created at start. */
  readonly container: string;
  /** `azure:devstoreaccount1/<container>/<prefix>`: give each test its own prefix for an empty storage. */
  location(prefix: string): string;
  /** A client with the account key, for checking what the driver stored. */
  serviceClient(): BlobServiceClient;
  stop(): Promise<void>;
}

/**
 * Starts Azurite's blob service (the `azurite` devDependency) on 127.0.0.1 and a free
 * port, in memory, and creates a container. Fails with a message saying why when Azurite
 * cannot start: tests that need it must fail, not skip (STYLE.md "Tests").
 */
export async function startAzuriteTestServer(container = 'coffer-test'): Promise<AzuriteTestServer> {
  const child = spawn(
    process.execPath,
    [
      azuriteBlobScript(),
      ...['--blobHost', '127.0.0.1', '--blobPort', '0'],
      '--inMemoryPersistence',
      '--silent',
      '--disableTelemetry',
      // The SDK may speak a newer API version than this Azurite knows; the calls Coffer makes are old ones.
      '--skipApiVersionCheck',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    // Azurite closes gracefully on SIGTERM; one that hangs is killed.
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(killer);
  };

  try {
    const url = await waitForListening(child, () => output);
    const endpoint = `${url}/${AZURITE_ACCOUNT_NAME}`;
    const client = () => new BlobServiceClient(endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY));
    await client().getContainerClient(container).create();
    return {
      env: { AZURE_ACCOUNT_KEY: AZURITE_ACCOUNT_KEY, COFFER_AZURE_ENDPOINT: endpoint },
      endpoint,
      accountName: AZURITE_ACCOUNT_NAME,
      accountKey: AZURITE_ACCOUNT_KEY,
      container,
      location: (prefix) => `azure:${AZURITE_ACCOUNT_NAME}/${container}/${prefix}`,
      serviceClient: client,
      stop,
    };
  } catch (err) {
    await stop();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot start Azurite for the Azure storage tests: ${reason}\nAzurite's output:\n${output || '(none)'}`, { cause: err });
  }
}

/** azurite-blob's entry point, found through the package so no shell shim or PATH is involved. */
function azuriteBlobScript(): string {
  const manifestPath = require.resolve('azurite/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin: Record<string, string> };
  return path.join(path.dirname(manifestPath), manifest.bin['azurite-blob']);
}

/** Resolves with Azurite's base URL once it says it listens; rejects if it exits or the deadline passes. */
function waitForListening(child: ReturnType<typeof spawn>, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`Azurite did not start listening within ${START_DEADLINE_MS} ms`)), START_DEADLINE_MS);
    const onData = () => {
      const url = LISTENING.exec(output())?.[1];
      if (url !== undefined) finish(undefined, url);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => finish(new Error(`Azurite exited before listening (code ${code}, signal ${signal})`));
    const onError = (err: Error) => finish(new Error(`cannot run ${process.execPath}: ${err.message}`));
    function finish(err: Error | undefined, url?: string) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) reject(err);
      else resolve(url!);
    }
    // Registered after the collector, so output() already holds the chunk that arrived.
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}
