// Process measurement and small system helpers.
//
// Node cannot report a child's resource usage (process.resourceUsage() is
// RUSAGE_SELF only), so every measured command runs under GNU time, which
// gets user/sys CPU and max RSS from wait4(2). That covers the child and
// every descendant it waited for (CPU summed; max RSS is the largest single
// process, which is what ru_maxrss means).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const GNU_TIME = '/usr/bin/time';

/** Thrown when a benchmarked or helper command fails; carries the output tail. */
export class CommandError extends Error {
  constructor(message, { command, code, stderrTail, stdoutTail }) {
    super(message);
    this.command = command;
    this.code = code;
    this.stderrTail = stderrTail;
    this.stdoutTail = stdoutTail;
  }
}

/** Locates an executable on PATH (or returns an absolute path that exists). */
export function which(name) {
  if (name.includes('/')) return fs.existsSync(name) ? name : null;
  for (const dir of (process.env.PATH || '').split(':')) {
    const p = path.join(dir || '.', name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return null;
}

/**
 * Installs a Debian package when a required binary is missing. Only apt
 * is attempted: the bench is meant for the project's Debian machines.
 */
export function ensureDebianBinary(binary, pkg, log) {
  const found = which(binary);
  if (found) return found;
  log(`${binary} not found: installing Debian package '${pkg}' (apt-get update && apt-get install -y ${pkg})`);
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : which('sudo') ? ['sudo', '-n'] : null;
  if (!prefix) throw new Error(`${binary} is missing and cannot be installed without root (apt-get install -y ${pkg})`);
  const run = (args) => {
    const [cmd, ...rest] = [...prefix, ...args];
    const r = spawnSync(cmd, rest, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status !== 0) {
      throw new CommandError(`'${args.join(' ')}' failed (exit ${r.status})`, {
        command: args.join(' '),
        code: r.status,
        stderrTail: tail(String(r.stderr || ''), 20),
      });
    }
  };
  run(['apt-get', 'update']);
  run(['apt-get', 'install', '-y', pkg]);
  const installed = which(binary);
  if (!installed) throw new Error(`installed '${pkg}' but ${binary} is still not on PATH`);
  return installed;
}

/** Last `n` lines of a string. */
export function tail(s, n) {
  const lines = s.replace(/\s+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

/** Bounded buffer keeping only the end of a stream (tools can print a lot). */
class TailBuffer {
  constructor(limit = 64 * 1024) {
    this.limit = limit;
    this.chunks = [];
    this.size = 0;
  }
  push(b) {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - this.chunks[0].length > this.limit) this.size -= this.chunks.shift().length;
  }
  toString() {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Quotes one word for a POSIX shell when needed. */
export const shellQuote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Shell-ish rendering of a command for messages and reports (`cmd` is shown verbatim). */
export function showCommand(cmd, args, envShown = {}) {
  const env = Object.entries(envShown).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return [...env, cmd, ...args.map(shellQuote)].join(' ');
}

let timeFileCounter = 0;

/**
 * Runs `cmd args` under GNU time and resolves to
 * { wall, cpu, user, sys, rssMiB }. Wall time is taken here with hrtime
 * (sub-ms resolution; `%e` only has 10 ms), CPU and RSS come from GNU time.
 * Rejects with CommandError (including the output tail) on a non-zero exit.
 */
export function runMeasured(cmd, args, { env, cwd, display }) {
  const timeFile = path.join(os.tmpdir(), `coffer-bench-time-${process.pid}-${timeFileCounter++}`);
  return new Promise((resolve, reject) => {
    const stdout = new TailBuffer();
    const stderr = new TailBuffer();
    const t0 = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b) => stdout.push(b));
    child.stderr.on('data', (b) => stderr.push(b));
    child.on('error', (e) => reject(e));
    child.on('close', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      let timeOut = '';
      try {
        timeOut = fs.readFileSync(timeFile, 'utf8');
        fs.rmSync(timeFile, { force: true });
      } catch {
        /* handled below */
      }
      if (code !== 0) {
        reject(
          new CommandError(`command failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${display}`, {
            command: display,
            code,
            stderrTail: tail(stderr.toString(), 30),
            stdoutTail: tail(stdout.toString(), 10),
          }),
        );
        return;
      }
      // On failure GNU time prepends a "Command exited with..." line, so
      // the measurement is always the last line.
      const last = timeOut.trim().split('\n').pop() || '';
      const m = last.match(/^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/);
      if (!m) {
        reject(new Error(`could not parse GNU time output ${JSON.stringify(timeOut)} for: ${display}`));
        return;
      }
      const user = Number(m[2]);
      const sys = Number(m[3]);
      resolve({ wall, user, sys, cpu: user + sys, rssMiB: Number(m[4]) / 1024 });
    });
  });
}

/** Runs a helper command to completion and returns stdout (throws CommandError). */
export function runQuiet(cmd, args, { env, cwd } = {}) {
  try {
    return execFileSync(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 }).toString();
  } catch (e) {
    throw new CommandError(`command failed (exit ${e.status}): ${showCommand(cmd, args)}`, {
      command: showCommand(cmd, args),
      code: e.status,
      stderrTail: tail(String(e.stderr || ''), 30),
      stdoutTail: tail(String(e.stdout || ''), 10),
    });
  }
}

/**
 * Apparent size like `du -sb`: every inode under `dir` (files, dirs,
 * symlinks) counted once by st_size, hard links deduplicated.
 */
export function duBytes(dir) {
  const seen = new Set();
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const p = stack.pop();
    const st = fs.lstatSync(p);
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) continue;
    seen.add(key);
    total += st.size;
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) stack.push(path.join(p, name));
  }
  return total;
}

/**
 * Flushes dirty pages so one tool's buffered writes (a restore writes ~2 GiB)
 * are not paid for by the next tool's measured phase.
 */
export function syncDisks() {
  spawnSync('sync', [], { stdio: 'ignore' });
}

/**
 * rm -rf followed by sync: on discard-mounted filesystems deleting ~60k
 * files queues a lot of I/O that would otherwise land in the next phase.
 */
export function removeTree(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  syncDisks();
}

/**
 * Moves `dir` (if it exists) into `trash` instead of deleting it: one rename. On this
 * machine's ext4 (mounted with `discard`), deleting tens of thousands of files slows the
 * creation of the next tens of thousands ~20× for about 20 s (a restore of 15,003 files: 2.3 s
 * fresh, 5.7 s right after deleting two such trees, 7.4 s of it system time), whichever tool
 * runs next, `sync` or not. Deletions therefore wait for emptyTrash() after the last
 * measurement.
 */
export function setAside(dir, trash) {
  if (!fs.existsSync(dir)) return;
  fs.mkdirSync(trash, { recursive: true });
  fs.renameSync(dir, path.join(trash, `${path.basename(dir)}-${process.pid}-${setAsideCount++}`));
}
let setAsideCount = 0;

/** Deletes what setAside() kept: call when nothing is measured any more. */
export function emptyTrash(trash) {
  removeTree(trash);
}

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
