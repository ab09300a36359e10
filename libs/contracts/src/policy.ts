import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseDurationSeconds } from './duration';

/*
 * The backup policy document: one schema for the REST API (JSON), `coffer apply -f`
 * (YAML) and the catalog. Validated at the edge with `parsePolicyDocument`.
 *
 * Example (YAML):
 *   name: web-files
 *   selector: { role: web }                # agents whose labels include all of these
 *   repository: main                       # a repository registered with `coffer repos add`
 *   sources:
 *     - files: { paths: [/var/www], exclude: ['*.tmp'] }
 *     - command: { run: "pg_dumpall -U postgres", filename: all.sql }
 *   schedules:
 *     - { cron: "0 2 * * *", timezone: Europe/Berlin }
 *     - { cron: "0 3 * * 0", timezone: Europe/Berlin }
 *   retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }
 *   prune: { cron: "0 4 * * 0", timezone: UTC }
 *   timeout: 2h
 *   retries: { max: 2, backoff: 5m }
 *   maxJobsPerAgent: 1
 *   startDeadline: 1h
 */

const NAME_PATTERN = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
const LABEL_KEY_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;

/** A name for policies, agents and repositories: lower-case, digits, ".", "_", "-". */
export const resourceNameSchema = z
  .string()
  .regex(NAME_PATTERN, 'must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting and ending with a letter or digit');

/** Labels: key → value, keys like "role" or "team/app". */
export const labelsSchema = z.record(
  z.string().regex(LABEL_KEY_PATTERN, 'label keys are 1-63 characters of letters, digits, ".", "_", "/" or "-"'),
  z.string().max(253, 'label values are at most 253 characters'),
);

const durationSchema = z.string().refine((text) => parseDurationSeconds(text) !== undefined, {
  message: 'must be a duration like "90s", "15m", "2h", "7d" or "1h30m"',
});

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const cronSchema = z.string().superRefine((expression, ctx) => {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    ctx.addIssue({ code: 'custom', message: 'must be a cron expression of 5 fields (minute hour day month weekday) or 6 (with seconds first)' });
    return;
  }
  try {
    CronExpressionParser.parse(expression);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `is not a valid cron expression: ${(error as Error).message}` });
  }
});

/** When something runs: a cron expression read in a time zone. */
export const scheduleSchema = z.strictObject({
  cron: cronSchema,
  timezone: z
    .string()
    .refine(isValidTimeZone, { message: 'must be an IANA time zone such as "UTC" or "Europe/Berlin"' })
    .default('UTC'),
});

const globListSchema = z.array(z.string().min(1, 'must not be empty')).default([]);

const filesSourceSchema = z.strictObject({
  files: z.strictObject({
    paths: z
      .array(z.string().refine((p) => p.startsWith('/'), { message: 'must be an absolute path' }))
      .min(1, 'needs at least one path'),
    include: globListSchema,
    exclude: globListSchema,
    oneFileSystem: z.boolean().default(false),
  }),
});

const commandSourceSchema = z.strictObject({
  command: z.strictObject({
    run: z.string().min(1, 'must not be empty'),
    filename: z
      .string()
      .regex(/^[^/\0]+$/, 'must be a file name without "/"')
      .refine((name) => name !== '.' && name !== '..', { message: 'must be a file name' }),
  }),
});

const absolutePathSchema = z.string().refine((p) => p.startsWith('/'), { message: 'must be an absolute path' });

/** A name in the controller's secret store (`coffer secrets set NAME`). */
export const secretNameSchema = z
  .string()
  .regex(NAME_PATTERN, 'must be a secret name: 1-63 characters of a-z, 0-9, ".", "_" or "-", starting and ending with a letter or digit');

const DATABASE_SCHEMES: Record<'postgres' | 'mysql' | 'redis', { protocols: string[]; example: string }> = {
  postgres: { protocols: ['postgres:', 'postgresql:'], example: 'postgres://USER@HOST:PORT/DATABASE' },
  mysql: { protocols: ['mysql:', 'mariadb:'], example: 'mysql://USER@HOST:PORT/DATABASE' },
  redis: { protocols: ['redis:'], example: 'redis://HOST:PORT' },
};

/**
 * A database server URL without a password. Policies and jobs are stored, shown by the API
 * and diffed: a password in them would be everywhere, so it is refused with the way to give
 * one. `requireDatabase`: a restore target must name its database.
 */
export function databaseUrlSchema(kind: 'postgres' | 'mysql' | 'redis', options: { requireDatabase?: boolean } = {}) {
  const { protocols, example } = DATABASE_SCHEMES[kind];
  return z.string().superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a URL like ${example}` });
      return;
    }
    if (!protocols.includes(url.protocol)) {
      ctx.addIssue({ code: 'custom', message: `must be a URL like ${example} (scheme ${protocols.join(' or ')})` });
      return;
    }
    if (url.password) {
      ctx.addIssue({
        code: 'custom',
        message: 'must not carry a password (policies are stored and shown): put the password in passwordSecret (coffer secrets set NAME) or passwordFile (a file on the agent)',
      });
    }
    if (!url.hostname) ctx.addIssue({ code: 'custom', message: `names no host: expected ${example}` });
    const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (path.includes('/')) ctx.addIssue({ code: 'custom', message: `"${path}" is not a database name` });
    if (kind === 'redis' && path !== '') ctx.addIssue({ code: 'custom', message: `a Redis backup takes the whole server: leave the path out (${example})` });
    if (options.requireDatabase && path === '') ctx.addIssue({ code: 'custom', message: `must name the target database: ${example.replace('DATABASE', 'TARGETDB')}` });
  });
}

/** The database named in a URL's path, if any (the URL is already validated). */
function urlDatabase(text: string): string {
  try {
    return decodeURIComponent(new URL(text).pathname.replace(/^\//, ''));
  } catch {
    return '';
  }
}

const databaseNamesSchema = z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least one name; leave it out instead');

/** Where the agent finds the database password: a file on its host, or a secret the controller sends with the job. */
const passwordFields = {
  /** A file on the agent's host holding the password (without its trailing newline). */
  passwordFile: absolutePathSchema.optional(),
  /** A secret of the controller's store, sent to the agent inside the job only. */
  passwordSecret: secretNameSchema.optional(),
};

function exclusivePasswords(value: { passwordFile?: string; passwordSecret?: string }, ctx: z.core.$RefinementCtx): void {
  if (value.passwordFile !== undefined && value.passwordSecret !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['passwordSecret'], message: 'give either passwordFile or passwordSecret, not both' });
  }
}

const postgresSourceSchema = z.strictObject({
  postgres: z
    .strictObject({
      /** postgres://USER@HOST:PORT[/DATABASE]; no database and no `databases` = every database. */
      url: databaseUrlSchema('postgres'),
      databases: databaseNamesSchema.optional(),
      /** Only these schemas of each database. */
      schemas: databaseNamesSchema.optional(),
      /** Also roles and tablespaces (pg_dumpall --globals-only). */
      globals: z.boolean().optional(),
      /** Only roles and tablespaces. */
      globalsOnly: z.boolean().optional(),
      ...passwordFields,
    })
    .superRefine((value, ctx) => {
      exclusivePasswords(value, ctx);
      if (value.globalsOnly) {
        if (value.databases) ctx.addIssue({ code: 'custom', path: ['databases'], message: 'cannot be given with globalsOnly: true (which backs up roles and tablespaces only)' });
        if (value.schemas) ctx.addIssue({ code: 'custom', path: ['schemas'], message: 'cannot be given with globalsOnly: true (which backs up roles and tablespaces only)' });
        if (urlDatabase(value.url)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'must name no database with globalsOnly: true (which backs up roles and tablespaces only)' });
      }
    }),
});

const mysqlSourceSchema = z.strictObject({
  mysql: z
    .strictObject({
      /** mysql://USER@HOST:PORT[/DATABASE]; the URL's database and `databases` are backed up. */
      url: databaseUrlSchema('mysql'),
      databases: databaseNamesSchema.optional(),
      ...passwordFields,
    })
    .superRefine((value, ctx) => {
      exclusivePasswords(value, ctx);
      if (!value.databases && urlDatabase(value.url) === '' && /^(mysql|mariadb):/.test(value.url)) {
        ctx.addIssue({ code: 'custom', path: ['databases'], message: 'is required when the url names no database (mysql://USER@HOST:PORT/DATABASE)' });
      }
    }),
});

const redisSourceSchema = z.strictObject({
  redis: z
    .strictObject({
      /** redis://HOST:PORT: the whole server, as an RDB file. */
      url: databaseUrlSchema('redis'),
      ...passwordFields,
    })
    .superRefine(exclusivePasswords),
});

/** The source kinds a policy knows, by their key. */
export const POLICY_SOURCE_KINDS = ['files', 'command', 'postgres', 'mysql', 'redis'] as const;

const SOURCE_SHAPES = [filesSourceSchema, commandSourceSchema, postgresSourceSchema, mysqlSourceSchema, redisSourceSchema] as const;

/** One thing a policy backs up: files, the standard output of a command, or a database server. */
export const policySourceSchema = z.union(SOURCE_SHAPES, {
  error: () =>
    'must be one of { files: { paths: [...] } }, { command: { run: ..., filename: ... } }, { postgres: { url: ... } }, { mysql: { url: ... } } or { redis: { url: ... } }',
});

/** A command run before or after a policy's backups (see libs/sources hooks). */
export const hookSchema = z.strictObject({
  /** Run with /bin/sh -c on the agent. */
  run: z.string().trim().min(1, 'must not be empty'),
  /** Killed, with everything it started, after this long. */
  timeout: durationSchema.default('10m'),
  /** fail: a failing hook fails the job (a failing "before" hook means no backup); continue: logged only. */
  onFailure: z.enum(['fail', 'continue'], { error: () => 'must be "fail" or "continue"' }).default('fail'),
});

/** Hooks around an operation: "before" in order, then the work, then "after" (which run whatever happened). */
export const hooksSchema = z.strictObject({
  before: z.array(hookSchema).default([]),
  after: z.array(hookSchema).default([]),
});

const keepCount = z.number().int('must be a whole number').min(0, 'must be 0 or more').optional();

/** Which snapshots survive `forget` (any rule keeping a snapshot keeps it). */
export const retentionSchema = z
  .strictObject({
    keepLast: keepCount,
    keepHourly: keepCount,
    keepDaily: keepCount,
    keepWeekly: keepCount,
    keepMonthly: keepCount,
    keepYearly: keepCount,
    keepWithin: durationSchema.optional(),
  })
  .refine((r) => Object.values(r).some((v) => v !== undefined && v !== 0), {
    message: 'needs at least one keep rule (keepLast, keepDaily, …); leave retention out to keep everything',
  });

/** The policy document. */
export const policyDocumentSchema = z.strictObject({
  name: resourceNameSchema,
  description: z.string().max(1000).optional(),
  enabled: z.boolean().default(true),
  /** Agents whose labels include every one of these; `{}` selects every agent. */
  selector: labelsSchema,
  repository: resourceNameSchema,
  sources: z.array(policySourceSchema).min(1, 'needs at least one source'),
  schedules: z.array(scheduleSchema).default([]),
  retention: retentionSchema.optional(),
  /** When to prune the repository (delete data no snapshot references). */
  prune: scheduleSchema.optional(),
  timeout: durationSchema.default('6h'),
  retries: z
    .strictObject({
      max: z.number().int('must be a whole number').min(0).max(20, 'must be at most 20'),
      backoff: durationSchema.default('5m'),
    })
    .default({ max: 0, backoff: '5m' }),
  maxJobsPerAgent: z.number().int('must be a whole number').min(1, 'must be at least 1').max(64).default(1),
  /** A job whose agent is offline fails as "agent offline" once this has passed. */
  startDeadline: durationSchema.default('1h'),
  tags: z.array(z.string().regex(/^[^,\s=]+(=[^,\s]*)?$/, 'tags are words or key=value without spaces or commas')).default([]),
  /** Commands run on the agent around each backup job of this policy. */
  hooks: hooksSchema.optional(),
});

/** A policy document as written (defaults not yet applied). */
export type PolicyDocumentInput = z.input<typeof policyDocumentSchema>;
/** A validated policy document with every default filled in. */
export type PolicyDocument = z.output<typeof policyDocumentSchema>;
/** One source of a policy. */
export type PolicySource = z.output<typeof policySourceSchema>;
/** A hook as validated (defaults filled). */
export type PolicyHook = z.output<typeof hookSchema>;
/** Hooks as validated. */
export type PolicyHooks = z.output<typeof hooksSchema>;
/** A schedule of a policy. */
export type PolicySchedule = z.output<typeof scheduleSchema>;
/** Retention rules of a policy. */
export type PolicyRetention = z.output<typeof retentionSchema>;

/** One problem with a document: where (dotted path, e.g. "schedules.0.cron") and why. */
export interface FieldProblem {
  path: string;
  reason: string;
}

/** The outcome of validating a document: the policy, or every problem found. */
export type PolicyParseResult = { ok: true; policy: PolicyDocument } | { ok: false; problems: FieldProblem[] };

/** Validates a policy document (already parsed from JSON or YAML). Never throws. */
export function parsePolicyDocument(document: unknown): PolicyParseResult {
  const result = policyDocumentSchema.safeParse(document);
  if (result.success) return { ok: true, policy: result.data };
  return { ok: false, problems: toFieldProblems(result.error) };
}

/** Flattens a zod error into field path + reason pairs, in document order. */
export function toFieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap(precise).map((issue) => ({
    path: issue.path.length === 0 ? '(document)' : issue.path.map(String).join('.'),
    reason: issueReason(issue),
  }));
}

/**
 * A value that failed every shape of a keyed union (`{ postgres: {…} }` | `{ mysql: {…} }`
 * | …) but says which it means is reported with that shape's own problems
 * ("sources.0.postgres.url: must not carry a password"), not as "must be one of …". The
 * shape meant is the one whose problems are all inside its key: no unknown key at the top,
 * no missing key.
 */
function precise(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const meant = issue.errors.filter(
    (branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 1 || (inner.path.length === 1 && inner.code !== 'invalid_type')),
  );
  if (meant.length !== 1) return [issue];
  return meant[0].flatMap(precise).map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as z.core.$ZodIssue);
}

function issueReason(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) return 'is required';
  if (issue.code === 'unrecognized_keys') return `has unknown field(s): ${issue.keys.join(', ')}`;
  return issue.message;
}

/** The next time a schedule fires strictly after `after`. */
export function nextScheduleTime(schedule: PolicySchedule, after: Date): Date {
  return CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: after }).next().toDate();
}

/** The last time a schedule fired at or before `atOrBefore`, if any within a year. */
export function previousScheduleTime(schedule: PolicySchedule, atOrBefore: Date): Date | undefined {
  const expression = CronExpressionParser.parse(schedule.cron, {
    tz: schedule.timezone,
    currentDate: new Date(atOrBefore.getTime() + 1),
  });
  try {
    const previous = expression.prev().toDate();
    return atOrBefore.getTime() - previous.getTime() <= 366 * 86400_000 ? previous : undefined;
  } catch {
    return undefined;
  }
}

/** True when an agent with `labels` is selected by `selector` (every selector pair matches). */
export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
