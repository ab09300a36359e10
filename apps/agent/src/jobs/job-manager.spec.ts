import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../shared/logger';
import type { AbortReason } from './job-abort';
import { emptyProducts } from './job-context';
import type { JobEnd, JobHandle, JobLauncher, JobObserver } from './job-launcher';
import { AGENT_STOPPED_MESSAGE, JobLedger } from './job-ledger';
import { JobEventSink, JobManager } from './job-manager';
import type { JobRequest, JobResult } from './job-types';

/** A launched job the test finishes by hand. */
class FakeJob implements JobHandle {
  aborts: AbortReason[] = [];
  killed = false;
  readonly ended: Promise<JobEnd>;
  private resolve!: (end: JobEnd) => void;

  constructor(
    readonly request: JobRequest,
    readonly observer: JobObserver,
  ) {
    this.ended = new Promise((resolve) => (this.resolve = resolve));
  }
  abort(reason: AbortReason): void {
    this.aborts.push(reason);
  }
  kill(): void {
    this.killed = true;
    this.resolve({ exit: 'signal SIGKILL' });
  }
  succeed(products = emptyProducts()): void {
    this.resolve({ outcome: { ok: true, errorMessage: '', aborted: false, products }, exit: 'exit code 0' });
  }
  fail(errorMessage: string, aborted = false): void {
    this.resolve({ outcome: { ok: false, errorMessage, aborted, products: emptyProducts() }, exit: 'exit code 1' });
  }
}

class FakeLauncher implements JobLauncher {
  jobs: FakeJob[] = [];
  launch(request: JobRequest, _agentName: string, observer: JobObserver): JobHandle {
    const job = new FakeJob(request, observer);
    this.jobs.push(job);
    return job;
  }
}

/** Records what would go to the controller. */
class RecordingSink implements JobEventSink {
  events: Array<['accepted', string] | ['progress', string] | ['finished', JobResult]> = [];
  accepted(jobId: string): void {
    this.events.push(['accepted', jobId]);
  }
  progress(report: { jobId: string }): void {
    this.events.push(['progress', report.jobId]);
  }
  finished(result: JobResult): void {
    this.events.push(['finished', result]);
  }
  finishedResults(jobId?: string): JobResult[] {
    return this.events.filter((e): e is ['finished', JobResult] => e[0] === 'finished' && (!jobId || e[1].jobId === jobId)).map((e) => e[1]);
  }
}

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const flush = () => new Promise((resolve) => setImmediate(resolve));

function backup(jobId: string, timeoutSeconds = 0): JobRequest {
  return {
    jobId,
    attempt: 1,
    timeoutSeconds,
    repository: { name: 'r', url: 'file:///srv/repo', password: 'secret-password', environment: {} },
    spec: { kind: 'backup', policyName: 'p', sources: [{ kind: 'files', paths: ['/srv'], include: [], exclude: [], oneFileSystem: false }], tags: [], hooks: { before: [], after: [] } },
  };
}

let root: string;
let ledger: JobLedger;
let launcher: FakeLauncher;
let sink: RecordingSink;
let manager: JobManager;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'coffer-agent-manager-'));
  ledger = new JobLedger(join(root, 'jobs'));
  ledger.open();
  launcher = new FakeLauncher();
  sink = new RecordingSink();
  manager = new JobManager({ ledger, launcher, agentName: 'host-a', logger: quiet, abortGraceMs: 50 });
  manager.setSink(sink);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('JobManager', () => {
  test('accepts at once, records running before starting, then records and sends the result', async () => {
    manager.runJob(backup('j1'));
    expect(sink.events).toEqual([['accepted', 'j1']]);
    expect(ledger.get('j1')?.state).toBe('running');
    expect(manager.runningJobIds()).toEqual(['j1']);

    launcher.jobs[0].observer.onProgress({ phase: 'backing up', filesDone: 1, filesTotal: 2, bytesDone: 3, bytesTotal: 4, bytesPerSecond: 5 });
    launcher.jobs[0].observer.onLog('warning: /srv/x: permission denied');
    launcher.jobs[0].succeed();
    await flush();

    const [result] = sink.finishedResults('j1');
    expect(result).toMatchObject({ outcome: 'succeeded', errorMessage: '', log: ['warning: /srv/x: permission denied'] });
    expect(ledger.outbox()).toEqual([result]);
    expect(manager.runningJobIds()).toEqual([]);
    expect(sink.events.map((e) => e[0])).toEqual(['accepted', 'progress', 'finished']);
  });

  test('a repeated RunJob never runs the job twice', async () => {
    manager.runJob(backup('j1'));
    manager.runJob(backup('j1')); // still running: accepted again
    expect(launcher.jobs).toHaveLength(1);
    expect(sink.events).toEqual([
      ['accepted', 'j1'],
      ['accepted', 'j1'],
    ]);
    launcher.jobs[0].succeed();
    await flush();
    manager.runJob(backup('j1')); // finished: the stored result again
    manager.acknowledge('j1');
    manager.runJob(backup('j1')); // tombstone: still the stored result
    expect(launcher.jobs).toHaveLength(1);
    const results = sink.finishedResults('j1');
    expect(results).toHaveLength(3);
    expect(results[2]).toEqual(results[0]);
  });

  test('a job known to a previous agent process is answered from the ledger', () => {
    ledger.recordStart('old', 'backup', 1, 1);
    const reopened = new JobLedger(join(root, 'jobs'));
    reopened.open();
    const next = new JobManager({ ledger: reopened, launcher, agentName: 'host-a', logger: quiet });
    next.setSink(sink);
    next.runJob(backup('old'));
    expect(launcher.jobs).toHaveLength(0);
    expect(sink.finishedResults('old')[0]).toMatchObject({ outcome: 'failed', errorMessage: AGENT_STOPPED_MESSAGE });
  });

  test('results wait in the outbox while disconnected, and are re-sent until acked', async () => {
    manager.setSink(undefined);
    manager.runJob(backup('j1'));
    launcher.jobs[0].succeed();
    await flush();
    expect(sink.events).toEqual([]);

    manager.setSink(sink);
    manager.resendOutbox();
    manager.resendOutbox();
    expect(sink.finishedResults('j1')).toHaveLength(2);
    manager.acknowledge('j1');
    manager.resendOutbox();
    expect(sink.finishedResults('j1')).toHaveLength(2);
  });

  test('CancelJob asks the job to stop and reports CANCELLED with the reason', async () => {
    manager.runJob(backup('j1'));
    manager.cancelJob('j1', 'operator asked');
    expect(launcher.jobs[0].aborts).toEqual(['cancel']);
    launcher.jobs[0].fail('the job was cancelled', true);
    await flush();
    expect(sink.finishedResults('j1')[0]).toMatchObject({ outcome: 'cancelled', errorMessage: 'cancelled by the controller: operator asked' });
  });

  test('a job that does not stop within the grace period is killed', async () => {
    manager.runJob(backup('j1'));
    manager.cancelJob('j1', '');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(launcher.jobs[0].killed).toBe(true);
    const [result] = sink.finishedResults('j1');
    expect(result).toMatchObject({ outcome: 'cancelled', errorMessage: 'cancelled by the controller' });
    expect(result.log.at(-1)).toMatch(/did not stop within .* its process was killed/);
  });

  test('a cancel for a job not started yet means it never runs', () => {
    manager.cancelJob('j1', 'changed my mind');
    manager.runJob(backup('j1'));
    expect(launcher.jobs).toHaveLength(0);
    const results = sink.finishedResults('j1');
    expect(results).toHaveLength(2);
    expect(results[1]).toMatchObject({ outcome: 'cancelled', errorMessage: 'cancelled before it started: changed my mind' });
  });

  test('timeout_seconds stops the job with TIMED_OUT', async () => {
    manager.runJob(backup('j1', 0.05));
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(launcher.jobs[0].aborts).toEqual(['timeout']);
    launcher.jobs[0].fail('the job ran out of time', true);
    await flush();
    expect(sink.finishedResults('j1')[0]).toMatchObject({ outcome: 'timed_out', errorMessage: 'the job did not finish within its time limit of 0.05 s' });
  });

  test('work that completed before a stop request took effect is reported as succeeded', async () => {
    manager.runJob(backup('j1'));
    manager.cancelJob('j1', '');
    launcher.jobs[0].succeed({ ...emptyProducts(), snapshots: [{ id: 'abc' } as never] });
    await flush();
    const [result] = sink.finishedResults('j1');
    expect(result.outcome).toBe('succeeded');
    expect(result.snapshots).toEqual([{ id: 'abc' }]);
    expect(result.log.at(-1)).toMatch(/already completed its work/);
  });

  test('a job process that dies without a word is a failure that says so', async () => {
    manager.runJob(backup('j1'));
    launcher.jobs[0].kill();
    await flush();
    expect(sink.finishedResults('j1')[0]).toMatchObject({ outcome: 'failed', errorMessage: 'the job process ended unexpectedly (signal SIGKILL)' });
  });

  test('shutdown stops running jobs and records them as failed because the agent stopped', async () => {
    manager.runJob(backup('j1'));
    const done = manager.shutdown();
    expect(launcher.jobs[0].aborts).toEqual(['shutdown']);
    launcher.jobs[0].fail('the agent is stopping', true);
    await done;
    expect(ledger.get('j1')?.result).toMatchObject({ outcome: 'failed', errorMessage: AGENT_STOPPED_MESSAGE });
  });

  test('a job the agent cannot run is recorded as failed without running, and answered the same way again', () => {
    manager.rejectJob('j1', 'backup', 'a source of the backup job is of a kind this agent does not know');
    manager.runJob(backup('j1'));
    expect(launcher.jobs).toHaveLength(0);
    expect(sink.finishedResults('j1').map((r) => r.errorMessage)).toEqual([
      'a source of the backup job is of a kind this agent does not know',
      'a source of the backup job is of a kind this agent does not know',
    ]);
  });

  test('a job id unfit for a file name is refused, not run', () => {
    manager.runJob(backup('../../etc/passwd'));
    expect(launcher.jobs).toHaveLength(0);
    expect(sink.finishedResults()[0]).toMatchObject({ outcome: 'failed', errorMessage: expect.stringContaining('is not usable') });
  });

  test('the ledger never holds the repository password', async () => {
    manager.runJob(backup('j1'));
    launcher.jobs[0].succeed();
    await flush();
    expect(JSON.stringify(JobLedger.peek(join(root, 'jobs')))).not.toContain('secret-password');
  });
});
