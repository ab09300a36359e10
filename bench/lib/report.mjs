// Result tables, target verdicts and the BENCHMARKS.md section.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median } from './measure.mjs';

export const MARK_START = '<!-- bench:repo:start -->';
export const MARK_END = '<!-- bench:repo:end -->';

/**
 * Measured phases, in execution order. `minSpeed` is the target for
 * restic_wall / coffer_wall (>1 means coffer is faster).
 */
export const PHASES = [
  { key: 'backup1', label: 'backup (first)', minSpeed: 2 },
  { key: 'backup2', label: 'backup (unchanged)', minSpeed: 1 },
  { key: 'backup3', label: 'backup (~5% changed)', minSpeed: null },
  { key: 'restore', label: 'restore latest', minSpeed: 1.5 },
  { key: 'check', label: 'check --read-data', minSpeed: 1 },
];
export const MAX_SIZE_RATIO = 1;
export const MAX_RSS_RATIO = 1;

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export const fmtBytes = (b) => (b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : `${(b / MiB).toFixed(1)} MiB`);
const fmtSec = (s) => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));
const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? '—' : r.toFixed(2));

/** Facts about the machine that make the numbers interpretable. */
export function machineInfo({ dataDir, versions }) {
  let cpu = 'unknown';
  try {
    const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (m) cpu = m[1].trim();
  } catch {
    /* not Linux */
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    ramGiB: (os.totalmem() / GiB).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    versions,
    filesystem: filesystemOf(dataDir),
    loadAvg: os.loadavg()[0].toFixed(2),
    date: new Date().toISOString(),
  };
}

/** Mount holding `dir` (longest mount-point prefix in /proc/mounts). */
function filesystemOf(dir) {
  try {
    let best = null;
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [dev, mnt, type, opts] = line.split(' ');
      if (!mnt) continue;
      const prefix = mnt.endsWith('/') ? mnt : mnt + '/';
      if ((dir + '/').startsWith(prefix) && (!best || mnt.length > best.mnt.length)) best = { dev, mnt, type, opts };
    }
    return best ? `${best.type} on ${best.mnt} (${best.dev}; ${best.opts})` : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Reduces raw samples to medians and ratios.
 * samples[tool][phase] = [{ wall, cpu, rssMiB }...]; sizes[tool] = [bytes...]
 */
export function summarize({ tools, samples, sizes }) {
  const med = {};
  for (const t of tools) {
    med[t] = {};
    for (const p of PHASES) {
      const s = samples[t]?.[p.key] ?? [];
      if (!s.length) continue;
      med[t][p.key] = {
        wall: median(s.map((x) => x.wall)),
        cpu: median(s.map((x) => x.cpu)),
        rssMiB: median(s.map((x) => x.rssMiB)),
        walls: s.map((x) => x.wall),
      };
    }
    if (sizes[t]?.length) med[t].size = median(sizes[t]);
  }
  const both = tools.includes('coffer') && tools.includes('restic');
  const ratios = {};
  if (both) {
    for (const p of PHASES) {
      const c = med.coffer[p.key];
      const r = med.restic[p.key];
      if (c && r) ratios[p.key] = { speed: r.wall / c.wall, rss: c.rssMiB / r.rssMiB };
    }
    if (med.coffer.size && med.restic.size) ratios.size = med.coffer.size / med.restic.size;
  }
  return { med, ratios, both };
}

/** Target verdicts; every entry is PASS/MISS, or n/a without both tools. */
export function verdicts({ ratios, both }) {
  const out = [];
  const verdict = (ok) => (!both ? 'n/a' : ok ? 'PASS' : 'MISS');
  for (const p of PHASES) {
    if (p.minSpeed == null) continue;
    const v = ratios[p.key]?.speed;
    out.push({
      target: `${p.label}: throughput ratio (restic wall / coffer wall)`,
      threshold: `≥ ${p.minSpeed}`,
      value: fmtRatio(v),
      result: verdict(v >= p.minSpeed),
    });
  }
  out.push({
    target: 'repository size ratio (coffer / restic)',
    threshold: `≤ ${MAX_SIZE_RATIO}`,
    value: fmtRatio(ratios.size),
    result: verdict(ratios.size <= MAX_SIZE_RATIO),
  });
  let worst = null;
  for (const p of PHASES) {
    const r = ratios[p.key]?.rss;
    if (r != null && (!worst || r > worst.r)) worst = { r, label: p.label };
  }
  out.push({
    target: `peak RSS ratio (coffer / restic), worst phase${worst ? `: ${worst.label}` : ''}`,
    threshold: `≤ ${MAX_RSS_RATIO}`,
    value: fmtRatio(worst?.r),
    result: verdict(worst && worst.r <= MAX_RSS_RATIO),
  });
  return out;
}

function cell(m) {
  return m ? `${fmtSec(m.wall)} s · ${fmtSec(m.cpu)} s · ${m.rssMiB.toFixed(0)} MiB` : '—';
}

/** Markdown results table (also printed to the console as is). */
export function resultsTable({ med, ratios }, runs) {
  const rows = [
    '| phase | coffer wall · CPU · peak RSS | restic wall · CPU · peak RSS | ratio (speed = restic/coffer wall, RSS = coffer/restic) |',
    '| --- | --- | --- | --- |',
  ];
  for (const p of PHASES) {
    const r = ratios[p.key];
    rows.push(
      `| ${p.label} | ${cell(med.coffer?.[p.key])} | ${cell(med.restic?.[p.key])} | ` +
        (r ? `speed ${fmtRatio(r.speed)}× · RSS ${fmtRatio(r.rss)}×` : '—') +
        ' |',
    );
  }
  const size = (t) => (med[t]?.size != null ? fmtBytes(med[t].size) : '—');
  rows.push(
    `| repository size (after all phases) | ${size('coffer')} | ${size('restic')} | ` +
      (ratios.size != null ? `size ${fmtRatio(ratios.size)}×` : '—') +
      ' |',
  );
  let text = rows.join('\n') + '\n';
  if (runs > 1) {
    text += `\nMedians of ${runs} runs. Wall seconds per run:\n\n`;
    for (const p of PHASES) {
      const parts = ['coffer', 'restic']
        .filter((t) => med[t]?.[p.key])
        .map((t) => `${t} ${med[t][p.key].walls.map(fmtSec).join(', ')}`);
      text += `- ${p.label}: ${parts.join('; ')}\n`;
    }
  }
  return text;
}

export function targetsTable(list) {
  const rows = ['| target | threshold | measured | result |', '| --- | --- | --- | --- |'];
  for (const v of list) rows.push(`| ${v.target} | ${v.threshold} | ${v.value} | ${v.result} |`);
  return rows.join('\n') + '\n';
}

/** The lines every BENCHMARKS.md section starts with: its title, what made it and when, and the command. */
export function sectionHead(title, madeBy, date, command) {
  return [
    title,
    '',
    `Generated by ${madeBy} on ${date}. Re-run with the command below; this section is replaced in place.`,
    '',
    '**Command:**',
    '',
    '```sh',
    command,
    '```',
    '',
  ];
}

/** The lines a coffer-vs-peer section ends with: results, targets, the tools' commands, notes. */
export function sectionTail({ resultsLegend, table, targets, commandsLegend, toolCommands, notes }) {
  return [
    `**Results** (${resultsLegend}):`,
    '',
    table.trimEnd(),
    '',
    '**Targets:**',
    '',
    targets.trimEnd(),
    '',
    `**Tool commands** (${commandsLegend}):`,
    '',
    ...toolCommands.map((c) => `- \`${c}\``),
    '',
    ...(notes.length ? ['**Notes:**', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ];
}

/** The full BENCHMARKS.md section (without markers). */
export function renderSection({ machine, dataset, table, targets, command, toolCommands, notes }) {
  const v = machine.versions;
  return [
    ...sectionHead('## Repository benchmark: coffer vs restic', '`bench/repo-bench.mjs`', machine.date, command),
    '**Machine:**',
    '',
    `- CPU: ${machine.cpu}, ${machine.cores} cores; RAM ${machine.ramGiB} GiB`,
    `- kernel: ${machine.kernel}; filesystem of bench/.data: ${machine.filesystem}`,
    `- node ${machine.node}; ${v.restic ?? 'restic: not run'}; coffer: ${v.coffer ?? 'not run'}`,
    `- 1-min load average when the run started: ${machine.loadAvg}`,
    '',
    '**Dataset:**',
    '',
    ...dataset.map((l) => `- ${l}`),
    '',
    ...sectionTail({
      resultsLegend: 'median; wall and CPU in seconds, CPU = user+sys of the tool and its children, peak RSS = max RSS of the largest process',
      table,
      targets,
      commandsLegend: 'per phase, each run against fresh repositories',
      toolCommands,
      notes,
    }),
  ].join('\n');
}

/**
 * Replaces the text between `start` and `end` in BENCHMARKS.md-like `file` (or appends the
 * block), creating the file if needed. Every benchmark writes its own section this way.
 */
export function writeMarkedSection(file, start, end, body) {
  const block = `${start}\n${body.trimEnd()}\n${end}`;
  let text = fs.existsSync(file)
    ? fs.readFileSync(file, 'utf8')
    : '# Benchmarks\n\nSections between `bench:*` markers are generated by scripts under `bench/`; edit outside them.\n';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + end.length);
  else text = text.trimEnd() + '\n\n' + block + '\n';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** The repository benchmark's section. */
export function writeSection(file, body) {
  writeMarkedSection(file, MARK_START, MARK_END, body);
}
