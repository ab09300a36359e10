/**
 * The retention planner behind `coffer repo forget`: given snapshot metadata and keep
 * rules, it decides which snapshots stay and which go. Pure — no I/O, no clock — so the
 * CLI can show a dry run and the forget command can act on exactly the same plan.
 *
 * Semantics follow restic's `forget` policy:
 * - snapshots are grouped by host + source kind + sorted paths, and each group is planned
 *   on its own, newest first (equal times: lower id first, so the plan never depends on
 *   input order);
 * - keepLast N keeps the N newest;
 * - keepHourly/Daily/Weekly/Monthly/Yearly N walk newest → oldest and keep the newest
 *   snapshot of each distinct hour / calendar day / ISO week / month / year until N
 *   buckets are used. Buckets are civil time in the requested IANA time zone (via
 *   Intl.DateTimeFormat), so "a day" means a day on the wall clock of the operator;
 * - keepWithin D keeps every snapshot no older than D before the group's NEWEST snapshot
 *   (not before "now"; see planGroup);
 * - the rules add up: a snapshot is kept if any rule keeps it, and the plan lists every
 *   reason;
 * - the newest snapshot of every group is always kept.
 *
 * Differences from restic: no keep-tag rule (tags are carried, not used); a count of 0
 * counts as "no rule" and negative counts are rejected (restic reads -1 as "unlimited");
 * restic ≥ 0.17 also keeps the oldest snapshot when a bucket rule has buckets left over —
 * this planner does not.
 */

/** What the planner needs to know of a snapshot. */
export interface RetentionCandidate {
  id: string;
  time: Date;
  host: string;
  sourceKind: string;
  paths: string[];
  tags: string[];
}

/** Keep rules; every field optional; counts are non-negative integers, keepWithin in milliseconds. */
export interface RetentionRules {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: number;
}

/** A snapshot the plan keeps, with every rule that keeps it (e.g. "daily snapshot 2026-11-21"). */
export interface KeptSnapshot {
  snapshot: RetentionCandidate;
  reasons: string[];
}

/** One host + source kind + path set, its snapshots split into keep and remove, newest first. */
export interface RetentionGroup {
  host: string;
  sourceKind: string;
  /** Sorted. */
  paths: string[];
  keep: KeptSnapshot[];
  remove: RetentionCandidate[];
}

/** The planner's answer: one entry per group, ordered by host, source kind, then paths. */
export interface RetentionPlan {
  groups: RetentionGroup[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

type CountRule = 'keepLast' | 'keepHourly' | 'keepDaily' | 'keepWeekly' | 'keepMonthly' | 'keepYearly';
const COUNT_RULES: readonly CountRule[] = [
  'keepLast',
  'keepHourly',
  'keepDaily',
  'keepWeekly',
  'keepMonthly',
  'keepYearly',
];

/**
 * True when at least one rule would keep something (the CLI refuses to forget with no
 * rule). A count of 0 or a keepWithin of 0 keeps nothing beyond each group's newest
 * snapshot, so like restic it counts as no rule: `{ keepLast: 0 }` is refused rather than
 * read as "delete all but the newest".
 */
export function hasAnyRule(rules: RetentionRules): boolean {
  return COUNT_RULES.some((rule) => (rules[rule] ?? 0) > 0) || (rules.keepWithin ?? 0) > 0;
}

/**
 * Splits `snapshots` into keep and remove sets, per group (see the file comment for the
 * rules). `timeZone` is the IANA zone the hour/day/week/month/year buckets are computed in;
 * when omitted, the process's local zone.
 *
 * `now` is checked but no rule reads it: keepWithin is measured from each group's newest
 * snapshot, as in restic, so running forget on a repository whose backups stopped a year
 * ago does not delete everything keepWithin was meant to protect.
 *
 * Throws when no rule is set, a rule is not a non-negative whole number (keepWithin: a
 * non-negative number of milliseconds), the time zone is unknown, a time is invalid, or
 * two snapshots share an id.
 */
export function planRetention(
  snapshots: RetentionCandidate[],
  rules: RetentionRules,
  now: Date,
  timeZone?: string,
): RetentionPlan {
  validateRules(rules);
  if (!hasAnyRule(rules)) throw new Error('no keep rule given: refusing to forget every snapshot');
  if (!isValidDate(now)) throw new Error('planRetention: `now` is not a valid date');
  const civilTimeOf = civilClock(timeZone);

  // The forget command deletes by id: if one id could land in both keep and remove, deleting
  // the "removed" copy would delete the kept one too. Refuse instead of guessing.
  const seen = new Set<string>();
  for (const snapshot of snapshots) {
    if (seen.has(snapshot.id)) throw new Error(`snapshot id ${snapshot.id} appears twice in the input`);
    seen.add(snapshot.id);
    if (!isValidDate(snapshot.time)) throw new Error(`snapshot ${snapshot.id} has an invalid time`);
  }

  const groups = new Map<string, { host: string; sourceKind: string; paths: string[]; members: RetentionCandidate[] }>();
  for (const snapshot of snapshots) {
    const paths = [...snapshot.paths].sort(compareStrings);
    const key = JSON.stringify([snapshot.host, snapshot.sourceKind, paths]);
    let group = groups.get(key);
    if (!group) {
      group = { host: snapshot.host, sourceKind: snapshot.sourceKind, paths, members: [] };
      groups.set(key, group);
    }
    group.members.push(snapshot);
  }

  return {
    groups: [...groups.values()].sort(compareGroups).map(({ host, sourceKind, paths, members }) => ({
      host,
      sourceKind,
      paths,
      ...planGroup(members.sort(newestFirst), rules, civilTimeOf),
    })),
  };
}

/** A bucket rule: the bucket a civil time falls in, doubling as the label in the reason. */
interface BucketRule {
  rule: Exclude<CountRule, 'keepLast'>;
  name: string;
  bucketOf(time: CivilTime): string;
}

const BUCKET_RULES: readonly BucketRule[] = [
  { rule: 'keepHourly', name: 'hourly', bucketOf: (t) => `${ymd(t)} ${pad2(t.hour)}:00` },
  { rule: 'keepDaily', name: 'daily', bucketOf: ymd },
  { rule: 'keepWeekly', name: 'weekly', bucketOf: isoWeek },
  { rule: 'keepMonthly', name: 'monthly', bucketOf: (t) => `${pad4(t.year)}-${pad2(t.month)}` },
  { rule: 'keepYearly', name: 'yearly', bucketOf: (t) => pad4(t.year) },
];

/** Plans one group; `members` is sorted newest first and non-empty. */
function planGroup(
  members: RetentionCandidate[],
  rules: RetentionRules,
  civilTimeOf: (time: Date) => CivilTime,
): Pick<RetentionGroup, 'keep' | 'remove'> {
  // Reasons are pushed rule by rule, so every snapshot lists them in the same order:
  // last, hourly, daily, weekly, monthly, yearly, within, newest.
  const reasons: string[][] = members.map(() => []);

  const keepLast = Math.min(rules.keepLast ?? 0, members.length);
  for (let i = 0; i < keepLast; i++) reasons[i].push('last snapshot');

  const civil: CivilTime[] = [];
  const civilAt = (i: number): CivilTime => (civil[i] ??= civilTimeOf(members[i].time));
  for (const { rule, name, bucketOf } of BUCKET_RULES) {
    let left = rules[rule] ?? 0;
    // A set, not "differs from the last kept bucket" as restic does: where a zone's clock
    // jumps back across a bucket edge, a bucket can recur after a newer one.
    const used = new Set<string>();
    for (let i = 0; i < members.length && left > 0; i++) {
      const bucket = bucketOf(civilAt(i));
      if (used.has(bucket)) continue;
      used.add(bucket);
      left--;
      reasons[i].push(`${name} snapshot ${bucket}`);
    }
  }

  // Measured from the group's newest snapshot, not from now (as restic does): a host that
  // stopped backing up keeps its last keepWithin worth of history instead of losing it all.
  const within = rules.keepWithin ?? 0;
  if (within > 0) {
    const cutoff = members[0].time.getTime() - within;
    const reason = `within ${describeWithin(within)}`;
    for (let i = 0; i < members.length && members[i].time.getTime() >= cutoff; i++) reasons[i].push(reason);
  }

  reasons[0].push('newest in group');

  const keep: KeptSnapshot[] = [];
  const remove: RetentionCandidate[] = [];
  members.forEach((snapshot, i) => {
    if (reasons[i].length > 0) keep.push({ snapshot, reasons: reasons[i] });
    else remove.push(snapshot);
  });
  return { keep, remove };
}

function validateRules(rules: RetentionRules): void {
  for (const rule of COUNT_RULES) {
    const value = rules[rule];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new Error(`${rule} must be a non-negative whole number, got ${String(value)}`);
    }
  }
  const within = rules.keepWithin;
  if (within !== undefined && !(Number.isFinite(within) && within >= 0)) {
    throw new Error(`keepWithin must be a non-negative number of milliseconds, got ${String(within)}`);
  }
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** Code-unit order: deterministic, unlike localeCompare, whose order depends on ICU data. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function newestFirst(a: RetentionCandidate, b: RetentionCandidate): number {
  return b.time.getTime() - a.time.getTime() || compareStrings(a.id, b.id);
}

function compareGroups(
  a: { host: string; sourceKind: string; paths: string[] },
  b: { host: string; sourceKind: string; paths: string[] },
): number {
  const byHost = compareStrings(a.host, b.host) || compareStrings(a.sourceKind, b.sourceKind);
  if (byHost !== 0) return byHost;
  for (let i = 0; i < Math.min(a.paths.length, b.paths.length); i++) {
    const byPath = compareStrings(a.paths[i], b.paths[i]);
    if (byPath !== 0) return byPath;
  }
  return a.paths.length - b.paths.length;
}

// ---------------------------------------------------------------------------------------
// Civil time

/** Wall-clock fields of an instant in the planning time zone (Gregorian calendar). */
interface CivilTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  /** 0–23; in a DST fall-back the repeated hour is one bucket, as on the wall clock. */
  hour: number;
}

/** A function from instant to civil time in `timeZone` (default: the process's zone). */
function civilClock(timeZone: string | undefined): (time: Date) => CivilTime {
  let format: Intl.DateTimeFormat;
  try {
    // en-US + gregory + latn pin the calendar and the digits whatever the process locale is.
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      hourCycle: 'h23',
    });
  } catch (error) {
    if (error instanceof RangeError) {
      throw new Error(`unknown time zone ${JSON.stringify(timeZone)}: give an IANA name such as "Europe/Berlin" or "UTC"`);
    }
    throw error;
  }
  return (time) => {
    const fields: CivilTime = { year: 0, month: 0, day: 0, hour: 0 };
    for (const part of format.formatToParts(time)) {
      if (part.type === 'year' || part.type === 'month' || part.type === 'day' || part.type === 'hour') {
        fields[part.type] = Number(part.value);
      }
    }
    return fields;
  };
}

/**
 * ISO 8601 week ("2026-W47") of a civil date: weeks start on Monday and belong to the year
 * of their Thursday. The Date here is only a proleptic-Gregorian calculator on a date that
 * is already civil in the planning zone; no instant is converted.
 */
function isoWeek(t: CivilTime): string {
  const date = new Date(0);
  date.setUTCFullYear(t.year, t.month - 1, t.day);
  const mondayBased = (date.getUTCDay() + 6) % 7;
  date.setUTCDate(date.getUTCDate() - mondayBased + 3);
  const isoYear = date.getUTCFullYear();
  const january1 = new Date(0);
  january1.setUTCFullYear(isoYear, 0, 1);
  const week = 1 + Math.floor((date.getTime() - january1.getTime()) / (7 * DAY_MS));
  return `${pad4(isoYear)}-W${pad2(week)}`;
}

function ymd(t: CivilTime): string {
  return `${pad4(t.year)}-${pad2(t.month)}-${pad2(t.day)}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function pad4(n: number): string {
  return String(n).padStart(4, '0');
}

// ---------------------------------------------------------------------------------------
// Durations

/**
 * Units of a retention duration, largest first — the only order the parser accepts.
 * Fixed lengths, not restic's calendar math (restic subtracts "1m" as one calendar month
 * from the newest snapshot's date): RetentionRules.keepWithin is a plain number of
 * milliseconds, so the duration must be one before any snapshot is seen. A month is 30
 * days and a year 365, so "1m" spans 30 days whatever month it is, and "1y" is a day short
 * across a leap day. There is no minutes unit: "m" is months, as in restic.
 */
const DURATION_UNITS = [
  { unit: 'y', ms: 365 * DAY_MS },
  { unit: 'm', ms: 30 * DAY_MS },
  { unit: 'w', ms: 7 * DAY_MS },
  { unit: 'd', ms: DAY_MS },
  { unit: 'h', ms: HOUR_MS },
] as const;

const DURATION_HELP = 'write a number and a unit, e.g. "30d", "12h", "2w" or "1y6m"; units: y = 365d, m = 30d, w = 7d, d = 24h, h = 1h';

/**
 * Parses a retention duration such as "30d", "1y6m", "12h", "2w" or "1y2m3d4h" into
 * milliseconds. Units have fixed lengths (y = 365 days, m = 30 days, w = 7 days, d = 24 h,
 * h = 1 h; no calendar math, see DURATION_UNITS) and must appear at most once each, in
 * that order. Throws an Error saying what is wrong and what to write instead.
 */
export function parseRetentionDuration(text: string): number {
  const fail = (problem: string): Error => new Error(`invalid retention duration ${JSON.stringify(text)}: ${problem}; ${DURATION_HELP}`);
  if (typeof text !== 'string' || text === '') throw fail('it is empty');

  let total = 0;
  let lastRank = -1;
  let i = 0;
  while (i < text.length) {
    const start = i;
    while (i < text.length && text[i] >= '0' && text[i] <= '9') i++;
    const digits = text.slice(start, i);
    const char = text.codePointAt(i) === undefined ? '' : String.fromCodePoint(text.codePointAt(i)!);
    const rank = DURATION_UNITS.findIndex(({ unit }) => unit === char);
    if (digits === '') {
      if (rank >= 0) throw fail(`unit "${char}" has no number before it`);
      throw fail(`unexpected ${JSON.stringify(char)} at position ${i + 1}`);
    }
    if (char === '') throw fail(`the number ${digits} has no unit`);
    if (rank < 0) throw fail(`unknown unit ${JSON.stringify(char)}`);
    if (rank <= lastRank) throw fail('each unit may appear once, in the order y, m, w, d, h');
    lastRank = rank;
    total += Number(digits) * DURATION_UNITS[rank].ms;
    i += char.length;
  }
  if (!Number.isSafeInteger(total)) throw fail('it is too long');
  return total;
}

/**
 * Formats a whole number of hours, given in milliseconds, the way parseRetentionDuration
 * reads it back ("7d", "1y1m5d", "0h"): largest units first; weeks are never used, so
 * seven days read "7d". Throws for negative or fractional hours.
 */
export function formatRetentionDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms % HOUR_MS !== 0) {
    throw new Error(`cannot format ${ms} ms as a retention duration: it must be a non-negative whole number of hours`);
  }
  let rest = ms;
  let text = '';
  for (const { unit, ms: unitMs } of DURATION_UNITS) {
    if (unit === 'w' || rest < unitMs) continue;
    text += `${Math.floor(rest / unitMs)}${unit}`;
    rest %= unitMs;
  }
  return text === '' ? '0h' : text;
}

/** The keepWithin label in a reason; any ms the API was given, not only whole hours. */
function describeWithin(ms: number): string {
  return Number.isSafeInteger(ms) && ms % HOUR_MS === 0 ? formatRetentionDuration(ms) : `${ms}ms`;
}
