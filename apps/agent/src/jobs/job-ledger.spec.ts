import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_STOPPED_MESSAGE, isUsableJobId, JobLedger, TOMBSTONE_TTL_MS } from './job-ledger';
import { emptyResult, JobResult } from './job-types';

let dir: string;
let now: number;
const clock = () => now;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'coffer-agent-ledger-')), 'jobs');
  now = 1_700_000_000_000;
});
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

function result(jobId: string, outcome: JobResult['outcome'] = 'succeeded', finishedAtMs = now): JobResult {
  return { ...emptyResult(jobId, 'backup', now - 1000), outcome, finishedAtMs, log: ['a line'] };
}

function reopen(): JobLedger {
  const ledger = new JobLedger(dir, clock);
  ledger.open();
  return ledger;
}

describe('JobLedger', () => {
  test('running → finished (outbox) → acknowledged (tombstone), each step durable', () => {
    const ledger = new JobLedger(dir, clock);
    ledger.open();
    ledger.recordStart('job-1', 'backup', 1, now);
    expect(JSON.parse(readFileSync(join(dir, 'job-1.json'), 'utf8'))).toMatchObject({ jobId: 'job-1', state: 'running', attempt: 1 });
    expect(ledger.outbox()).toEqual([]);

    now += 5000;
    ledger.recordFinish(result('job-1'));
    expect(reopen().get('job-1')).toMatchObject({ state: 'finished', startedAtMs: now - 5000 });
    expect(reopen().outbox().map((r) => r.jobId)).toEqual(['job-1']);

    expect(ledger.acknowledge('job-1')).toBe(true);
    expect(ledger.acknowledge('job-1')).toBe(false); // twice is harmless
    const after = reopen();
    expect(after.outbox()).toEqual([]);
    expect(after.get('job-1')).toMatchObject({ state: 'finished', ackedAtMs: now, result: { outcome: 'succeeded', log: ['a line'] } });
    // In memory a tombstone is kept without its log; get() reads it back whole.
    expect(ledger.all()[0].result?.log).toEqual([]);
    expect(ledger.get('job-1')?.result?.log).toEqual(['a line']);
  });

  test('a job id is recorded once', () => {
    const ledger = reopen();
    ledger.recordStart('job-1', 'backup', 1, now);
    expect(() => ledger.recordStart('job-1', 'backup', 2, now)).toThrow(/already in the ledger/);
  });

  test('an entry left running by a dead agent becomes FAILED in the outbox on open', () => {
    const first = reopen();
    first.recordStart('job-1', 'restore', 1, now);
    now += 60_000;
    const ledger = new JobLedger(dir, clock);
    expect(ledger.open()).toEqual({ interrupted: ['job-1'], damaged: [] });
    const [failed] = ledger.outbox();
    expect(failed).toMatchObject({ jobId: 'job-1', kind: 'restore', outcome: 'failed', errorMessage: AGENT_STOPPED_MESSAGE, startedAtMs: now - 60_000, finishedAtMs: now });
    // ... and stays so: the next open finds nothing running.
    expect(new JobLedger(dir, clock).open().interrupted).toEqual([]);
  });

  test('the outbox lists un-acked results oldest first', () => {
    const ledger = reopen();
    ledger.recordFinish(result('b', 'failed', now + 2));
    ledger.recordFinish(result('a', 'succeeded', now + 1));
    ledger.recordFinish(result('c', 'cancelled', now + 3));
    ledger.acknowledge('c');
    expect(ledger.outbox().map((r) => r.jobId)).toEqual(['a', 'b']);
  });

  test('tombstones are pruned after their time to live, un-acked results never', () => {
    const ledger = reopen();
    ledger.recordFinish(result('old'));
    ledger.acknowledge('old');
    ledger.recordFinish(result('pending'));
    now += TOMBSTONE_TTL_MS - 1;
    expect(ledger.pruneTombstones()).toBe(0);
    now += 2;
    expect(ledger.pruneTombstones()).toBe(1);
    expect(ledger.get('old')).toBeUndefined();
    expect(readdirSync(dir).sort()).toEqual(['pending.json']);
    expect(reopen().outbox().map((r) => r.jobId)).toEqual(['pending']);
  });

  test('open removes temporary files a crash left, and keeps a damaged entry known as failed', () => {
    reopen().recordFinish(result('fine'));
    writeFileSync(join(dir, '.tmp-fine.json-abc123'), '{"half');
    writeFileSync(join(dir, 'broken.json'), '{"jobId": "bro');
    const ledger = new JobLedger(dir, clock);
    const opened = ledger.open();
    expect(opened.damaged).toHaveLength(1);
    expect(readdirSync(dir).sort()).toEqual(['broken.json', 'fine.json']);
    expect(ledger.get('broken')).toMatchObject({ state: 'finished', result: { outcome: 'failed' } });
    expect(ledger.get('fine')?.result?.outcome).toBe('succeeded');
  });

  test('peek reads without changing anything', () => {
    reopen().recordStart('job-1', 'backup', 1, now);
    expect(JobLedger.peek(dir).map((e) => [e.jobId, e.state])).toEqual([['job-1', 'running']]);
    expect(JSON.parse(readFileSync(join(dir, 'job-1.json'), 'utf8')).state).toBe('running');
    expect(JobLedger.peek(join(dir, 'missing'))).toEqual([]);
  });

  test('only ids fit for file names are usable', () => {
    expect(isUsableJobId('3f1c1f9e-5a0e-4a7c-9a51-0d2e8c1b7f10')).toBe(true);
    expect(isUsableJobId('../../etc/passwd')).toBe(false);
    expect(isUsableJobId('.hidden')).toBe(false);
    expect(isUsableJobId('')).toBe(false);
    expect(isUsableJobId('a'.repeat(129))).toBe(false);
  });
});
