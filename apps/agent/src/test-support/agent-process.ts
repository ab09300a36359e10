import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The real binary, as a service manager starts it. */
export const AGENT_BIN = resolve(__dirname, '../../bin/coffer-agent.js');
const BUILT_MAIN = resolve(__dirname, '../../dist/main.js');

/** Fails early, with what to do, when the agent has not been built. */
export function assertBuilt(): void {
  if (!existsSync(BUILT_MAIN)) throw new Error(`${BUILT_MAIN} is missing: build first with "npx tsc -b apps/agent/tsconfig.lib.json"`);
}

/** A clean environment (plus PATH), so the developer's shell cannot change what a test sees. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC', ...extra };
}

/** A finished run of the binary. */
export interface AgentRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `coffer-agent ARGS` to completion, asynchronously: the fake controller it talks to
 * lives in the test's own event loop, which spawnSync would block.
 */
export function runAgentCommand(args: string[], timeoutMs = 60_000): Promise<AgentRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [AGENT_BIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`coffer-agent ${args[0]} did not finish within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}

/** A long-running `coffer-agent run`. */
export class AgentProcess {
  stderr = '';
  exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolvePromise) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        resolvePromise(code);
      }),
    );
  }

  static start(dataDir: string, extraArgs: string[] = []): AgentProcess {
    return new AgentProcess(spawn(process.execPath, [AGENT_BIN, 'run', '--data-dir', dataDir, ...extraArgs], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the exit code; rejects after `timeoutMs`. */
  waitForExit(timeoutMs = 30_000): Promise<number | null> {
    return Promise.race([
      this.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the agent did not exit within ${timeoutMs} ms; stderr:\n${this.stderr}`)), timeoutMs).unref()),
    ]);
  }

  /** SIGTERM, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    try {
      await this.waitForExit(20_000);
    } catch {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Temp dirs of one test file, removed by cleanup(). */
export class TempDirs {
  private readonly made: string[] = [];

  make(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `coffer-agent-${label}-`));
    this.made.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of this.made.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
