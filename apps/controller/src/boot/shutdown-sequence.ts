import type { LoggerService } from '@nestjs/common';

/** How long a clean stop may take before the process gives up waiting and exits. */
const STOP_DEADLINE_MS = 20_000;

/**
 * What start-up opened, closed in reverse order on SIGTERM/SIGINT (or when start-up fails
 * half-way), then the process exits.
 */
export class ShutdownSequence {
  private readonly steps: { name: string; close: () => Promise<void> | void }[] = [];
  private stopping?: Promise<void>;

  constructor(private readonly logger: LoggerService) {}

  /** Exits after a clean stop when one of these signals arrives. */
  exitOnSignals(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
    for (const signal of signals) {
      process.on(signal, () => {
        if (this.stopping) return; // a second Ctrl-C while stopping changes nothing
        this.logger.log(`${signal} received: stopping`);
        void this.closeAll().then(() => process.exit(0));
      });
    }
  }

  /** Registers something to close; the last added closes first. */
  add(name: string, close: () => Promise<void> | void): void {
    this.steps.push({ name, close });
  }

  /** Closes everything once (later calls wait for the same run); never throws. */
  closeAll(): Promise<void> {
    this.stopping ??= this.run();
    return this.stopping;
  }

  private async run(): Promise<void> {
    const deadline = setTimeout(() => {
      this.logger.error(`stopping took longer than ${STOP_DEADLINE_MS / 1000} s: exiting anyway`);
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    for (const step of this.steps.reverse()) {
      try {
        await step.close();
      } catch (err) {
        this.logger.error(`could not close the ${step.name} cleanly: ${(err as Error).message}`);
      }
    }
    clearTimeout(deadline);
  }
}
