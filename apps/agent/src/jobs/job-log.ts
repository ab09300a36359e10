/** Lines a job's log keeps: the last ones, where the outcome is explained. */
export const JOB_LOG_LIMIT = 500;
/** A single line longer than this is cut (a command may print a megabyte without a newline). */
const LINE_LIMIT = 2000;

/** A job's log, bounded: keeps the last `limit` lines and counts the ones it let go. */
export class JobLog {
  private readonly kept: string[] = [];
  private dropped = 0;

  constructor(private readonly limit = JOB_LOG_LIMIT) {}

  add(line: string): void {
    this.kept.push(line.length > LINE_LIMIT ? `${line.slice(0, LINE_LIMIT - 1)}…` : line);
    if (this.kept.length > this.limit) {
      this.kept.shift();
      this.dropped++;
    }
  }

  /** Oldest first; a first line says how many earlier lines were not kept. */
  lines(): string[] {
    return this.dropped > 0 ? [`(${this.dropped} earlier line(s) not kept)`, ...this.kept] : [...this.kept];
  }
}
