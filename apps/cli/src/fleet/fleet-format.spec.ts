import { InvalidArgumentError } from 'commander';
import type { AgentHealthView } from '@coffer/contracts';
import { formatLabels, formatSpan, healthSummary, parseLabels, relativeTime } from './fleet-format';

describe('relativeTime', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it.each([
    ['2026-03-01T11:59:48Z', '12s ago'],
    ['2026-03-01T11:55:00Z', '5m ago'],
    ['2026-03-01T09:00:00Z', '3h ago'],
    ['2026-02-27T12:00:00Z', '2d ago'],
    ['2026-03-01T12:00:00.400Z', 'just now'],
    ['2026-03-01T12:59:59Z', 'in 1h'],
    ['2026-03-01T12:59:29Z', 'in 59m'],
  ])('%s is %s', (time, text) => expect(relativeTime(time, now)).toBe(text));

  it('rounds a span to its largest unit', () => {
    expect([12, 89.4, 3599, 5400, 47 * 3600, 200_000].map(formatSpan)).toEqual(['12s', '1m', '1h', '2h', '47h', '2d']);
  });

  it('says never for an agent not seen yet', () => {
    expect(relativeTime(null, now)).toBe('never');
  });
});

describe('labels', () => {
  it('parses key=value pairs separated by commas, over repeated options', () => {
    expect(parseLabels('role=web, env=prod')).toEqual({ role: 'web', env: 'prod' });
    expect(parseLabels('team/app=shop', { role: 'web' })).toEqual({ role: 'web', 'team/app': 'shop' });
    expect(parseLabels('empty=')).toEqual({ empty: '' });
  });

  it('refuses a pair without a key', () => {
    expect(() => parseLabels('role')).toThrow(InvalidArgumentError);
    expect(() => parseLabels('=web')).toThrow(InvalidArgumentError);
  });

  it('prints labels sorted by key', () => {
    expect(formatLabels({ role: 'web', env: 'prod' })).toBe('env=prod,role=web');
  });
});

describe('healthSummary', () => {
  it('shows load, memory in use and the free space of the fullest disk', () => {
    const health = {
      loadAverage: [0.523, 0.4, 0.3],
      memoryTotalBytes: 8 * 2 ** 30,
      memoryAvailableBytes: 6 * 2 ** 30,
      disks: [
        { path: '/', role: 'root', freeBytes: 40 * 2 ** 30, totalBytes: 100 * 2 ** 30 },
        { path: '/var/cache/coffer', role: 'cache', freeBytes: 12 * 2 ** 30, totalBytes: 20 * 2 ** 30 },
      ],
    } as AgentHealthView;
    expect(healthSummary(health)).toBe('load 0.52, mem 25%, 12.0 GiB free');
    expect(healthSummary(null)).toBe('-');
  });
});
