import { formatBytes, formatDuration } from './format';

/** Progress redraws at most this often (5 times a second). */
const REDRAW_EVERY_MS = 200;

/** What a progress line can show; anything unknown is left out rather than guessed. */
export interface ProgressFigures {
  /** A word for what is happening ("backing up"), shown first. */
  activity?: string;
  /** Things done so far: files, packs… With a total, it gives the percentage and ETA when bytes do not. */
  count?: { done: number; total?: number; noun: string };
  bytesDone?: number;
  /** When known, a percentage and an ETA are shown. */
  totalBytes?: number;
}

/**
 * Where a command's output goes. Data (text or one JSON document) goes to stdout; warnings,
 * notes and the progress line go to stderr. Progress is drawn only on a terminal and never
 * with --json, so pipes and logs get no noise; messages clear the line before printing.
 */
export class Terminal {
  readonly showsProgress: boolean;
  private progressShown = false;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    this.showsProgress = !json && stderr.isTTY === true;
  }

  /** Text for people on stdout; suppressed with --json, where only the document is printed. */
  print(text: string): void {
    if (this.json) return;
    this.clearProgress();
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The command's one JSON document. */
  printJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Something that went wrong but did not stop the command (an unreadable file). */
  warn(message: string): void {
    this.toStderr(`warning: ${message}`);
  }

  /** Something skipped on purpose, worth knowing (a socket). */
  note(message: string): void {
    this.toStderr(`note: ${message}`);
  }

  /** A line of a tool's or hook's own output (pg_dump, a before hook), passed through on stderr. */
  log(line: string): void {
    this.toStderr(line);
  }

  /** One of several problems a command found (check, restore); the command then fails. */
  problem(message: string): void {
    this.toStderr(`error: ${message}`);
  }

  /** Redraws the progress line, at most 5 times a second. */
  progress(figures: ProgressFigures): void {
    if (!this.showsProgress) return;
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_EVERY_MS) return;
    this.lastDraw = now;
    const columns = this.stderr.columns || 80;
    const line = Array.from(progressLine(figures, now - this.started)).slice(0, columns - 1).join('');
    this.stderr.write(`\r${line}\x1b[K`);
    this.progressShown = true;
  }

  /** Removes the progress line, so what follows starts on a clean line. */
  clearProgress(): void {
    if (!this.progressShown) return;
    this.stderr.write('\r\x1b[K');
    this.progressShown = false;
  }

  private toStderr(line: string): void {
    this.clearProgress();
    this.stderr.write(`${line}\n`);
  }
}

/** "[0:12] 35% 1,204/5,000 files, 1.20 GiB/3.40 GiB, 98.0 MiB/s, ETA 0:24": short enough for 80 columns. */
export function progressLine(f: ProgressFigures, elapsedMs: number): string {
  const parts: string[] = [];
  let fraction: number | undefined;
  if (f.count) {
    const { done, total, noun } = f.count;
    parts.push(`${count(done)}${total !== undefined ? `/${count(total)}` : ''} ${noun}`);
    if (total !== undefined && total > 0) fraction = done / total;
  }
  if (f.bytesDone !== undefined) {
    const known = f.totalBytes !== undefined && f.totalBytes > 0;
    if (known) fraction = f.bytesDone / f.totalBytes!;
    parts.push(`${formatBytes(f.bytesDone)}${known ? `/${formatBytes(f.totalBytes!)}` : ''}`);
    if (elapsedMs >= 1000) parts.push(`${formatBytes((f.bytesDone / elapsedMs) * 1000)}/s`);
  }
  let head = `[${clock(elapsedMs)}]`;
  if (fraction !== undefined) {
    const shown = Math.min(1, Math.max(0, fraction));
    head += ` ${Math.floor(shown * 100)}%`;
    if (shown > 0 && elapsedMs >= 1000) parts.push(`ETA ${clock((elapsedMs / shown) * (1 - shown))}`);
  }
  if (f.activity) head += ` ${f.activity}`;
  return `${head} ${parts.join(', ')}`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** 75_000 → "1:15", 3_700_000 → "1:01:40". */
function clock(ms: number): string {
  if (!Number.isFinite(ms)) return formatDuration(ms);
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
