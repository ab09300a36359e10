import { formatBytes, formatDuration, formatMode, formatTable } from './format';
import { progressLine, Terminal } from './terminal';

function fakeStream(isTTY: boolean) {
  let text = '';
  const stream = { isTTY, columns: 80, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

describe('Terminal', () => {
  it('draws no progress when stderr is not a terminal', () => {
    const out = fakeStream(false);
    const err = fakeStream(false);
    const terminal = new Terminal(false, out.stream, err.stream);
    terminal.progress({ bytesDone: 100 });
    terminal.warn('/a: permission denied');
    expect(err.text()).toBe('warning: /a: permission denied\n');
  });

  it('draws no progress with --json, even on a terminal, and prints no text', () => {
    const out = fakeStream(true);
    const err = fakeStream(true);
    const terminal = new Terminal(true, out.stream, err.stream);
    terminal.progress({ bytesDone: 100 });
    terminal.print('text for people');
    terminal.printJson({ a: 1 });
    expect(err.text()).toBe('');
    expect(JSON.parse(out.text())).toEqual({ a: 1 });
  });

  it('on a terminal, redraws one line at most 5 times a second and clears it before messages', () => {
    const err = fakeStream(true);
    const terminal = new Terminal(false, fakeStream(false).stream, err.stream);
    terminal.progress({ bytesDone: 1 });
    terminal.progress({ bytesDone: 2 }); // too soon: skipped
    terminal.note('/run/x.sock: socket skipped');
    expect(err.text()).toBe('\r[0:00] 1 B\x1b[K\r\x1b[Knote: /run/x.sock: socket skipped\n');
  });
});

describe('progressLine', () => {
  it('shows percentage, rate and ETA once the total is known', () => {
    expect(progressLine({ count: { done: 10, total: 40, noun: 'files' }, bytesDone: 25 * 1024 * 1024, totalBytes: 100 * 1024 * 1024 }, 10_000)).toBe(
      '[0:10] 25% 10/40 files, 25.0 MiB/100 MiB, 2.50 MiB/s, ETA 0:30',
    );
    expect(progressLine({ count: { done: 1234, noun: 'files' }, bytesDone: 2048 }, 500)).toBe('[0:00] 1,234 files, 2.00 KiB');
  });

  it('stays within 80 columns for large backups', () => {
    const line = progressLine({ count: { done: 123_456, total: 987_654, noun: 'files' }, bytesDone: 1.2 * 2 ** 40, totalBytes: 9.9 * 2 ** 40 }, 7_200_000);
    expect(line.length).toBeLessThan(80);
  });
});

describe('format', () => {
  it('formats sizes, durations, modes and tables for people', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.00 GiB');
    expect(formatDuration(1234)).toBe('1.2s');
    expect(formatDuration(3_700_000)).toBe('1h01m40s');
    expect(formatMode('dir', 0o755)).toBe('drwxr-xr-x');
    expect(formatMode('file', 0o4755)).toBe('-rwsr-xr-x');
    expect(formatMode('dir', 0o1777)).toBe('drwxrwxrwt');
    expect(formatTable(['ID', 'Size'], [['ab', '1 B'], ['abcd', '10 KiB']], [1])).toBe('ID      Size\n----  ------\nab       1 B\nabcd  10 KiB\n');
  });
});
