import { commandOutput } from './command-output';
import { JobAbortedError } from './job-abort';

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
    setTimeout(() => abort.abort(new JobAbortedError('timeout')), 200);
    const started = Date.now();
    await expect(reading).rejects.toBeInstanceOf(JobAbortedError);
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
});
