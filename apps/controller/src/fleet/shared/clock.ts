import { Injectable } from '@nestjs/common';

/**
 * The time, behind a port so that services with deadlines (liveness, job timeouts, the
 * scheduler) can be tested with a fake clock.
 */
export abstract class Clock {
  /** The current time. */
  abstract now(): Date;
}

/** The real clock. */
@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** A clock a test moves by hand. */
export class FakeClock extends Clock {
  constructor(private current: Date = new Date('2025-01-01T00:00:00Z')) {
    super();
  }

  now(): Date {
    return new Date(this.current.getTime());
  }

  set(at: Date): void {
    this.current = new Date(at.getTime());
  }

  advance(milliseconds: number): void {
    this.current = new Date(this.current.getTime() + milliseconds);
  }
}
