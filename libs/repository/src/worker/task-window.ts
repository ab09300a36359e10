/**
 * Keeps at most `limit` tasks running: callers wait for room before starting another, which
 * bounds the data handed to workers at any time.
 */
export class TaskWindow {
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly limit: number) {}

  /** Resolves once fewer than `limit` tasks run; rejects with a task's failure. */
  async waitForRoom(): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
  }

  /** Tracks a started task. A failure surfaces from waitForRoom() or drain(), not as unhandled. */
  add(task: Promise<unknown>): void {
    const tracked = task.finally(() => this.running.delete(tracked));
    tracked.catch(() => undefined);
    this.running.add(tracked);
  }

  /** Resolves once every task has finished; rejects with a task's failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
  }
}
