#!/usr/bin/env node
// PostgreSQL benchmark: Coffer's native PostgreSQL backup and restore against plain
// pg_dump -Fc / pg_restore, side by side in one run.
//
//   npm run bench:db                     # 3 runs, results into BENCHMARKS.md
//   npm run bench:db -- --runs 5
//   npm run bench:db -- --no-write       # print only
//   npm run bench:db -- --baseline-only  # pg_dump/pg_restore and the update patterns alone
//
// What it does:
//  1. Setup: a pgbench scale-50 database `coffer_bench_pg50` on the machine's server
//     (postgres://root@127.0.0.1:5432), created with `pgbench -i -s 50 -q` once and reused
//     while it has the right row counts (--reinit rebuilds it). It is never modified: every
//     run works on `coffer_bench_work`, a copy made with CREATE DATABASE … TEMPLATE (same
//     pages, so the same dump). Sizes: the database, its plain `pg_dump -Fc` file, and the
//     same dump uncompressed (-Z0, what Coffer stores before its own chunking/compression).
//  2. Full backup, alternating which tool goes first per run: `coffer repo backup --postgres
//     URL --json` into a fresh repository vs `pg_dump -Fc -f FILE`. Throughput = uncompressed
//     dump bytes / wall seconds, the same numerator for both, so the ratio coffer/pg_dump is
//     pg_dump's wall / coffer's wall. CPU and peak RSS from GNU time. Reference (no
//     target): `pg_dump -Fc -Z0` into a pipe that is read and discarded, the dump coffer
//     streams without anything done to it.
//  3. Restore of that full backup: `coffer repo restore ID --postgres URL --jobs 2 --json`
//     (target created by coffer) vs `pg_restore -j 2 -d URL FILE` (target created first,
//     untimed). Both results are checked (row counts, sum of balances, indexes) and dropped.
//     Reference (no target): coffer with --jobs 1, which streams everything through one
//     pg_restore (with --jobs 2 the tables load from the stream too, but a copy is staged on
//     the way for the parallel index and constraint step).
//  4. Incremental: for each update pattern, a fresh copy of the database and a copy of the
//     repository as it was after the full backup; 5% of pgbench_accounts is updated, then a
//     second coffer backup into that repository. New bytes stored (bytesStored of --json) are
//     set against the plain pg_dump -Fc file of the updated database (what a nightly dump
//     would store again) and against the smallest possible increment: the changed rows
//     alone, COPY'd out and compressed with zlib level 6 like pg_dump's.
//       (a) contiguous: WHERE aid <= N/20        (b) spread: WHERE aid % 20 = 0
//     each with `filler` set to a short constant (the rows stay as compressible as the rest
//     of the table) and to md5(aid) (incompressible-ish content: ~8x larger increment).
//  5. Prints the tables and replaces the section between <!-- bench:db:start --> and
//     <!-- bench:db:end --> in BENCHMARKS.md. Raw numbers: bench/.data/db/last-results.json.
// Exit status: 1 if a command failed or a restore came out wrong, 2 for bad options; a
// missed target is reported, not an error. Temporary databases and directories are removed
// (also on Ctrl-C); coffer_bench_pg50 is kept.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, UsageError } from './lib/command-line.mjs';
import {
  cleanEnv,
  copyOutSizes,
  createDatabase,
  databaseExists,
  databasesWithPrefix,
  dropDatabase,
  nproc,
  pgbenchSignature,
  pgUrl,
  PG_SERVER,
  psql,
  run,
  runMeasured,
} from './db-lib.mjs';
import { CommandError, duBytes, GNU_TIME, median, shellQuote, showCommand, syncDisks } from './lib/measure.mjs';
import { sectionHead, writeMarkedSection } from './lib/report.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA_DIR = path.join(REPO_ROOT, 'bench', '.data', 'db');
const TMP_DIR = path.join(DATA_DIR, 'tmp');
const CLI = path.join(REPO_ROOT, 'apps', 'cli', 'dist', 'main.js');
const MARK_START = '<!-- bench:db:start -->';
const MARK_END = '<!-- bench:db:end -->';

const SCALE = 50;
const SOURCE_DB = 'coffer_bench_pg50';
const WORK_DB = 'coffer_bench_work';
const RESTORE_COFFER_DB = 'coffer_bench_restore_coffer';
const RESTORE_PLAIN_DB = 'coffer_bench_restore_pgrestore';
const TEMP_DB_PREFIXES = ['coffer_bench_work', 'coffer_bench_restore_'];
const ACCOUNTS = SCALE * 100_000;
const RESTORE_JOBS = 2;

const TARGETS = { backupRatio: 0.9, restoreRatio: 0.8, incrementalShare: 0.15 };

const PATTERNS = [
  { key: 'a', label: '(a) contiguous', where: `aid <= ${ACCOUNTS / 20}` },
  { key: 'b', label: '(b) spread', where: 'aid % 20 = 0' },
];
const FILLERS = [
  { key: 'text', label: "filler = 'changed'", expr: `'changed'` },
  { key: 'md5', label: 'filler = md5(aid)', expr: 'md5(aid::text)' },
];
const VARIANTS = FILLERS.flatMap((f) => PATTERNS.map((p) => ({ key: `${p.key}-${f.key}`, pattern: p, filler: f })));
const updateSql = (v) => `UPDATE pgbench_accounts SET abalance = abalance + 1, filler = ${v.filler.expr} WHERE ${v.pattern.where}`;
const changedRowsQuery = (v) => `SELECT * FROM pgbench_accounts WHERE ${v.pattern.where} ORDER BY aid`;

const USAGE = `Usage: node bench/db-bench.mjs [options]   (or: npm run bench:db -- [options])

  --runs N          measured runs (default 3); medians and ratios of medians are reported
  --reinit          rebuild ${SOURCE_DB} (pgbench -i -s ${SCALE} -q) even if it looks right
  --baseline-only   run without coffer: setup, pg_dump, pg_restore, update patterns
                    (for when the CLI has no --postgres yet; implies --no-write)
  --out FILE        markdown file to update (default BENCHMARKS.md at the repo root)
  --no-write        print only, leave BENCHMARKS.md alone
  -h, --help        this text
`;

const log = (msg) => console.log(`[bench:db] ${msg}`);
const rel = (p) => (p.startsWith(REPO_ROOT + path.sep) ? path.relative(REPO_ROOT, p) : p);

const MiB = 1024 * 1024;
const fmtBytes = (b) => (b == null ? '—' : b >= 1024 * MiB ? `${(b / 1024 / MiB).toFixed(2)} GiB` : b >= MiB ? `${(b / MiB).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);
const fmtSec = (s) => (s == null ? '—' : s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));
const fmtRate = (bytes, s) => `${(bytes / MiB / s).toFixed(0)} MiB/s`;
const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? '—' : r.toFixed(2));
const fmtPct = (r) => (r == null || !Number.isFinite(r) ? '—' : `${(r * 100).toFixed(r < 0.1 ? 2 : 1)}%`);
const verdict = (ok) => (ok == null ? 'n/a' : ok ? 'PASS' : 'MISS');

function parseOptions() {
  const values = parseCommandLine(
    {
      runs: { type: 'string', default: '3' },
      reinit: { type: 'boolean', default: false },
      'baseline-only': { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
    USAGE,
  );
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got '${values.runs}'`);
  const baselineOnly = values['baseline-only'];
  return {
    runs,
    reinit: values.reinit,
    baselineOnly,
    out: values['no-write'] || baselineOnly ? null : path.resolve(values.out ?? path.join(REPO_ROOT, 'BENCHMARKS.md')),
  };
}

/** The command line as a human would retype it, for the report. */
function invocation() {
  const args = process.argv.slice(2).map(shellQuote);
  if (process.env.npm_lifecycle_event === 'bench:db') return ['npm run bench:db', ...(args.length ? ['--', ...args] : [])].join(' ');
  return ['node bench/db-bench.mjs', ...args].join(' ');
}

// --- tools --------------------------------------------------------------------------------

const env = cleanEnv();
const passwordFile = path.join(DATA_DIR, 'password');

const coffer = {
  argv: (args) => [CLI, ...args],
  show: (args) => showCommand('node apps/cli/dist/main.js', args.map((a) => (typeof a === 'string' ? rel(a) : a))),
  init: (repo) => ['repo', 'init', '--repo', repo, '--password-file', passwordFile],
  backup: (repo, db) => ['repo', 'backup', '--repo', repo, '--password-file', passwordFile, '--postgres', pgUrl(db), '--json'],
  restore: (repo, snapshot, db, jobs = RESTORE_JOBS) => ['repo', 'restore', snapshot, '--repo', repo, '--password-file', passwordFile, '--postgres', pgUrl(db), '--jobs', String(jobs), '--json'],
  async run(args) {
    const r = await runMeasured(process.execPath, this.argv(args), { env, cwd: REPO_ROOT, display: this.show(args) });
    r.json = args.includes('--json') ? parseJson(r.stdout, this.show(args)) : null;
    return r;
  },
};

const plain = {
  dump: (file, db) => ['pg_dump', '-Fc', '-f', file, '-d', pgUrl(db)],
  rawDump: (db) => ['pg_dump', '-Fc', '-Z0', '-d', pgUrl(db)],
  restore: (file, db) => ['pg_restore', '-j', String(RESTORE_JOBS), '-d', pgUrl(db), file],
  show: ([cmd, ...args]) => showCommand(cmd, args.map(rel)),
  run(argv, { stdoutLimit } = {}) {
    const [cmd, ...args] = argv;
    return runMeasured(cmd, args, { env, cwd: REPO_ROOT, display: this.show(argv), stdoutLimit });
  },
};

function parseJson(stdout, display) {
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    // Tolerate a line of noise before the document.
    const i = text.indexOf('{');
    try {
      return JSON.parse(text.slice(i));
    } catch {
      throw new Error(`could not parse the --json output of: ${display}\n${text.slice(0, 2000)}`);
    }
  }
}

function cofferVersion() {
  try {
    return run(process.execPath, [CLI, '--version'], { env }).trim();
  } catch {
    return 'unknown';
  }
}

/** Both coffer commands must know --postgres (the contract of this benchmark). */
function checkCoffer() {
  if (!fs.existsSync(CLI)) throw new Error(`${rel(CLI)} is missing: build the CLI first (npm run build), or use --baseline-only`);
  const missing = [];
  for (const cmd of ['backup', 'restore']) {
    const help = run(process.execPath, [CLI, 'repo', cmd, '--help'], { env });
    if (!help.includes('--postgres')) missing.push(`repo ${cmd} --postgres`);
    if (cmd === 'restore' && !help.includes('--jobs')) missing.push('repo restore --jobs');
  }
  if (missing.length) throw new Error(`the built CLI lacks ${missing.join(', ')}: rebuild it, or use --baseline-only`);
}

/**
 * Newest mtime of the built JavaScript coffer runs (CLI, sources, repository): if it changes
 * during the benchmark, someone rebuilt it and the runs did not all measure the same code.
 */
function buildStamp() {
  let newest = 0;
  const stack = ['apps/cli/dist', 'libs/sources/dist', 'libs/repository/dist'].map((d) => path.join(REPO_ROOT, d));
  while (stack.length) {
    const p = stack.pop();
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) stack.push(path.join(p, n));
    else if (/\.(c|m)?js$/.test(p)) newest = Math.max(newest, st.mtimeMs); // code, not .d.ts/.map/tsbuildinfo
  }
  return newest;
}

// --- setup --------------------------------------------------------------------------------

function sourceLooksRight() {
  if (!databaseExists(SOURCE_DB)) return 'it does not exist';
  try {
    const [accounts, branches, tellers] = psql(
      SOURCE_DB,
      `SELECT (SELECT count(*) FROM pgbench_accounts) || ' ' || (SELECT count(*) FROM pgbench_branches) || ' ' || (SELECT count(*) FROM pgbench_tellers)`,
    )
      .split(' ')
      .map(Number);
    if (accounts !== ACCOUNTS || branches !== SCALE || tellers !== SCALE * 10) {
      return `it has ${accounts} accounts, ${branches} branches, ${tellers} tellers (expected ${ACCOUNTS}, ${SCALE}, ${SCALE * 10})`;
    }
    return null;
  } catch (e) {
    return `it is not a pgbench database (${e.message.split('\n')[0]})`;
  }
}

function ensureSource(reinit) {
  const problem = reinit ? '--reinit' : sourceLooksRight();
  if (!problem) {
    log(`setup: reusing ${SOURCE_DB} (${ACCOUNTS} accounts)`);
    return { reused: true, seconds: null };
  }
  log(`setup: (re)building ${SOURCE_DB}: ${problem}; pgbench -i -s ${SCALE} -q`);
  const t0 = performance.now();
  dropDatabase(SOURCE_DB);
  createDatabase(SOURCE_DB);
  run('pgbench', ['-i', '-s', String(SCALE), '-q', pgUrl(SOURCE_DB)]);
  psql(SOURCE_DB, 'CHECKPOINT');
  const seconds = (performance.now() - t0) / 1000;
  const again = sourceLooksRight();
  if (again) throw new Error(`pgbench -i built ${SOURCE_DB} but ${again}`);
  log(`setup: built in ${seconds.toFixed(1)} s`);
  return { reused: false, seconds };
}

/** Leftovers of an interrupted run: temporary databases and directories. */
function cleanupTemp() {
  for (const prefix of TEMP_DB_PREFIXES) for (const db of databasesWithPrefix(prefix)) dropDatabase(db);
  fs.rmSync(TMP_DIR, { recursive: true, force: true });
}

// --- main ---------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions();
  log(`PostgreSQL benchmark (coffer vs pg_dump/pg_restore): ${opts.runs} run(s)${opts.baselineOnly ? ', baseline only (no coffer)' : ''}`);
  if (!fs.existsSync(GNU_TIME)) log(`${GNU_TIME} not found: peak RSS from /proc (VmHWM of the top process only), CPU not measured`);
  for (const tool of ['psql', 'pg_dump', 'pg_restore', 'pgbench']) run('sh', ['-c', `command -v ${tool}`]);
  if (!opts.baselineOnly) checkCoffer();

  const stampAtStart = opts.baselineOnly ? 0 : buildStamp();
  const loadAvg = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  fs.mkdirSync(DATA_DIR, { recursive: true });
  fs.writeFileSync(passwordFile, 'coffer-db-bench-password\n', { mode: 0o600 });
  cleanupTemp();
  fs.mkdirSync(TMP_DIR, { recursive: true });

  const machine = {
    date: new Date().toISOString(),
    nproc: nproc(),
    cpu: (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) || [])[1]?.trim() ?? 'unknown',
    ramGiB: (os.totalmem() / 1024 ** 3).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    server: psql('postgres', 'SHOW server_version'),
    pgDump: run('pg_dump', ['--version']).trim(),
    pgRestore: run('pg_restore', ['--version']).trim(),
    coffer: opts.baselineOnly ? 'not run' : cofferVersion(),
    loadAvg,
    sharedBuffers: psql('postgres', 'SHOW shared_buffers'),
  };

  // --- 1. setup ---------------------------------------------------------------------------
  const setup = ensureSource(opts.reinit);
  setup.databaseBytes = Number(psql(SOURCE_DB, 'SELECT pg_database_size(current_database())'));
  setup.signature = pgbenchSignature(SOURCE_DB);
  {
    const f = path.join(TMP_DIR, 'size.dump');
    run('pg_dump', ['-Fc', '-f', f, '-d', pgUrl(SOURCE_DB)], { env });
    setup.dumpBytes = fs.statSync(f).size;
    run('pg_dump', ['-Fc', '-Z0', '-f', f, '-d', pgUrl(SOURCE_DB)], { env });
    setup.rawDumpBytes = fs.statSync(f).size;
    fs.rmSync(f);
  }
  log(
    `setup: database ${fmtBytes(setup.databaseBytes)}; pg_dump -Fc ${fmtBytes(setup.dumpBytes)}; uncompressed (-Fc -Z0) ${fmtBytes(setup.rawDumpBytes)}; ${setup.signature}`,
  );
  const baseSignature = setup.signature;

  // --- runs -------------------------------------------------------------------------------
  const runs = [];
  const tools = opts.baselineOnly ? ['plain'] : ['coffer', 'plain'];
  for (let r = 1; r <= opts.runs; r++) {
    const order = r % 2 ? tools : [...tools].reverse();
    const dir = path.join(TMP_DIR, `run-${r}`);
    fs.mkdirSync(dir, { recursive: true });
    const repo = path.join(dir, 'repo');
    const dumpFile = path.join(dir, 'plain.dump');
    const res = { run: r, order: order.map((t) => (t === 'coffer' ? 'coffer' : 'pg_dump')), backup: {}, restore: {}, incremental: {} };
    runs.push(res);
    const tag = (what) => `run ${r}/${opts.runs} · ${what}`;

    log(tag(`fresh copy ${WORK_DB} (CREATE DATABASE … TEMPLATE ${SOURCE_DB})`));
    dropDatabase(WORK_DB);
    createDatabase(WORK_DB, SOURCE_DB);
    if (!opts.baselineOnly) {
      await coffer.run(coffer.init(repo));
    }

    // 2. full backup; plus, as a reference, the uncompressed dump coffer streams, read
    // through a pipe and thrown away (the floor for coffer: the dump alone).
    const backupOrder = r % 2 ? [...order, 'raw'] : ['raw', ...order];
    for (const t of backupOrder) {
      syncDisks();
      if (t === 'raw') {
        const argv = plain.rawDump(WORK_DB);
        log(tag(`backup · reference: ${plain.show(argv)} | (discarded)`));
        const m = await plain.run(argv, { stdoutLimit: 0 });
        res.backup.raw = pick(m);
        log(`  → ${fmtSec(m.wall)} s wall, ${fmtSec(m.cpu)} s CPU, ${m.rssMiB.toFixed(0)} MiB peak RSS`);
      } else if (t === 'coffer') {
        const args = coffer.backup(repo, WORK_DB);
        log(tag(`backup · coffer: ${coffer.show(args)}`));
        const m = await coffer.run(args);
        const stats = m.json.stats ?? {};
        res.backup.coffer = { ...pick(m), snapshot: m.json.id, totalBytes: stats.totalBytes, bytesNew: stats.bytesNew, bytesStored: stats.bytesStored, json: m.json };
        syncDisks();
        res.backup.coffer.repoBytes = duBytes(repo);
        log(
          `  → ${fmtSec(m.wall)} s wall, ${fmtSec(m.cpu)} s CPU, ${m.rssMiB.toFixed(0)} MiB peak RSS; ` +
            `snapshot ${String(m.json.id).slice(0, 8)}: ${fmtBytes(stats.totalBytes)} dumped, ${fmtBytes(stats.bytesStored)} stored; repository ${fmtBytes(res.backup.coffer.repoBytes)}`,
        );
      } else {
        const argv = plain.dump(dumpFile, WORK_DB);
        log(tag(`backup · pg_dump: ${plain.show(argv)}`));
        const m = await plain.run(argv);
        res.backup.plain = { ...pick(m), fileBytes: fs.statSync(dumpFile).size };
        log(`  → ${fmtSec(m.wall)} s wall, ${fmtSec(m.cpu)} s CPU, ${m.rssMiB.toFixed(0)} MiB peak RSS; ${fmtBytes(res.backup.plain.fileBytes)}`);
      }
    }

    // 3. restore of the full backup; plus, as a reference, coffer with --jobs 1 (one
    // pg_restore for everything, no staging file).
    const restoreOrder = opts.baselineOnly ? order : r % 2 ? [...order, 'coffer1'] : ['coffer1', ...order];
    for (const t of restoreOrder) {
      syncDisks();
      if (t === 'coffer' || t === 'coffer1') {
        dropDatabase(RESTORE_COFFER_DB);
        const args = coffer.restore(repo, res.backup.coffer.snapshot, RESTORE_COFFER_DB, t === 'coffer1' ? 1 : RESTORE_JOBS);
        log(tag(`restore${t === 'coffer1' ? ' · reference' : ''} · coffer: ${coffer.show(args)}`));
        const m = await coffer.run(args);
        res.restore[t] = { ...pick(m), json: m.json };
        checkRestore(RESTORE_COFFER_DB, baseSignature, 'coffer');
        dropDatabase(RESTORE_COFFER_DB);
        log(`  → ${fmtSec(m.wall)} s wall, ${fmtSec(m.cpu)} s CPU, ${m.rssMiB.toFixed(0)} MiB peak RSS; verified, dropped`);
      } else {
        dropDatabase(RESTORE_PLAIN_DB);
        createDatabase(RESTORE_PLAIN_DB);
        const argv = plain.restore(dumpFile, RESTORE_PLAIN_DB);
        log(tag(`restore · pg_restore: createdb (untimed), then ${plain.show(argv)}`));
        const m = await plain.run(argv);
        res.restore.plain = pick(m);
        checkRestore(RESTORE_PLAIN_DB, baseSignature, 'pg_restore');
        dropDatabase(RESTORE_PLAIN_DB);
        log(`  → ${fmtSec(m.wall)} s wall, ${fmtSec(m.cpu)} s CPU, ${m.rssMiB.toFixed(0)} MiB peak RSS; verified, dropped`);
      }
    }

    // 4. incremental, one fresh database copy and repository copy per update pattern
    let workIsPristine = true;
    for (const v of VARIANTS) {
      if (!workIsPristine) {
        dropDatabase(WORK_DB);
        createDatabase(WORK_DB, SOURCE_DB);
      }
      workIsPristine = false;
      const inc = {};
      res.incremental[v.key] = inc;
      const sql = updateSql(v);
      log(tag(`incremental ${v.pattern.label}, ${v.filler.label}: ${sql}`));
      let t0 = performance.now();
      const updated = psql(WORK_DB, sql);
      inc.updateSeconds = (performance.now() - t0) / 1000;
      inc.rows = Number(updated.replace(/^UPDATE /, '')) || null;
      const floor = await copyOutSizes(WORK_DB, changedRowsQuery(v));
      inc.changedRowsRaw = floor.raw;
      inc.changedRowsGzip = floor.compressed;
      const dayDump = path.join(dir, `day-${v.key}.dump`);
      run('pg_dump', ['-Fc', '-f', dayDump, '-d', pgUrl(WORK_DB)], { env });
      inc.dayDumpBytes = fs.statSync(dayDump).size;
      fs.rmSync(dayDump);
      if (!opts.baselineOnly) {
        const vrepo = path.join(dir, `repo-${v.key}`);
        t0 = performance.now();
        fs.cpSync(repo, vrepo, { recursive: true });
        // Each variant gets the repository exactly as it was after the full backup.
        syncDisks();
        const args = coffer.backup(vrepo, WORK_DB);
        const m = await coffer.run(args);
        const stats = m.json.stats ?? {};
        Object.assign(inc, pick(m), { snapshot: m.json.id, parent: m.json.parent ?? null, totalBytes: stats.totalBytes, bytesNew: stats.bytesNew, bytesStored: stats.bytesStored });
        fs.rmSync(vrepo, { recursive: true, force: true });
      }
      inc.share = inc.bytesStored != null ? inc.bytesStored / inc.dayDumpBytes : null;
      inc.shareOfCofferFull = inc.bytesStored != null ? inc.bytesStored / res.backup.coffer.bytesStored : null;
      inc.floorShare = inc.changedRowsGzip / inc.dayDumpBytes;
      log(
        `  → ${inc.rows} rows updated in ${inc.updateSeconds.toFixed(1)} s; day's pg_dump -Fc ${fmtBytes(inc.dayDumpBytes)}; changed rows alone ${fmtBytes(inc.changedRowsRaw)} (${fmtBytes(inc.changedRowsGzip)} gzip -6 = ${fmtPct(inc.floorShare)})` +
          (inc.bytesStored != null
            ? `; coffer: ${fmtSec(inc.wall)} s, new ${fmtBytes(inc.bytesNew)}, stored ${fmtBytes(inc.bytesStored)} = ${fmtPct(inc.share)} of the day's dump, ${fmtPct(inc.shareOfCofferFull)} of coffer's full backup`
            : ''),
      );
    }
    dropDatabase(WORK_DB);
    fs.rmSync(dir, { recursive: true, force: true });
    writeRaw({ opts, machine, setup, runs, partial: true });
  }

  // --- report -----------------------------------------------------------------------------
  const notes = [];
  if (!opts.baselineOnly && buildStamp() !== stampAtStart) {
    notes.push(`the built coffer code (apps/cli/dist, libs/sources/dist, libs/repository/dist) changed during this benchmark: runs may have measured different builds`);
    log(`WARNING: ${notes.at(-1)}`);
  }
  machine.loadAvgEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const summary = summarize(runs, setup, opts);
  const text = renderResults({ summary, setup, runs, opts });
  console.log('\n' + text.console);
  if (opts.out) {
    writeMarkedSection(opts.out, MARK_START, MARK_END, renderSection({ machine, setup, summary, text, opts, notes }));
    log(`wrote the bench:db section of ${rel(opts.out)}`);
  }
  writeRaw({ opts, machine, setup, runs, summary, notes });
}

const pick = (m) => ({ wall: m.wall, cpu: m.cpu, user: m.user, sys: m.sys, rssMiB: m.rssMiB });

function checkRestore(db, expected, who) {
  const got = pgbenchSignature(db);
  if (got !== expected) throw new Error(`${who} restore into ${db} is wrong: ${got}; expected ${expected}`);
}

function writeRaw(obj) {
  fs.writeFileSync(path.join(DATA_DIR, 'last-results.json'), JSON.stringify(obj, null, 2) + '\n');
}

// --- summary and report -------------------------------------------------------------------

function summarize(runs, setup, opts) {
  const med = (get) => {
    const v = runs.map(get).filter((x) => x != null && Number.isFinite(x));
    return v.length ? median(v) : null;
  };
  const phase = (ph, tool) => ({
    wall: med((r) => r[ph][tool]?.wall),
    cpu: med((r) => r[ph][tool]?.cpu),
    rssMiB: med((r) => r[ph][tool]?.rssMiB),
    maxRssMiB: Math.max(...runs.map((r) => r[ph][tool]?.rssMiB ?? 0)),
    walls: runs.map((r) => r[ph][tool]?.wall),
  });
  const s = {
    backup: { coffer: phase('backup', 'coffer'), plain: phase('backup', 'plain'), raw: phase('backup', 'raw') },
    restore: { coffer: phase('restore', 'coffer'), plain: phase('restore', 'plain'), coffer1: phase('restore', 'coffer1') },
    cofferTotalBytes: med((r) => r.backup.coffer?.totalBytes),
    cofferStored: med((r) => r.backup.coffer?.bytesStored),
    cofferRepoBytes: med((r) => r.backup.coffer?.repoBytes),
    plainFileBytes: med((r) => r.backup.plain?.fileBytes),
    incremental: {},
  };
  const ratio = (a, b) => (a != null && b != null ? a / b : null);
  // Same numerator (uncompressed dump bytes) for both: throughput ratio = plain wall / coffer wall.
  s.backupRatio = opts.baselineOnly ? null : ratio(s.backup.plain.wall, s.backup.coffer.wall);
  s.restoreRatio = opts.baselineOnly ? null : ratio(s.restore.plain.wall, s.restore.coffer.wall);
  s.backupPaired = runs.map((r) => ratio(r.backup.plain?.wall, r.backup.coffer?.wall));
  s.restorePaired = runs.map((r) => ratio(r.restore.plain?.wall, r.restore.coffer?.wall));
  for (const v of VARIANTS) {
    const get = (k) => med((r) => r.incremental[v.key]?.[k]);
    s.incremental[v.key] = {
      rows: get('rows'),
      dayDumpBytes: get('dayDumpBytes'),
      changedRowsRaw: get('changedRowsRaw'),
      changedRowsGzip: get('changedRowsGzip'),
      floorShare: get('floorShare'),
      bytesNew: get('bytesNew'),
      bytesStored: get('bytesStored'),
      share: get('share'),
      shareOfCofferFull: get('shareOfCofferFull'),
      shareOfFirst: opts.baselineOnly ? null : med((r) => (r.incremental[v.key]?.bytesStored ?? NaN) / setup.dumpBytes),
      wall: get('wall'),
      rssMiB: get('rssMiB'),
      shares: runs.map((r) => r.incremental[v.key]?.share),
    };
  }
  return s;
}

function renderResults({ summary: s, setup, runs, opts }) {
  const raw = setup.rawDumpBytes;
  const cell = (m) => (m.wall == null ? '—' : `${fmtSec(m.wall)} s · ${fmtRate(raw, m.wall)} · ${fmtSec(m.cpu)} s · ${m.rssMiB.toFixed(0)} MiB`);
  const lines = [];
  lines.push(
    '| phase | coffer: wall · throughput · CPU · peak RSS | plain: wall · throughput · CPU · peak RSS | throughput ratio coffer / plain |',
    '| --- | --- | --- | --- |',
    `| full backup (coffer repo backup --postgres vs pg_dump -Fc) | ${cell(s.backup.coffer)} | ${cell(s.backup.plain)} | **${fmtRatio(s.backupRatio)}** |`,
    `| reference: \`pg_dump -Fc -Z0\` into a pipe, discarded (the dump coffer streams, alone) | — | ${cell(s.backup.raw)} | coffer / this: ${fmtRatio(s.backup.raw.wall != null && s.backup.coffer.wall != null ? s.backup.raw.wall / s.backup.coffer.wall : null)} |`,
    `| restore, ${RESTORE_JOBS} jobs (coffer repo restore --postgres vs pg_restore) | ${cell(s.restore.coffer)} | ${cell(s.restore.plain)} | **${fmtRatio(s.restoreRatio)}** |`,
    `| reference: coffer restore --jobs 1 (one streamed pg_restore, no staging file) | ${cell(s.restore.coffer1)} | — | vs pg_restore -j ${RESTORE_JOBS}: ${fmtRatio(s.restore.plain.wall != null && s.restore.coffer1.wall != null ? s.restore.plain.wall / s.restore.coffer1.wall : null)} |`,
    `| output of the full backup | ${s.cofferStored != null ? `${fmtBytes(s.cofferStored)} stored (repository ${fmtBytes(s.cofferRepoBytes)}) from a ${fmtBytes(s.cofferTotalBytes)} uncompressed dump` : '—'} | ${fmtBytes(s.plainFileBytes)} file | size ${fmtRatio(s.cofferRepoBytes != null ? s.cofferRepoBytes / s.plainFileBytes : null)}× |`,
  );
  const results = lines.join('\n') + '\n';

  const inc = [
    '| update (5% of pgbench_accounts) | rows | day\'s pg_dump -Fc (100% for a new dump file) | changed rows alone, gzip -6 (floor) | coffer: new data → stored | **stored / day\'s dump** | stored / floor | stored / coffer\'s own full backup | 2nd backup wall |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const v of VARIANTS) {
    const x = s.incremental[v.key];
    inc.push(
      `| ${v.pattern.label}, ${v.filler.label} | ${x.rows?.toLocaleString('en-US') ?? '—'} | ${fmtBytes(x.dayDumpBytes)} | ${fmtBytes(x.changedRowsGzip)} (${fmtPct(x.floorShare)}) | ` +
        `${x.bytesStored != null ? `${fmtBytes(x.bytesNew)} → ${fmtBytes(x.bytesStored)}` : '—'} | **${fmtPct(x.share)}** | ${fmtRatio(x.bytesStored != null ? x.bytesStored / x.changedRowsGzip : null)}× | ${fmtPct(x.shareOfCofferFull)} | ${fmtSec(x.wall)} s |`,
    );
  }
  const incremental = inc.join('\n') + '\n';

  const t = [
    '| target | threshold | measured | result |',
    '| --- | --- | --- | --- |',
    `| full backup throughput, coffer / pg_dump -Fc | ≥ ${TARGETS.backupRatio} | ${fmtRatio(s.backupRatio)} | ${verdict(s.backupRatio == null ? null : s.backupRatio >= TARGETS.backupRatio)} |`,
  ];
  for (const v of VARIANTS) {
    const x = s.incremental[v.key];
    const note = x.floorShare > TARGETS.incrementalShare ? ` (the changed rows alone, gzip -6, are ${fmtPct(x.floorShare)})` : '';
    t.push(
      `| incremental ${v.pattern.label}, ${v.filler.label}: stored / day's full dump${note} | ≤ ${TARGETS.incrementalShare * 100}% | ${fmtPct(x.share)} | ${verdict(x.share == null ? null : x.share <= TARGETS.incrementalShare)} |`,
    );
  }
  t.push(`| restore throughput, coffer / pg_restore (-j ${RESTORE_JOBS}) | ≥ ${TARGETS.restoreRatio} | ${fmtRatio(s.restoreRatio)} | ${verdict(s.restoreRatio == null ? null : s.restoreRatio >= TARGETS.restoreRatio)} |`);
  const targets = t.join('\n') + '\n';

  const r2 = (v) => (v == null ? '—' : fmtRatio(v));
  const rawLines = [
    `- full backup wall, s: coffer ${s.backup.coffer.walls.map(fmtSec).join(', ')}; pg_dump ${s.backup.plain.walls.map(fmtSec).join(', ')}; paired ratio per run ${s.backupPaired.map(r2).join(', ')}; reference pg_dump -Z0 into a pipe ${s.backup.raw.walls.map(fmtSec).join(', ')}`,
    `- restore wall, s: coffer ${s.restore.coffer.walls.map(fmtSec).join(', ')}; pg_restore ${s.restore.plain.walls.map(fmtSec).join(', ')}; paired ratio per run ${s.restorePaired.map(r2).join(', ')}; reference coffer --jobs 1 ${s.restore.coffer1.walls.map(fmtSec).join(', ')}`,
    `- peak RSS, MiB: coffer backup ${runs.map((r) => r.backup.coffer?.rssMiB?.toFixed(0) ?? '—').join(', ')}; coffer restore ${runs.map((r) => r.restore.coffer?.rssMiB?.toFixed(0) ?? '—').join(', ')}; pg_dump ${runs.map((r) => r.backup.plain?.rssMiB?.toFixed(0) ?? '—').join(', ')}; pg_restore ${runs.map((r) => r.restore.plain?.rssMiB?.toFixed(0) ?? '—').join(', ')}`,
    `- order per run (first tool): ${runs.map((r) => r.order[0]).join(', ')}`,
    ...VARIANTS.map(
      (v) =>
        `- incremental ${v.pattern.label}, ${v.filler.label}: stored ${runs.map((r) => fmtBytes(r.incremental[v.key]?.bytesStored)).join(', ')}; share ${runs.map((r) => fmtPct(r.incremental[v.key]?.share)).join(', ')}; day's dump ${runs.map((r) => fmtBytes(r.incremental[v.key]?.dayDumpBytes)).join(', ')}`,
    ),
  ];
  const rawText = rawLines.join('\n') + '\n';

  const console_ = [
    `Medians of ${opts.runs} run(s); throughput = uncompressed dump bytes (${fmtBytes(raw)}) / wall.`,
    '',
    results,
    incremental,
    targets,
    'Raw numbers:',
    rawText,
  ].join('\n');
  return { results, incremental, targets, raw: rawText, console: console_ };
}

function renderSection({ machine: m, setup, summary: s, text, opts, notes }) {
  const sharePct = (k) => fmtPct(s.incremental[k].share);
  const command = invocation();
  const backupCmds = [
    coffer.show(coffer.init('DIR').map((a) => (a === passwordFile ? 'F' : a))),
    coffer.show(coffer.backup('DIR', WORK_DB).map((a) => (a === passwordFile ? 'F' : a))),
    plain.show(plain.dump('FILE', WORK_DB)),
    `${plain.show(plain.rawDump(WORK_DB))} (reference: stdout read by the benchmark and discarded)`,
    coffer.show(coffer.restore('DIR', 'SNAPSHOT', RESTORE_COFFER_DB).map((a) => (a === passwordFile ? 'F' : a))),
    `${coffer.show(coffer.restore('DIR', 'SNAPSHOT', RESTORE_COFFER_DB, 1).map((a) => (a === passwordFile ? 'F' : a)))} (reference)`,
    `psql -c 'CREATE DATABASE ${RESTORE_PLAIN_DB}'  (untimed), then ${plain.show(plain.restore('FILE', RESTORE_PLAIN_DB))}`,
  ];
  return [
    ...sectionHead('## PostgreSQL benchmark: coffer vs pg_dump / pg_restore', '`bench/db-bench.mjs`', m.date, command),
    '**Machine:**',
    '',
    `- CPU: ${m.cpu}, nproc ${m.nproc}; RAM ${m.ramGiB} GiB; ${m.kernel}; load average (1/5/15 min) at the start: ${m.loadAvg}, at the end: ${m.loadAvgEnd}`,
    `- PostgreSQL ${m.server} on the same machine (${PG_SERVER}, shared_buffers ${m.sharedBuffers}); ${m.pgDump}; ${m.pgRestore}; node ${m.node}; coffer ${m.coffer}`,
    `- everything shares the ${m.nproc} cores: the PostgreSQL server, the dump tools and coffer (and whatever else ran on this shared machine; see the load averages)`,
    '',
    '**Data:**',
    '',
    `- \`${SOURCE_DB}\`: \`pgbench -i -s ${SCALE} -q\` (${ACCOUNTS.toLocaleString('en-US')} accounts), ${setup.reused ? 'reused (row counts checked)' : `built in ${setup.seconds.toFixed(1)} s`}; database ${fmtBytes(setup.databaseBytes)}`,
    `- plain \`pg_dump -Fc\` file: **${fmtBytes(setup.dumpBytes)}**; the same dump uncompressed (\`-Fc -Z0\`, the throughput numerator for both tools): ${fmtBytes(setup.rawDumpBytes)}. pgbench's \`filler\` column is blank, so the data compresses about ${Math.round(setup.rawDumpBytes / setup.dumpBytes)}:1`,
    `- every run works on \`${WORK_DB}\`, a fresh \`CREATE DATABASE … TEMPLATE ${SOURCE_DB}\` (same pages, same dump), and a fresh repository; the order of the two tools alternates per run; \`sync\` before every measured command; caches are not dropped`,
    '',
    `**Results** (medians of ${opts.runs} runs; throughput = ${fmtBytes(setup.rawDumpBytes)} uncompressed dump / wall, so the ratio is plain wall / coffer wall; CPU = user+sys of the tool and its children, not the PostgreSQL server's; peak RSS = largest single process of the tool's tree, GNU time):`,
    '',
    text.results.trimEnd(),
    '',
    `**Incremental** (medians): after the full backup, 5% of \`pgbench_accounts\` is updated on a fresh copy of the database with \`UPDATE pgbench_accounts SET abalance = abalance + 1, filler = F WHERE W\`, then a second \`coffer repo backup --postgres\` into a copy of the repository as it was after the full backup. "Stored" = \`stats.bytesStored\` of \`--json\` (new chunks, compressed and encrypted). The "day's pg_dump -Fc" is what a nightly dump would write again; the floor is the changed rows alone (\`COPY (SELECT * … WHERE W ORDER BY aid)\`) compressed with zlib level 6 like pg_dump.`,
    '',
    text.incremental.trimEnd(),
    '',
    '**Targets:**',
    '',
    text.targets.trimEnd(),
    '',
    '**Raw numbers** (per run, in run order):',
    '',
    text.raw.trimEnd(),
    '',
    '**Commands** (DIR = fresh repository, F = password file, FILE = the pg_dump file, SNAPSHOT = id of the full backup):',
    '',
    ...backupCmds.map((c) => `- \`${c}\``),
    '',
    '**The two update patterns:**',
    '',
    `- (a) contiguous \`WHERE ${PATTERNS[0].where}\`: the realistic "recent rows change" case. The new row versions go to the end of the table (fillfactor 100), so the next dump holds the unchanged rows in one long run and the changed rows at its end; content-defined chunks dedup everything but the seams and the moved rows: ${sharePct('a-text')} of the day's dump with the constant filler (${fmtPct(s.incremental['a-text'].shareOfCofferFull)} of coffer's own full backup).`,
    `- (b) spread \`WHERE ${PATTERNS[1].where}\`: one row in 20 changes, i.e. one changed row every ~${Math.round((setup.rawDumpBytes / ACCOUNTS) * 20 / 1024)} KiB of COPY data, so every chunk of the table changes and the increment is a whole new copy: ${fmtPct(s.incremental['b-text'].shareOfCofferFull)} of coffer's own full backup. It shows as ${sharePct('b-text')} of the day's pg_dump file only because coffer's zstd compresses this data better than pg_dump's zlib (full backup ${fmtBytes(s.cofferStored)} stored vs a ${fmtBytes(s.plainFileBytes)} dump file). No dedup of a logical dump with chunks larger than the distance between changed rows can do better; only block- or WAL-level backups could.`,
    `- the constant filler keeps the changed rows as compressible as the rest (the case the target is about); \`md5(aid)\` makes them about ${Math.round(s.incremental['a-md5'].changedRowsGzip / s.incremental['a-text'].changedRowsGzip)}× less compressible, and on this ~${Math.round(setup.rawDumpBytes / setup.dumpBytes)}:1 data the changed rows alone are then already ${fmtPct(s.incremental['a-md5'].floorShare)} of the day's dump (gzip -6), above the 15% target for any tool; coffer stored ${fmtRatio(s.incremental['a-md5'].bytesStored / s.incremental['a-md5'].changedRowsGzip)}× that floor for (a).`,
    `- "stored" counts compressed, encrypted new chunks only; the repository's index and snapshot objects add a little on top (repository after the full backup: ${fmtBytes(s.cofferRepoBytes)}).`,
    ...(notes.length ? ['', '**Notes:**', '', ...notes.map((n) => `- ${n}`)] : []),
    '',
    `Raw numbers of the last run: \`bench/.data/db/last-results.json\` (git-ignored). A missed target is reported, not an error.`,
  ].join('\n');
}

// --- entry --------------------------------------------------------------------------------

let cleaning = false;
function cleanupOnExit() {
  if (cleaning) return;
  cleaning = true;
  try {
    cleanupTemp();
  } catch (e) {
    console.error(`[bench:db] cleanup failed: ${e.message}`);
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\n[bench:db] ${sig}: removing temporary databases and directories`);
    cleanupOnExit();
    process.exit(130);
  });
}

main()
  .then(() => cleanupOnExit())
  .catch((e) => {
    cleanupOnExit();
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`\n[bench:db] FAILED: ${e.message}`);
    if (e instanceof CommandError) {
      if (e.stderrTail) console.error(`--- stderr (tail) ---\n${e.stderrTail}`);
      if (e.stdoutTail) console.error(`--- stdout (tail) ---\n${e.stdoutTail}`);
    } else if (process.env.BENCH_DEBUG) {
      console.error(e);
    }
    process.exit(1);
  });
