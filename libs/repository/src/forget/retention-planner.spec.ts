import fc from 'fast-check';
import {
  formatRetentionDuration,
  hasAnyRule,
  parseRetentionDuration,
  planRetention,
  RetentionCandidate,
  RetentionPlan,
  RetentionRules,
} from './retention-planner';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date('2027-01-01T00:00:00Z');

function snap(id: string, iso: string, over: Partial<RetentionCandidate> = {}): RetentionCandidate {
  return { id, time: new Date(iso), host: 'web-1', sourceKind: 'files', paths: ['/etc'], tags: [], ...over };
}

/** Ids kept and removed, for a plan expected to hold one group. */
function split(plan: RetentionPlan): { keep: string[]; remove: string[] } {
  expect(plan.groups).toHaveLength(1);
  const [group] = plan.groups;
  return { keep: group.keep.map((k) => k.snapshot.id), remove: group.remove.map((s) => s.id) };
}

function reasonsOf(plan: RetentionPlan, id: string): string[] | undefined {
  for (const group of plan.groups) {
    const kept = group.keep.find((k) => k.snapshot.id === id);
    if (kept) return kept.reasons;
  }
  return undefined;
}

function keptIds(plan: RetentionPlan): Set<string> {
  return new Set(plan.groups.flatMap((g) => g.keep.map((k) => k.snapshot.id)));
}

describe('planRetention', () => {
  it('keeps 7 daily, 4 weekly and 12 monthly snapshots of a month of dailies', () => {
    // One snapshot a day at noon UTC, 2026-10-20 (Tue) .. 2026-11-18 (Wed), ids = dates.
    const days: string[] = [];
    for (let t = Date.UTC(2026, 9, 20); t <= Date.UTC(2026, 10, 18); t += DAY) days.push(new Date(t).toISOString().slice(0, 10));
    expect(days).toHaveLength(30);
    const plan = planRetention(
      days.map((d) => snap(d, `${d}T12:00:00Z`)),
      { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
      NOW,
      'UTC',
    );

    // Daily: 11-18 .. 11-12. Weekly (ISO weeks start Monday): W47 (11-16..) → 11-18,
    // W46 → Sun 11-15, W45 → 11-08, W44 → 11-01. Monthly: Nov → 11-18, Oct → 10-31;
    // only two months exist, so the other ten monthly slots stay unused.
    const keep = ['2026-11-18', '2026-11-17', '2026-11-16', '2026-11-15', '2026-11-14', '2026-11-13', '2026-11-12', '2026-11-08', '2026-11-01', '2026-10-31'];
    const { keep: kept, remove } = split(plan);
    expect(kept).toEqual(keep);
    expect(remove).toEqual(days.filter((d) => !keep.includes(d)).reverse());
    expect(reasonsOf(plan, '2026-11-18')).toEqual(['daily snapshot 2026-11-18', 'weekly snapshot 2026-W47', 'monthly snapshot 2026-11', 'newest in group']);
    expect(reasonsOf(plan, '2026-11-15')).toEqual(['daily snapshot 2026-11-15', 'weekly snapshot 2026-W46']);
    expect(reasonsOf(plan, '2026-11-08')).toEqual(['weekly snapshot 2026-W45']);
    expect(reasonsOf(plan, '2026-11-01')).toEqual(['weekly snapshot 2026-W44']);
    expect(reasonsOf(plan, '2026-10-31')).toEqual(['monthly snapshot 2026-10']);
  });

  it('keepLast keeps the N newest, whatever the input order', () => {
    const input = [snap('c', '2026-05-03T00:00:00Z'), snap('e', '2026-05-05T00:00:00Z'), snap('a', '2026-05-01T00:00:00Z'), snap('d', '2026-05-04T00:00:00Z'), snap('b', '2026-05-02T00:00:00Z')];
    const plan = planRetention(input, { keepLast: 3 }, NOW, 'UTC');
    expect(split(plan)).toEqual({ keep: ['e', 'd', 'c'], remove: ['b', 'a'] });
    expect(reasonsOf(plan, 'e')).toEqual(['last snapshot', 'newest in group']);
    expect(reasonsOf(plan, 'c')).toEqual(['last snapshot']);
  });

  it('keepWithin counts back from the newest snapshot, not from now, boundary included', () => {
    const newest = Date.UTC(2025, 0, 10, 12);
    const at = (ms: number) => new Date(newest - ms).toISOString();
    const input = [snap('n', at(0)), snap('d1', at(DAY)), snap('d3', at(3 * DAY)), snap('d3+1ms', at(3 * DAY + 1)), snap('d9', at(9 * DAY))];
    // "now" two years after the newest snapshot: measured from now, nothing would be within.
    const plan = planRetention(input, { keepWithin: parseRetentionDuration('3d') }, new Date('2027-01-10T00:00:00Z'), 'UTC');
    expect(split(plan)).toEqual({ keep: ['n', 'd1', 'd3'], remove: ['d3+1ms', 'd9'] });
    expect(reasonsOf(plan, 'n')).toEqual(['within 3d', 'newest in group']);
    expect(reasonsOf(plan, 'd3')).toEqual(['within 3d']);
  });

  it('plans each host + source kind + path set on its own; path order does not matter', () => {
    const input = [
      snap('b-old', '2026-01-01T00:00:00Z', { host: 'b' }),
      snap('a-old', '2026-01-01T00:00:00Z', { host: 'a', paths: ['/srv', '/etc'] }),
      snap('a-new', '2026-01-02T00:00:00Z', { host: 'a', paths: ['/etc', '/srv'] }),
      snap('b-new', '2026-01-03T00:00:00Z', { host: 'b' }),
      snap('a-pg', '2025-01-01T00:00:00Z', { host: 'a', sourceKind: 'postgres', paths: ['/etc', '/srv'] }),
    ];
    const plan = planRetention(input, { keepLast: 1 }, NOW, 'UTC');
    expect(
      plan.groups.map((g) => ({ host: g.host, kind: g.sourceKind, paths: g.paths, keep: g.keep.map((k) => k.snapshot.id), remove: g.remove.map((s) => s.id) })),
    ).toEqual([
      { host: 'a', kind: 'files', paths: ['/etc', '/srv'], keep: ['a-new'], remove: ['a-old'] },
      { host: 'a', kind: 'postgres', paths: ['/etc', '/srv'], keep: ['a-pg'], remove: [] },
      { host: 'b', kind: 'files', paths: ['/etc'], keep: ['b-new'], remove: ['b-old'] },
    ]);
  });

  it('keepHourly keeps the newest snapshot of each hour', () => {
    // Every 20 minutes, 10:00 .. 12:40 UTC.
    const input: RetentionCandidate[] = [];
    for (let m = 0; m <= 160; m += 20) input.push(snap(`m${m}`, new Date(Date.UTC(2026, 10, 21, 10, m)).toISOString()));
    const plan = planRetention(input, { keepHourly: 2 }, NOW, 'UTC');
    expect(split(plan).keep).toEqual(['m160', 'm100']); // 12:40, 11:40
    expect(reasonsOf(plan, 'm160')).toEqual(['hourly snapshot 2026-11-21 12:00', 'newest in group']);
    expect(reasonsOf(plan, 'm100')).toEqual(['hourly snapshot 2026-11-21 11:00']);
  });

  it('keepYearly keeps the newest snapshot of each year, years taken in the time zone', () => {
    const input = [
      snap('2023-03', '2023-03-01T12:00:00Z'),
      snap('2023-12-31', '2023-12-31T23:00:00Z'),
      snap('2024-06', '2024-06-01T12:00:00Z'),
      snap('2024-12-31', '2024-12-31T12:00:00Z'),
      snap('2025-01-01', '2025-01-01T00:30:00Z'), // 2024-12-31 19:30 in New York
      snap('2025-07', '2025-07-01T12:00:00Z'),
    ];
    const utc = planRetention(input, { keepYearly: 3 }, NOW, 'UTC');
    expect(split(utc)).toEqual({ keep: ['2025-07', '2024-12-31', '2023-12-31'], remove: ['2025-01-01', '2024-06', '2023-03'] });
    expect(reasonsOf(utc, '2023-12-31')).toEqual(['yearly snapshot 2023']);

    const newYork = planRetention(input, { keepYearly: 3 }, NOW, 'America/New_York');
    expect(split(newYork)).toEqual({ keep: ['2025-07', '2025-01-01', '2023-12-31'], remove: ['2024-12-31', '2024-06', '2023-03'] });
    expect(reasonsOf(newYork, '2025-01-01')).toEqual(['yearly snapshot 2024']);
  });

  it('computes days in the given time zone: 23:30 and 00:30 UTC are one day in New York', () => {
    const input = [snap('late', '2026-03-10T23:30:00Z'), snap('early', '2026-03-11T00:30:00Z')];
    expect(split(planRetention(input, { keepDaily: 2 }, NOW, 'UTC'))).toEqual({ keep: ['early', 'late'], remove: [] });
    // 19:30 and 20:30 EDT on 2026-03-10.
    const newYork = planRetention(input, { keepDaily: 2 }, NOW, 'America/New_York');
    expect(split(newYork)).toEqual({ keep: ['early'], remove: ['late'] });
    expect(reasonsOf(newYork, 'early')).toEqual(['daily snapshot 2026-03-10', 'newest in group']);
  });

  it('uses ISO weeks that straddle a year end', () => {
    // 2026-01-01 is a Thursday, so Mon 2025-12-29 .. Sun 2026-01-04 is 2026-W01.
    const input = [snap('sun', '2026-01-04T12:00:00Z'), snap('mon', '2025-12-29T12:00:00Z'), snap('sun-before', '2025-12-28T12:00:00Z')];
    const plan = planRetention(input, { keepWeekly: 2 }, NOW, 'UTC');
    expect(split(plan)).toEqual({ keep: ['sun', 'sun-before'], remove: ['mon'] });
    expect(reasonsOf(plan, 'sun')).toEqual(['weekly snapshot 2026-W01', 'newest in group']);
    expect(reasonsOf(plan, 'sun-before')).toEqual(['weekly snapshot 2025-W52']);
  });

  it('orders equal times by id, so the plan does not depend on input order', () => {
    const t = '2026-02-02T02:02:02Z';
    const forward = planRetention([snap('x', t), snap('y', t), snap('z', t)], { keepLast: 2 }, NOW, 'UTC');
    const backward = planRetention([snap('z', t), snap('y', t), snap('x', t)], { keepLast: 2 }, NOW, 'UTC');
    expect(split(forward)).toEqual({ keep: ['x', 'y'], remove: ['z'] });
    expect(backward).toEqual(forward);
  });

  it('lists every reason a snapshot is kept for', () => {
    const plan = planRetention([snap('only', '2026-11-21T09:00:00Z')], { keepLast: 1, keepDaily: 1, keepWithin: 7 * DAY }, NOW, 'UTC');
    expect(reasonsOf(plan, 'only')).toEqual(['last snapshot', 'daily snapshot 2026-11-21', 'within 7d', 'newest in group']);
  });

  it('returns no groups for no snapshots and does not mutate its input', () => {
    expect(planRetention([], { keepLast: 1 }, NOW)).toEqual({ groups: [] });
    const input = [snap('b', '2026-01-01T00:00:00Z', { paths: ['/z', '/a'] }), snap('a', '2026-01-02T00:00:00Z', { paths: ['/z', '/a'] })];
    const copy = input.map((s) => ({ ...s, paths: [...s.paths] }));
    planRetention(input, { keepLast: 1 }, NOW, 'UTC');
    expect(input).toEqual(copy);
  });

  it('refuses to plan with no rule, or rules that keep nothing', () => {
    for (const rules of [{}, { keepLast: 0 }, { keepDaily: 0, keepWithin: 0 }]) {
      expect(() => planRetention([snap('a', '2026-01-01T00:00:00Z')], rules, NOW)).toThrow('no keep rule given: refusing to forget every snapshot');
    }
  });

  it.each<[RetentionRules, RegExp]>([
    [{ keepLast: -1 }, /keepLast must be a non-negative whole number, got -1/],
    [{ keepDaily: 1.5 }, /keepDaily must be a non-negative whole number, got 1.5/],
    [{ keepWeekly: Number.NaN }, /keepWeekly must be a non-negative whole number, got NaN/],
    [{ keepYearly: Number.POSITIVE_INFINITY }, /keepYearly/],
    [{ keepLast: 3, keepWithin: -1 }, /keepWithin must be a non-negative number of milliseconds, got -1/],
    [{ keepWithin: Number.NaN }, /keepWithin/],
  ])('rejects bad rules %p', (rules, message) => {
    expect(() => planRetention([snap('a', '2026-01-01T00:00:00Z')], rules, NOW, 'UTC')).toThrow(message);
  });

  it('rejects an unknown time zone, invalid times and duplicate ids', () => {
    const ok = snap('a', '2026-01-01T00:00:00Z');
    expect(() => planRetention([ok], { keepLast: 1 }, NOW, 'Mars/Olympus_Mons')).toThrow(/unknown time zone "Mars\/Olympus_Mons"/);
    expect(() => planRetention([snap('bad', 'not a date')], { keepLast: 1 }, NOW, 'UTC')).toThrow('snapshot bad has an invalid time');
    expect(() => planRetention([ok], { keepLast: 1 }, new Date(Number.NaN), 'UTC')).toThrow(/`now` is not a valid date/);
    expect(() => planRetention([ok, { ...ok, host: 'other' }], { keepLast: 1 }, NOW, 'UTC')).toThrow('snapshot id a appears twice in the input');
  });
});

describe('hasAnyRule', () => {
  it('is true only when some rule keeps something', () => {
    expect(hasAnyRule({})).toBe(false);
    expect(hasAnyRule({ keepLast: 0, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0, keepWithin: 0 })).toBe(false);
    expect(hasAnyRule({ keepMonthly: 1 })).toBe(true);
    expect(hasAnyRule({ keepWithin: 1 })).toBe(true);
  });
});

describe('parseRetentionDuration', () => {
  it.each([
    ['30d', 30 * DAY],
    ['12h', 12 * HOUR],
    ['2w', 14 * DAY],
    ['1y6m', (365 + 180) * DAY],
    ['1y2m3d4h', (365 + 60 + 3) * DAY + 4 * HOUR],
    ['0d', 0],
    ['007d', 7 * DAY],
  ])('parses %p', (text, ms) => {
    expect(parseRetentionDuration(text)).toBe(ms);
  });

  it.each([
    ['', /"": it is empty/],
    ['5', /the number 5 has no unit/],
    ['d', /unit "d" has no number before it/],
    ['1x', /unknown unit "x"/],
    ['-1d', /unexpected "-" at position 1/],
    ['1.5d', /unknown unit "\."/],
    [' 1d', /unexpected " " at position 1/],
    ['1D', /unknown unit "D"/],
    ['1d1y', /each unit may appear once, in the order y, m, w, d, h/],
    ['1d1d', /each unit may appear once/],
    ['99999999999999999999y', /too long/],
  ])('rejects %p with a message saying what to write', (text, message) => {
    expect(() => parseRetentionDuration(text)).toThrow(message);
    expect(() => parseRetentionDuration(text)).toThrow(/e\.g\. "30d"/);
  });
});

describe('formatRetentionDuration', () => {
  it.each([
    [0, '0h'],
    [7 * DAY, '7d'],
    [30 * DAY, '1m'],
    [400 * DAY + 5 * HOUR, '1y1m5d5h'],
  ])('formats %p as %p', (ms, text) => {
    expect(formatRetentionDuration(ms)).toBe(text);
  });

  it('rejects what it cannot write', () => {
    for (const ms of [-HOUR, HOUR / 2, Number.NaN]) expect(() => formatRetentionDuration(ms)).toThrow(/whole number of hours/);
  });
});

// ---------------------------------------------------------------------------------------
// Properties

const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];
const BASE = Date.UTC(2023, 0, 1);

// Times cluster on whole hours sometimes, so ties and shared buckets are common.
const timeArb = fc.oneof(
  fc.integer({ min: 0, max: 3 * 365 * DAY }),
  fc.integer({ min: 0, max: 200 }).map((h) => h * HOUR),
  fc.integer({ min: 0, max: 1000 }).map((d) => d * DAY),
);

const candidateArb: fc.Arbitrary<RetentionCandidate> = fc.record({
  id: fc.string({ minLength: 1, maxLength: 4 }),
  time: timeArb.map((ms) => new Date(BASE + ms)),
  host: fc.constantFrom('a', 'b'),
  sourceKind: fc.constantFrom('files', 'postgres'),
  paths: fc.shuffledSubarray(['/etc', '/home', '/var']),
  tags: fc.constant([]),
});

const snapshotsArb = fc.uniqueArray(candidateArb, { selector: (s) => s.id, maxLength: 60 });

const countArb = fc.integer({ min: 0, max: 6 });
const rulesArb: fc.Arbitrary<RetentionRules> = fc
  .record(
    {
      keepLast: countArb,
      keepHourly: countArb,
      keepDaily: countArb,
      keepWeekly: countArb,
      keepMonthly: countArb,
      keepYearly: countArb,
      keepWithin: fc.integer({ min: 0, max: 90 * DAY }),
    },
    { requiredKeys: [] },
  )
  .filter(hasAnyRule);

const zoneArb = fc.constantFrom(...ZONES);

const groupKey = (s: RetentionCandidate) => JSON.stringify([s.host, s.sourceKind, [...s.paths].sort()]);
const countSum = (r: RetentionRules) =>
  (r.keepLast ?? 0) + (r.keepHourly ?? 0) + (r.keepDaily ?? 0) + (r.keepWeekly ?? 0) + (r.keepMonthly ?? 0) + (r.keepYearly ?? 0);

describe('planRetention properties', () => {
  it('splits the input exactly: keep ∪ remove = input, disjoint, each in its own group', () => {
    fc.assert(
      fc.property(snapshotsArb, rulesArb, zoneArb, (snapshots, rules, zone) => {
        const plan = planRetention(snapshots, rules, NOW, zone);
        const out = plan.groups.flatMap((g) => [...g.keep.map((k) => k.snapshot), ...g.remove]);
        expect(out).toHaveLength(snapshots.length);
        expect(new Set(out)).toEqual(new Set(snapshots)); // same objects, none twice (lengths match)
        for (const g of plan.groups) {
          for (const s of [...g.keep.map((k) => k.snapshot), ...g.remove]) {
            expect(groupKey(s)).toBe(JSON.stringify([g.host, g.sourceKind, g.paths]));
          }
          expect(g.keep.every((k) => k.reasons.length > 0)).toBe(true);
        }
        expect(new Set(plan.groups.map((g) => JSON.stringify([g.host, g.sourceKind, g.paths]))).size).toBe(plan.groups.length);
      }),
    );
  });

  it('always keeps the newest snapshot of every group', () => {
    fc.assert(
      fc.property(snapshotsArb, rulesArb, zoneArb, (snapshots, rules, zone) => {
        const plan = planRetention(snapshots, rules, NOW, zone);
        const newest = new Map<string, RetentionCandidate>();
        for (const s of snapshots) {
          const best = newest.get(groupKey(s));
          if (!best || s.time > best.time || (s.time.getTime() === best.time.getTime() && s.id < best.id)) newest.set(groupKey(s), s);
        }
        expect(plan.groups).toHaveLength(newest.size);
        for (const s of newest.values()) expect(reasonsOf(plan, s.id)).toContain('newest in group');
      }),
    );
  });

  it('keeps at most the sum of the counts + the keepWithin matches + 1 per group', () => {
    fc.assert(
      fc.property(snapshotsArb, rulesArb, zoneArb, (snapshots, rules, zone) => {
        for (const g of planRetention(snapshots, rules, NOW, zone).groups) {
          const members = [...g.keep.map((k) => k.snapshot), ...g.remove];
          const newestMs = Math.max(...members.map((s) => s.time.getTime()));
          const within = rules.keepWithin ? members.filter((s) => s.time.getTime() >= newestMs - rules.keepWithin!).length : 0;
          expect(g.keep.length).toBeLessThanOrEqual(countSum(rules) + within + 1);
        }
      }),
    );
  });

  it('is monotonic: raising any rule never removes a snapshot that was kept', () => {
    const ruleArb = fc.constantFrom<keyof RetentionRules>('keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly', 'keepWithin');
    fc.assert(
      fc.property(snapshotsArb, rulesArb, zoneArb, ruleArb, fc.integer({ min: 1, max: 10 }), (snapshots, rules, zone, rule, by) => {
        const raised = { ...rules, [rule]: (rules[rule] ?? 0) + (rule === 'keepWithin' ? by * DAY : by) };
        const before = keptIds(planRetention(snapshots, rules, NOW, zone));
        const after = keptIds(planRetention(snapshots, raised, NOW, zone));
        for (const id of before) expect(after.has(id)).toBe(true);
      }),
    );
  });

  it('does not depend on input order', () => {
    const pairArb = snapshotsArb.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })));
    fc.assert(
      fc.property(pairArb, rulesArb, zoneArb, ([list, shuffled], rules, zone) => {
        expect(planRetention(shuffled, rules, NOW, zone)).toEqual(planRetention(list, rules, NOW, zone));
      }),
    );
  });
});

describe('parseRetentionDuration properties', () => {
  const UNIT_MS = { y: 365 * DAY, m: 30 * DAY, w: 7 * DAY, d: DAY, h: HOUR } as const;

  it('reads any in-order combination of units as the sum of its parts', () => {
    const partsArb = fc
      .record({ y: fc.nat(200), m: fc.nat(1000), w: fc.nat(1000), d: fc.nat(10_000), h: fc.nat(100_000) }, { requiredKeys: [] })
      .filter((parts) => Object.keys(parts).length > 0);
    fc.assert(
      fc.property(partsArb, (parts) => {
        const units = (['y', 'm', 'w', 'd', 'h'] as const).filter((u) => parts[u] !== undefined);
        const text = units.map((u) => `${parts[u]}${u}`).join('');
        expect(parseRetentionDuration(text)).toBe(units.reduce((sum, u) => sum + parts[u]! * UNIT_MS[u], 0));
      }),
    );
  });

  it('round-trips through formatRetentionDuration', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), (hours) => {
        const text = formatRetentionDuration(hours * HOUR);
        expect(parseRetentionDuration(text)).toBe(hours * HOUR);
        expect(formatRetentionDuration(parseRetentionDuration(text))).toBe(text);
      }),
    );
  });

  it('rejects garbage', () => {
    const garbageArb = fc.oneof(
      fc.string().filter((s) => !/^(\d+[ymwdh])+$/.test(s)),
      fc.nat().map(String),
      fc.nat().map((n) => `-${n}d`),
      fc.constantFrom(...'ymwdh').map((u) => u),
    );
    fc.assert(
      fc.property(garbageArb, (text) => {
        expect(() => parseRetentionDuration(text)).toThrow(/invalid retention duration/);
      }),
    );
  });
});
