import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { AGENT_BIN, runAgentCommand, TempDirs } from './test-support/agent-process';
import { FakeController, waitFor } from './test-support/fake-controller';
const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
test('rss', async () => {
  const dirs = new TempDirs();
  const c = await FakeController.create({ heartbeatIntervalSeconds: 2 });
  await c.start();
  const variants: Record<string, string[]> = { plain: [], rtlite: ['-r', '/tmp/lite.js'], rtnoopt: ['-r', '/tmp/noopt.js'], noopt: ['--no-opt'], lite: ['--lite-mode'] };
  const procs: Record<string, number> = {};
  const children = [];
  for (const [name, args] of Object.entries(variants)) {
    const dataDir = join(dirs.make('d'), 'a');
    await runAgentCommand(['enroll', '--controller', c.address, '--token', c.createToken(), '--data-dir', dataDir, '--name', name]);
    const child = spawn(process.execPath, [...args, AGENT_BIN, 'run', '--data-dir', dataDir], { stdio: 'ignore' });
    children.push(child);
    procs[name] = child.pid!;
  }
  await waitFor(() => c.streams.size === 5, 'hello');
  const lines: string[] = [];
  for (let i = 1; i <= 6; i++) { await new Promise((r) => setTimeout(r, 20000)); lines.push(`${i * 20}s ` + Object.entries(procs).map(([n, p]) => `${n}=${rss(p)}`).join(' ')); }
  console.log(lines.join('\n'));
  for (const ch of children) ch.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1000));
  await c.stop(); dirs.cleanup();
}, 400000);
