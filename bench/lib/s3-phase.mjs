// S3 phase of the repository benchmark: coffer and restic back the dataset up to, and
// restore it from, the same S3 test server (s3rver, started in this process through
// @coffer/storage's testing helpers), each run on a fresh server.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { walkTotals } from './dataset.mjs';
import { median, setAside, syncDisks } from './measure.mjs';
import { fmtBytes, sectionHead, sectionTail, targetsTable } from './report.mjs';

export const S3_MARK_START = '<!-- bench:s3:start -->';
export const S3_MARK_END = '<!-- bench:s3:end -->';

/** Measured S3 phases; `minSpeed` is the target for restic wall / coffer wall (the issue's ≥ 1.5×). */
export const S3_PHASES = [
  { key: 'backup', label: 'first backup to S3', minSpeed: 1.5 },
  { key: 'restore', label: 'restore latest from S3', minSpeed: 1.5 },
];

const fmtSec = (s) => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));
const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? '—' : r.toFixed(2));
const MiB = 1024 * 1024;

/**
 * The S3 test server's entry point, from the built @coffer/storage; a clear error when it is
 * not built. Called before the local phases, so a missing build fails the run at once.
 */
export function loadS3TestServer(repoRoot) {
  const require = createRequire(path.join(repoRoot, 'package.json'));
  try {
    return require('@coffer/storage/dist/testing').startS3TestServer;
  } catch (e) {
    throw new Error(`cannot load the S3 test server from @coffer/storage/dist/testing (${e.message}): run \`npm run build\` first, or pass --skip-s3`);
  }
}

/**
 * The same tool with the server's credentials added to its environment (never to argv, so
 * they appear in no process listing and no report).
 */
function withEnv(tool, env) {
  return Object.assign(Object.create(Object.getPrototypeOf(tool)), tool, { env: { ...tool.env, ...env } });
}

/**
 * Runs `runs` sequences of init (not reported) → first backup → restore for each tool,
 * alternating which goes first, each run against a fresh server whose objects live under
 * bench/.data/s3. Restores are checked against the dataset's file count and bytes.
 * Also records the CPU this process (that is, the server) spent during each command, to
 * show whether the server was the bottleneck.
 */
export async function runS3Phase({ startS3TestServer, tools, toolNames, runs, datasetRoot, dataDir, trash, repoRoot, log }) {
  const expected = walkTotals(datasetRoot);
  const samples = Object.fromEntries(toolNames.map((t) => [t, {}]));

  for (let run = 1; run <= runs; run++) {
    const serverDir = path.join(dataDir, 's3');
    setAside(serverDir, trash);
    const server = await startS3TestServer({ directory: serverDir });
    log(`S3 run ${run}/${runs}: s3rver at ${server.endpoint}, bucket ${server.bucket}, objects in ${path.relative(repoRoot, serverDir)}`);
    try {
      const order = run % 2 ? toolNames : [...toolNames].reverse();
      const s3Tools = Object.fromEntries(toolNames.map((t) => [t, withEnv(tools[t], server.env)]));
      const locationOf = (t) => server.location(`${t}-run${run}`);

      const measure = async (phase, t, args) => {
        syncDisks();
        log(`S3 run ${run}/${runs} · ${phase.label} · ${t}: ${s3Tools[t].display(args)}`);
        const cpu0 = process.cpuUsage();
        const r = await s3Tools[t].run(args);
        const cpu = process.cpuUsage(cpu0);
        r.serverCpu = (cpu.user + cpu.system) / 1e6;
        log(`  → ${r.wall.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU, ${r.rssMiB.toFixed(0)} MiB peak RSS; server ${r.serverCpu.toFixed(2)} s CPU`);
        (samples[t][phase.key] ??= []).push(r);
      };

      for (const t of order) {
        if (s3Tools[t].cacheDir) {
          setAside(s3Tools[t].cacheDir, trash);
          fs.mkdirSync(s3Tools[t].cacheDir, { recursive: true });
        }
        log(`S3 run ${run}/${runs} · init (not reported) · ${t}`);
        await s3Tools[t].run(s3Tools[t].init(locationOf(t)));
      }
      for (const t of order) await measure(S3_PHASES[0], t, s3Tools[t].backup(locationOf(t), datasetRoot));
      for (const t of order) {
        const target = path.join(dataDir, 'restore', `s3-${t}`);
        setAside(target, trash);
        fs.mkdirSync(target, { recursive: true });
        await measure(S3_PHASES[1], t, s3Tools[t].restore(locationOf(t), target));
        const got = walkTotals(target);
        if (got.files !== expected.files || got.bytes !== expected.bytes) {
          throw new Error(
            `${t} restore from S3 is incomplete: ${got.files} files / ${got.bytes} B restored, ` +
              `expected ${expected.files} files / ${expected.bytes} B (left in ${path.relative(repoRoot, target)})`,
          );
        }
        log(`  restore verified (${got.files} files, ${fmtBytes(got.bytes)}); set aside, deleted after the last measurement`);
        setAside(target, trash);
      }
    } finally {
      await server.stop();
    }
  }

  const toolCommands = toolNames.flatMap((t) => {
    const tool = tools[t];
    const location = `s3:http://127.0.0.1:PORT/BUCKET/${t}-runN`;
    return [tool.display(tool.init(location)), tool.display(tool.backup(location, datasetRoot)), tool.display(tool.restore(location, path.join(dataDir, 'restore', `s3-${t}`)))];
  });
  return { samples, bytes: expected.bytes, toolCommands };
}

/** Medians per tool and phase, and restic/coffer speed ratios where both tools ran. */
export function summarizeS3({ toolNames, samples }) {
  const med = {};
  for (const t of toolNames) {
    med[t] = {};
    for (const p of S3_PHASES) {
      const s = samples[t]?.[p.key] ?? [];
      if (!s.length) continue;
      med[t][p.key] = {
        wall: median(s.map((x) => x.wall)),
        cpu: median(s.map((x) => x.cpu)),
        rssMiB: median(s.map((x) => x.rssMiB)),
        serverCpu: median(s.map((x) => x.serverCpu)),
        walls: s.map((x) => x.wall),
      };
    }
  }
  const both = toolNames.includes('coffer') && toolNames.includes('restic');
  const speed = {};
  if (both) for (const p of S3_PHASES) speed[p.key] = med.restic[p.key].wall / med.coffer[p.key].wall;
  return { med, speed, both };
}

/** The results table: wall (throughput) · CPU · peak RSS · server CPU per tool, and the speed ratio. */
export function s3ResultsTable({ med, speed }, bytes, runs) {
  const cell = (m) =>
    m ? `${fmtSec(m.wall)} s (${(bytes / MiB / m.wall).toFixed(0)} MiB/s) · ${fmtSec(m.cpu)} s · ${m.rssMiB.toFixed(0)} MiB · ${fmtSec(m.serverCpu)} s` : '—';
  const rows = [
    '| phase | coffer wall (throughput) · CPU · peak RSS · server CPU | restic wall (throughput) · CPU · peak RSS · server CPU | speed (restic wall / coffer wall) |',
    '| --- | --- | --- | --- |',
  ];
  for (const p of S3_PHASES) rows.push(`| ${p.label} | ${cell(med.coffer?.[p.key])} | ${cell(med.restic?.[p.key])} | ${fmtRatio(speed[p.key])}× |`);
  let text = rows.join('\n') + '\n';
  if (runs > 1) {
    text += `\nMedians of ${runs} runs. Wall seconds per run:\n\n`;
    for (const p of S3_PHASES) {
      const parts = ['coffer', 'restic'].filter((t) => med[t]?.[p.key]).map((t) => `${t} ${med[t][p.key].walls.map(fmtSec).join(', ')}`);
      text += `- ${p.label}: ${parts.join('; ')}\n`;
    }
  }
  return text;
}

export function s3TargetsTable({ speed, both }) {
  return targetsTable(
    S3_PHASES.map((p) => ({
      target: `${p.label}: throughput ratio (restic wall / coffer wall)`,
      threshold: `≥ ${p.minSpeed}`,
      value: fmtRatio(speed[p.key]),
      result: !both ? 'n/a' : speed[p.key] >= p.minSpeed ? 'PASS' : 'MISS',
    })),
  );
}

/**
 * Whether the server, not the tools, set the pace: its CPU during a command close to that
 * command's wall time means its one thread was busy throughout.
 */
export function serverBoundNotes({ med }) {
  const notes = [];
  for (const p of S3_PHASES) {
    for (const t of ['coffer', 'restic']) {
      const m = med[t]?.[p.key];
      if (m && m.serverCpu >= 0.8 * m.wall) {
        notes.push(`${p.label}, ${t}: the server was busy ${Math.round((100 * m.serverCpu) / m.wall)}% of the wall time, so s3rver (one Node thread) was the bottleneck, not ${t}`);
      }
    }
  }
  return notes;
}

/** The BENCHMARKS.md section (without markers). */
export function renderS3Section({ machine, dataset, table, targets, command, toolCommands, notes }) {
  const v = machine.versions;
  return [
    ...sectionHead('## S3 benchmark: coffer vs restic against the same S3 server', '`bench/repo-bench.mjs` (S3 phase)', new Date().toISOString(), command),
    '**Setup:**',
    '',
    `- CPU: ${machine.cpu}, ${machine.cores} cores; node ${machine.node}; ${v.restic ?? 'restic: not run'}; coffer: ${v.coffer ?? 'not run'}; 1-min load average at the start of the benchmark: ${machine.loadAvg}`,
    '- server: s3rver 3.7.1 with the fixes of `libs/storage/src/testing/s3-test-server.ts` (atomic PUT, conditional writes, ListObjectsV2 paging, aws-chunked bodies), in the benchmark\'s own process on 127.0.0.1, plain HTTP, path-style; objects in bench/.data/s3, a fresh server for every run',
    '- both tools get AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION in their environment, restic with `-r s3:http://…`, coffer with `--repo s3:http://…`; restic keeps its local cache (emptied before each run), as in the local benchmark',
    `- dataset: ${dataset}`,
    '',
    ...sectionTail({
      resultsLegend:
        'median; wall and CPU in seconds; throughput = dataset bytes / wall; CPU = user+sys of the tool and its children; peak RSS of the largest process; server CPU = what s3rver spent during the command',
      table,
      targets,
      commandsLegend: 'each run against a fresh server',
      toolCommands,
      notes,
    }),
  ].join('\n');
}
