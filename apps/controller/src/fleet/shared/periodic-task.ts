import { Logger } from '@nestjs/common';

/**
 * Runs `work` every `intervalMs`, never two at once: a run that overlaps the next tick is
 * not stacked, and `trigger()` asks for an extra run as soon as the current one ends. The
 * timer is unref'd so it never keeps a process alive on its own. Errors are logged (with
 * the same message at most once a minute) and the loop goes on.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastError = '';
  private lastErrorAt = 0;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.trigger(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs now (or right after the run in progress). */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Waits for the run in progress, if any (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.work();
      } catch (error) {
        this.report(error);
      }
    } while (this.again && !this.stopped);
  }

  private report(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const now = Date.now();
    if (message === this.lastError && now - this.lastErrorAt < 60_000) return;
    this.lastError = message;
    this.lastErrorAt = now;
    this.logger.error(`${this.name} failed: ${message}`, error instanceof Error ? error.stack : undefined);
  }
}
