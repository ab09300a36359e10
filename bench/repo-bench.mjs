#!/usr/bin/env node
// Repository benchmark: coffer vs restic on the same seeded dataset.
//
//   npm run bench                        # full run, scale 1 (~1.75 GiB)
//   npm run bench -- --scale 0.1         # quick smoke run
//   npm run bench -- --only restic       # one tool (e.g. while the CLI is being written)
//   npm run bench -- --skip-s3           # without the S3 phase (backup/restore to an S3 test server)
//
// Phases run interleaved (phase N for both tools, then phase N+1) so both
// tools always back up byte-identical data, including after the shared
// "~5% changed" mutation. See bench/README.md for the methodology.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, UsageError } from './lib/command-line.mjs';
import { ensureDataset, mutateWithManifest, PATHS, repairWithManifest, walkTotals, warmCache } from './lib/dataset.mjs';
import { CommandError, duBytes, emptyTrash, ensureDebianBinary, GNU_TIME, setAside, shellQuote, syncDisks } from './lib/measure.mjs';
import {
  fmtBytes,
  machineInfo,
  PHASES,
  renderSection,
  resultsTable,
  summarize,
  targetsTable,
  verdicts,
  writeMarkedSection,
  writeSection,
} from './lib/report.mjs';
import {
  loadS3TestServer,
  renderS3Section,
  runS3Phase,
  S3_MARK_END,
  S3_MARK_START,
  s3ResultsTable,
  s3TargetsTable,
  serverBoundNotes,
  summarizeS3,
} from './lib/s3-phase.mjs';
import { Coffer, Restic } from './lib/tools.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA_DIR = path.join(REPO_ROOT, 'bench', '.data');
/** Repositories and restored trees set aside during the run, deleted after the last measurement (see setAside). */
const TRASH = path.join(DATA_DIR, 'trash');
const DEFAULT_SEED = 0xc0ffee;

const USAGE = `Usage: node bench/repo-bench.mjs [options]   (or: npm run bench -- [options])

  --scale X       dataset size factor (default 1 ≈ 1.75 GiB; 0.1 for a smoke run)
  --runs N        full phase sequences per tool, medians reported (default 1)
  --only TOOL     benchmark only 'coffer' or 'restic' (ratios/targets become n/a)
  --seed N        dataset seed (default ${DEFAULT_SEED})
  --regen         regenerate the dataset even if a matching one exists
  --skip-s3       skip the S3 phase (first backup and restore against an S3 test server)
  --s3-only       run only the S3 phase (no local phases; the local section is not rewritten)
  --out FILE      markdown file to update (default BENCHMARKS.md at the repo root)
  --no-write      do not touch any markdown file
  -h, --help      this text
`;

const log = (msg) => console.log(`[bench] ${msg}`);
const secs = (t0) => (performance.now() - t0) / 1000;

function parseOptions() {
  const values = parseCommandLine(
    {
      scale: { type: 'string', default: '1' },
      runs: { type: 'string', default: '1' },
      only: { type: 'string' },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      regen: { type: 'boolean', default: false },
      'skip-s3': { type: 'boolean', default: false },
      's3-only': { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
    USAGE,
  );
  const scale = Number(values.scale);
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  if (!(scale > 0)) throw new UsageError(`--scale must be a positive number, got '${values.scale}'`);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got '${values.runs}'`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be a uint32, got '${values.seed}'`);
  if (values.only && !['coffer', 'restic'].includes(values.only)) {
    throw new UsageError(`--only must be 'coffer' or 'restic', got '${values.only}'`);
  }
  if (values['skip-s3'] && values['s3-only']) throw new UsageError('--skip-s3 and --s3-only exclude each other');
  return {
    scale,
    runs,
    seed,
    only: values.only ?? null,
    regen: values.regen,
    skipS3: values['skip-s3'],
    s3Only: values['s3-only'],
    out: values['no-write'] ? null : path.resolve(values.out ?? path.join(REPO_ROOT, 'BENCHMARKS.md')),
  };
}


/** The command line as a human would retype it, for the report. */
function invocation() {
  const args = process.argv.slice(2).map(shellQuote);
  if (process.env.npm_lifecycle_event === 'bench') return ['npm run bench', ...(args.length ? ['--', ...args] : [])].join(' ');
  return ['node bench/repo-bench.mjs', ...args].join(' ');
}

async function main() {
  const opts = parseOptions();
  const toolNames = opts.only ? [opts.only] : ['coffer', 'restic'];
  log(`repository benchmark (coffer vs restic): tools ${toolNames.join(' + ')}, scale ${opts.scale}, runs ${opts.runs}, seed ${opts.seed}`);

  // --- prerequisites ------------------------------------------------------
  ensureDebianBinary(GNU_TIME, 'time', log);
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const passwordFile = path.join(DATA_DIR, 'password');
  fs.writeFileSync(passwordFile, 'coffer-bench-password\n', { mode: 0o600 });

  const tools = {};
  if (toolNames.includes('coffer')) tools.coffer = new Coffer({ repoRoot: REPO_ROOT, passwordFile });
  if (toolNames.includes('restic')) {
    const bin = ensureDebianBinary('restic', 'restic', log);
    tools.restic = new Restic({ repoRoot: REPO_ROOT, passwordFile, cacheDir: path.join(DATA_DIR, 'cache', 'restic'), bin });
  }
  for (const t of Object.values(tools)) t.checkAvailable();
  const startS3TestServer = opts.skipS3 ? null : loadS3TestServer(REPO_ROOT);
  const versions = {};
  for (const [name, t] of Object.entries(tools)) versions[name] = t.version();
  // Taken before any work so the load average shows what else was running.
  const machine = machineInfo({ dataDir: DATA_DIR, versions });

  // --- dataset ------------------------------------------------------------
  log(`dataset: preparing bench/.data/dataset (seed ${opts.seed}, scale ${opts.scale})`);
  const ds = await ensureDataset({
    dataDir: DATA_DIR,
    seed: opts.seed,
    scale: opts.scale,
    force: opts.regen,
    log: (m) => log(`  ${m}`),
  });
  const genNote = ds.reused
    ? `reused an existing dataset, verified in ${ds.seconds.toFixed(1)} s; generating it took ${ds.manifest.generationSeconds ?? '?'} s`
    : `generated in ${ds.seconds.toFixed(1)} s`;
  log(`dataset: ${ds.totals.files} files, ${fmtBytes(ds.totals.bytes)} — ${genNote}`);

  const t0 = performance.now();
  const warmBytes = warmCache(ds.root);
  syncDisks();
  const warmNote = `page cache warmed by reading the whole dataset once before phase 1 (${fmtBytes(warmBytes)} in ${secs(t0).toFixed(1)} s); caches are not dropped between phases; \`sync\` runs before every measured command`;
  log(warmNote);

  // --- phases -------------------------------------------------------------
  const samples = Object.fromEntries(toolNames.map((t) => [t, {}]));
  const sizes = Object.fromEntries(toolNames.map((t) => [t, []]));
  const repoOf = (t) => path.join(DATA_DIR, 'repos', t);
  let mutation = null;

  const measure = async (run, phase, toolName, args) => {
    const tool = tools[toolName];
    syncDisks();
    log(`run ${run}/${opts.runs} · ${phase.label} · ${toolName}: ${tool.display(args)}`);
    const r = await tool.run(args);
    log(`  → ${r.wall.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU, ${r.rssMiB.toFixed(0)} MiB peak RSS`);
    (samples[toolName][phase.key] ??= []).push(r);
    return r;
  };
  const phase = (key) => PHASES.find((p) => p.key === key);

  for (let run = 1; run <= (opts.s3Only ? 0 : opts.runs); run++) {
    if (run > 1) {
      log(`run ${run}: restoring the dataset to its pristine state`);
      repairWithManifest({ dataDir: DATA_DIR, plan: ds.plan });
    }
    // Alternate who goes first so neither tool systematically inherits
    // the other's cache/writeback state.
    const order = run % 2 ? toolNames : [...toolNames].reverse();

    for (const t of order) {
      setAside(repoOf(t), TRASH);
      fs.mkdirSync(path.dirname(repoOf(t)), { recursive: true });
      if (tools[t].cacheDir) {
        setAside(tools[t].cacheDir, TRASH);
        // restic check puts its temporary cache inside; it must exist.
        fs.mkdirSync(tools[t].cacheDir, { recursive: true });
      }
      log(`run ${run}/${opts.runs} · init (not reported) · ${t}`);
      await tools[t].run(tools[t].init(repoOf(t)));
    }

    for (const t of order) await measure(run, phase('backup1'), t, tools[t].backup(repoOf(t), ds.root));
    for (const t of order) await measure(run, phase('backup2'), t, tools[t].backup(repoOf(t), ds.root));

    log(`run ${run}: mutating ~5% of the dataset (same change for both tools)`);
    mutation = mutateWithManifest({ dataDir: DATA_DIR, plan: ds.plan });
    log(
      `  ${mutation.smallFiles} small files (${mutation.appended} appended, ${mutation.replaced} rewritten in the middle), ` +
        `${fmtBytes(mutation.logRegion)} of the log and ${fmtBytes(mutation.sqlRegion)} of the SQL dump rewritten in place`,
    );
    const expected = walkTotals(ds.root);
    for (const t of order) await measure(run, phase('backup3'), t, tools[t].backup(repoOf(t), ds.root));

    for (const t of order) {
      const target = path.join(DATA_DIR, 'restore', t);
      setAside(target, TRASH);
      fs.mkdirSync(target, { recursive: true });
      await measure(run, phase('restore'), t, tools[t].restore(repoOf(t), target));
      // A fast restore that restored nothing must not count as a win.
      const got = walkTotals(target);
      if (got.files !== expected.files || got.bytes !== expected.bytes) {
        throw new Error(
          `${t} restore is incomplete: ${got.files} files / ${got.bytes} B restored, ` +
            `expected ${expected.files} files / ${expected.bytes} B (left in ${path.relative(REPO_ROOT, target)})`,
        );
      }
      log(`  restore verified (${got.files} files, ${fmtBytes(got.bytes)}); set aside, deleted after the last measurement`);
      setAside(target, TRASH);
    }

    for (const t of order) await measure(run, phase('check'), t, tools[t].check(repoOf(t)));

    for (const t of order) {
      const size = duBytes(repoOf(t));
      sizes[t].push(size);
      log(`run ${run}/${opts.runs} · repository size · ${t}: ${fmtBytes(size)}`);
    }
  }

  // --- report -------------------------------------------------------------
  const notes = [];
  if (opts.only) notes.push(`partial run (--only ${opts.only}): ratios and targets are not applicable`);
  if (opts.scale !== 1) notes.push(`scale ${opts.scale} is not the reference size (scale 1); compare only like with like`);
  const summary = summarize({ tools: toolNames, samples, sizes });
  const table = resultsTable(summary, opts.runs);
  const targets = targetsTable(verdicts(summary));
  const { plan } = ds;
  const dataset = [
    `seed ${opts.seed}, scale ${opts.scale}: ${ds.totals.files} files in ${ds.totals.dirs} directories, ${fmtBytes(ds.totals.bytes)} total; ${genNote}`,
    `source tree: ${plan.files.length} TypeScript-like files (200 B–20 KiB, skewed small) in ${plan.dirs.length} directories under src/`,
    `${PATHS.log}: ${fmtBytes(plan.logBytes)} timestamped application log (HTTP/DB/cache/job lines, occasional stack traces)`,
    `${PATHS.random}: ${fmtBytes(plan.randomBytes)} incompressible random bytes`,
    `${PATHS.sql}: ${fmtBytes(plan.sqlBytes)} pg_dump-style SQL (CREATE TABLE, INSERT rows, COPY blocks)`,
    mutation
      ? `"~5% changed" step: ${mutation.smallFiles} small files modified (${mutation.appended} appended to, ${mutation.replaced} with a quarter rewritten), ` +
        `a 5% region in the middle of the log (${fmtBytes(mutation.logRegion)}) and of the SQL dump (${fmtBytes(mutation.sqlRegion)}) rewritten in place`
      : '',
    warmNote,
  ].filter(Boolean);
  const toolCommands = toolNames.flatMap((t) => {
    const tool = tools[t];
    const repo = repoOf(t);
    return [
      tool.display(tool.init(repo)),
      tool.display(tool.backup(repo, ds.root)),
      tool.display(tool.restore(repo, path.join(DATA_DIR, 'restore', t))),
      tool.display(tool.check(repo)),
    ];
  });

  // With --s3-only no local phase ran: there is nothing to print, and the local section stays.
  if (!opts.s3Only) {
    console.log('\n' + table);
    console.log(targets);

    if (opts.out) {
      writeSection(
        opts.out,
        renderSection({ machine, dataset, table, targets, command: invocation(), toolCommands, notes }),
      );
      log(`wrote results section to ${path.relative(process.cwd(), opts.out) || opts.out}`);
    }
    fs.writeFileSync(
      path.join(DATA_DIR, 'last-results.json'),
      JSON.stringify({ opts, versions, dataset: ds.totals, samples, sizes, summary }, null, 2) + '\n',
    );
  }

  // --- S3 phase -----------------------------------------------------------
  if (!startS3TestServer) return;
  if (mutation) {
    log('S3 phase: restoring the dataset to its pristine state');
    repairWithManifest({ dataDir: DATA_DIR, plan: ds.plan });
  }
  const s3 = await runS3Phase({ startS3TestServer, tools, toolNames, runs: opts.runs, datasetRoot: ds.root, dataDir: DATA_DIR, trash: TRASH, repoRoot: REPO_ROOT, log });
  const s3Summary = summarizeS3({ toolNames, samples: s3.samples });
  const s3Table = s3ResultsTable(s3Summary, s3.bytes, opts.runs);
  const s3Targets = s3TargetsTable(s3Summary);
  console.log('\n' + s3Table);
  console.log(s3Targets);
  if (opts.out) {
    const s3Notes = [...serverBoundNotes(s3Summary), ...notes];
    writeMarkedSection(
      opts.out,
      S3_MARK_START,
      S3_MARK_END,
      renderS3Section({ machine, dataset: dataset[0], table: s3Table, targets: s3Targets, command: invocation(), toolCommands: s3.toolCommands, notes: s3Notes }),
    );
    log(`wrote S3 results section to ${path.relative(process.cwd(), opts.out) || opts.out}`);
  }
  fs.writeFileSync(path.join(DATA_DIR, 'last-s3-results.json'), JSON.stringify({ opts, versions, dataset: ds.totals, samples: s3.samples, summary: s3Summary }, null, 2) + '\n');
}

main()
  .finally(() => emptyTrash(TRASH))
  .catch((e) => {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`\n[bench] FAILED: ${e.message}`);
    if (e instanceof CommandError) {
      if (e.stderrTail) console.error(`--- stderr (tail) ---\n${e.stderrTail}`);
      if (e.stdoutTail) console.error(`--- stdout (tail) ---\n${e.stdoutTail}`);
    } else if (!(e instanceof Error) || process.env.BENCH_DEBUG) {
      console.error(e);
    }
    process.exit(1);
  });
