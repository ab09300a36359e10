import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import type { JobDetailView, JobStatus } from '@coffer/contracts';
import { CliError } from '../shared/cli-error';
import { Terminal } from '../shared/terminal';
import { ControllerClient } from './controller-client';
import { requireSuccess, waitForJobs } from './job-wait';

function job(id: string, status: JobStatus, extra: Partial<JobDetailView> = {}): JobDetailView {
  return {
    id,
    kind: 'backup',
    status,
    policy: 'web',
    agent: 'db1',
    repository: 'main',
    attempt: 1,
    maxAttempts: 1,
    trigger: 'manual',
    late: false,
    scheduledFor: '2026-03-01T12:00:00.000Z',
    createdAt: '2026-03-01T12:00:00.000Z',
    startedAt: '2026-03-01T12:00:01.000Z',
    finishedAt: null,
    error: null,
    progress: null,
    snapshotIds: [],
    transitions: [],
    log: [],
    restore: null,
    verify: null,
    ...extra,
  };
}

function capture() {
  let text = '';
  const stream = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

/** A controller whose jobs go through the given states, one per GET. */
async function startController(states: Record<string, JobDetailView[]>): Promise<{ server: Server; client: ControllerClient; gets: string[] }> {
  const gets: string[] = [];
  const server = createServer((req, res) => {
    const id = decodeURIComponent(req.url!.replace('/api/v1/jobs/', ''));
    gets.push(id);
    const queue = states[id];
    const body = queue.length > 1 ? queue.shift() : queue[0];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new ControllerClient({ controller: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' });
  return { server, client, gets };
}

describe('waitForJobs', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('polls until the job ends and reports it with its snapshot', async () => {
    const done = job('aaaa1111-x', 'succeeded', { finishedAt: '2026-03-01T12:00:13.500Z', snapshotIds: ['feedbeef0011'] });
    const started = await startController({ 'aaaa1111-x': [job('aaaa1111-x', 'queued'), job('aaaa1111-x', 'running'), done] });
    server = started.server;
    const out = capture();
    const final = await waitForJobs(started.client, [job('aaaa1111-x', 'queued')], new Terminal(false, out.stream, capture().stream), 5);
    expect(final).toEqual([done]);
    expect(started.gets).toEqual(['aaaa1111-x', 'aaaa1111-x', 'aaaa1111-x']);
    expect(out.text()).toBe('job aaaa1111 (backup of policy "web" on db1) succeeded in 12.5s, snapshot feedbeef\n');
    expect(() => requireSuccess(final)).not.toThrow();
  });

  it('fails a single job with its own error', async () => {
    const failed = job('bbbb2222-x', 'failed', { error: 'disk full on /', finishedAt: '2026-03-01T12:00:02.000Z' });
    const started = await startController({ 'bbbb2222-x': [failed] });
    server = started.server;
    const final = await waitForJobs(started.client, [job('bbbb2222-x', 'running')], new Terminal(false, capture().stream, capture().stream), 5);
    expect(() => requireSuccess(final)).toThrow(new CliError('job bbbb2222 (backup of policy "web" on db1) failed: disk full on /'));
  });

  it('waits for every job, lists each failure as it ends, and fails unless all succeeded', async () => {
    const ok = job('cccc3333-x', 'succeeded', { agent: 'web1', finishedAt: '2026-03-01T12:00:02.000Z' });
    const late = job('dddd4444-x', 'timed_out', { finishedAt: '2026-03-01T12:10:00.000Z' });
    const started = await startController({ 'cccc3333-x': [ok], 'dddd4444-x': [job('dddd4444-x', 'running'), job('dddd4444-x', 'running'), late] });
    server = started.server;
    const out = capture();
    const err = capture();
    const final = await waitForJobs(started.client, [job('cccc3333-x', 'queued'), job('dddd4444-x', 'queued')], new Terminal(false, out.stream, err.stream), 5);
    expect(final).toEqual([ok, late]);
    expect(out.text()).toBe('job cccc3333 (backup of policy "web" on web1) succeeded in 1.0s\n');
    expect(err.text()).toBe('error: job dddd4444 (backup of policy "web" on db1) timed out\n');
    expect(() => requireSuccess(final)).toThrow(new CliError('1 of 2 jobs did not succeed (named above)'));
  });
});
