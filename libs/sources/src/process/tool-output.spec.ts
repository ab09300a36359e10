import { commandOutput, toolOutput } from './tool-output';

class StoppedError extends Error {}

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('commandOutput', () => {
  test('ends with the whole output once the command exits 0', async () => {
    const lines: string[] = [];
    const out = commandOutput("printf 'a%.0s' $(seq 1 100000); echo note >&2", { signal: new AbortController().signal, onStderrLine: (l) => lines.push(l) });
    const data = await drain(out);
    expect(data.length).toBe(100_000);
    expect(lines).toEqual(['note']);
  });

  test('fails instead of ending when the command exits non-zero, naming its last stderr line', async () => {
    const out = commandOutput("printf 'partial'; echo first >&2; echo 'fatal: gone' >&2; exit 3", { signal: new AbortController().signal, onStderrLine: () => undefined });
    await expect(drain(out)).rejects.toThrow('the command exited with status 3: fatal: gone');
  });

  test('fails when the command is killed', async () => {
    const out = commandOutput('kill -9 $$', { signal: new AbortController().signal, onStderrLine: () => undefined });
    await expect(drain(out)).rejects.toThrow('the command was killed by SIGKILL');
  });

  test('a failure before anyone reads is kept for the reader, not thrown into the void', async () => {
    const out = commandOutput('exit 1', { signal: new AbortController().signal, onStderrLine: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(drain(out)).rejects.toThrow('the command exited with status 1');
  });

  test('stopping the job stops the command and fails the stream', async () => {
    const abort = new AbortController();
    const out = commandOutput('echo started; exec sleep 30', { signal: abort.signal, onStderrLine: () => undefined });
    const reading = drain(out);
    setTimeout(() => abort.abort(new StoppedError('timeout')), 200);
    const started = Date.now();
    await expect(reading).rejects.toBeInstanceOf(StoppedError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('waits for a slow reader (backpressure) and still delivers every byte', async () => {
    const out = commandOutput('head -c 5000000 /dev/zero', { signal: new AbortController().signal, onStderrLine: () => undefined });
    let total = 0;
    for await (const chunk of out as AsyncIterable<Buffer>) {
      total += chunk.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(total).toBe(5_000_000);
  });

  test('a tool that reports its real output length gets its trailing bytes cut there', async () => {
    const trim = { holdBack: 4, outputLength: (stderr: string) => Number(/after (\d+) bytes/.exec(stderr)?.[1]) };
    const out = toolOutput('/bin/sh', ['-c', "printf 'payloadMARK'; echo 'done after 7 bytes' >&2"], { trim });
    expect((await drain(out)).toString()).toBe('payload');
  });

  test('a tool that exits 0 but reports more output than it wrote fails', async () => {
    const trim = { holdBack: 4, outputLength: () => 99 };
    const out = toolOutput('/bin/sh', ['-c', "printf 'short'"], { trim, label: 'redis-cli' });
    await expect(drain(out)).rejects.toThrow('redis-cli reported 99 bytes of output but wrote 5');
  });
});
