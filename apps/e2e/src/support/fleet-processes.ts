import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { coffer, CofferRun, RunOptions } from '../../../cli/src/test-support/coffer-process';

export { coffer, removeTree } from '../../../cli/src/test-support/coffer-process';

const AGENT_BIN = resolve(__dirname, '../../../agent/bin/coffer-agent.js');

/** A fresh temporary directory for one test file. */
export function e2eTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `coffer-e2e-${prefix}-`));
}

/** Waits for `probe` to return a truthy value, polling, failing with `what` at the deadline. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The `coffer` CLI logged in to one controller (its own config dir). */
export class CofferCli {
  constructor(
    readonly configDir: string,
    readonly controllerUrl: string,
  ) {}

  run(args: string[], options: RunOptions = {}): CofferRun {
    return coffer(args, { ...options, env: { COFFER_CONFIG_DIR: this.configDir, COFFER_CONTROLLER: this.controllerUrl, ...options.env } });
  }

  /** Runs and parses `--json` output; fails the test with stderr when the command fails. */
  json<T>(args: string[], options: RunOptions = {}): T {
    const result = this.run([...args, '--json'], options);
    if (result.status !== 0) throw new Error(`coffer ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  login(password: string): void {
    const result = this.run(['login', '--controller', this.controllerUrl, '--user', 'admin', '--password-stdin'], { input: password + '\n' });
    if (result.status !== 0) throw new Error(`coffer login failed: ${result.stderr}`);
  }
}

/** One `coffer-agent` with its own data dir. */
export class AgentProcess {
  private child: ChildProcess | undefined;
  private captured = '';
  exitCode: number | null = null;

  constructor(
    readonly name: string,
    readonly dataDir: string,
  ) {}

  /** `coffer-agent enroll`; returns the finished process's output and status. */
  static enroll(args: { grpcAddress: string; token: string; dataDir: string; name: string; labels?: string }): Promise<{ status: number | null; output: string }> {
    const tokenFile = join(args.dataDir + '.token');
    writeFileSync(tokenFile, args.token + '\n', { mode: 0o600 });
    const argv = ['enroll', '--controller', args.grpcAddress, '--token-file', tokenFile, '--data-dir', args.dataDir, '--name', args.name];
    if (args.labels) argv.push('--labels', args.labels);
    return new Promise((resolvePromise) => {
      const child = spawn(process.execPath, [AGENT_BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('exit', (status) => resolvePromise({ status, output }));
    });
  }

  start(): void {
    this.exitCode = null;
    const child = spawn(process.execPath, [AGENT_BIN, 'run', '--data-dir', this.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (this.captured += d));
    child.stderr!.on('data', (d) => (this.captured += d));
    child.on('exit', (code, signal) => (this.exitCode = code ?? (signal ? 128 : null)));
    this.child = child;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.captured;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Waits for the process to exit by itself. */
  async exited(timeoutMs = 20_000): Promise<number | null> {
    await waitFor(`agent ${this.name} to exit`, () => !this.running, timeoutMs);
    return this.exitCode;
  }
}
