// Helpers of the PostgreSQL benchmark (bench/db-bench.mjs): measured commands that keep
// their stdout (coffer prints its --json result there), psql queries, and database
// creation/removal on the machine's server.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommandError, GNU_TIME, tail } from './lib/measure.mjs';

export const PG_SERVER = 'postgres://root@127.0.0.1:5432';
export const pgUrl = (db) => `${PG_SERVER}/${db}`;

/**
 * The environment every tool runs with: inherited PG* and COFFER_* variables are dropped,
 * so a stray PGPASSWORD, PGOPTIONS or COFFER_REPOSITORY cannot change what is measured.
 */
export function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PG|COFFER_)/.test(k)) env[k] = v;
  return env;
}

let counter = 0;

/**
 * Runs `cmd args` and resolves to { wall, user, sys, cpu, rssMiB, stdout }.
 * Wall from hrtime. CPU (user+sys of the process and every descendant it waited for) and
 * peak RSS (ru_maxrss: the largest single process of that tree) from GNU time when it is
 * installed; otherwise the peak RSS is VmHWM of the process itself, read from /proc just
 * before it exits (polled every 20 ms), and CPU is unknown (null).
 * Rejects with CommandError (stderr/stdout tails) on a non-zero exit.
 */
export function runMeasured(cmd, args, { env, cwd, display, stdoutLimit = 8 * 1024 * 1024 }) {
  const useTime = fs.existsSync(GNU_TIME);
  const timeFile = path.join(os.tmpdir(), `coffer-db-bench-time-${process.pid}-${counter++}`);
  return new Promise((resolve, reject) => {
    const out = [];
    let outSize = 0;
    let err = '';
    const t0 = process.hrtime.bigint();
    const child = useTime
      ? spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let hwmKiB = 0;
    const poll = useTime
      ? null
      : setInterval(() => {
          try {
            const m = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+)/m);
            if (m) hwmKiB = Math.max(hwmKiB, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 20);
    child.stdout.on('data', (b) => {
      if (outSize < stdoutLimit) out.push(b);
      outSize += b.length;
    });
    child.stderr.on('data', (b) => {
      err += b.toString();
      if (err.length > 128 * 1024) err = err.slice(-64 * 1024);
    });
    child.on('error', (e) => {
      if (poll) clearInterval(poll);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const stdout = Buffer.concat(out).toString('utf8');
      let timeOut = '';
      if (useTime) {
        try {
          timeOut = fs.readFileSync(timeFile, 'utf8');
        } catch {
          /* handled below */
        }
        fs.rmSync(timeFile, { force: true });
      }
      if (code !== 0) {
        reject(
          new CommandError(`command failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${display}`, {
            command: display,
            code,
            stderrTail: tail(err, 30),
            stdoutTail: tail(stdout, 10),
          }),
        );
        return;
      }
      if (!useTime) {
        resolve({ wall, user: null, sys: null, cpu: null, rssMiB: hwmKiB / 1024, stdout, stderr: err });
        return;
      }
      const m = (timeOut.trim().split('\n').pop() || '').match(/^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/);
      if (!m) {
        reject(new Error(`could not parse GNU time output ${JSON.stringify(timeOut)} for: ${display}`));
        return;
      }
      const user = Number(m[2]);
      const sys = Number(m[3]);
      resolve({ wall, user, sys, cpu: user + sys, rssMiB: Number(m[4]) / 1024, stdout, stderr: err });
    });
  });
}

/** Runs a helper command to completion; returns stdout. Throws CommandError. */
export function run(cmd, args, { env = cleanEnv(), input, maxBuffer = 64 * 1024 * 1024 } = {}) {
  try {
    return execFileSync(cmd, args, { env, input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], maxBuffer }).toString();
  } catch (e) {
    throw new CommandError(`command failed (exit ${e.status}): ${cmd} ${args.join(' ')}`, {
      command: `${cmd} ${args.join(' ')}`,
      code: e.status,
      stderrTail: tail(String(e.stderr || ''), 30),
      stdoutTail: tail(String(e.stdout || ''), 10),
    });
  }
}

/** One psql statement (or several, `;`-separated) against `db`; returns the unaligned, tuples-only output. */
export function psql(db, sql) {
  return run('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-At', '-d', pgUrl(db), '-c', sql]).trim();
}

export const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;

export function databaseExists(db) {
  return psql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${db.replace(/'/g, "''")}'`) === '1';
}

/** DROP DATABASE IF EXISTS … WITH (FORCE): also ends sessions a failed run left behind. */
export function dropDatabase(db) {
  psql('postgres', `DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
}

export function createDatabase(db, template) {
  psql('postgres', `CREATE DATABASE ${quoteIdent(db)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`);
}

/** Databases whose name starts with `prefix` (for removing what an interrupted run left). */
export function databasesWithPrefix(prefix) {
  const out = psql('postgres', `SELECT datname FROM pg_database WHERE datname LIKE '${prefix.replace(/[_%']/g, (c) => (c === "'" ? "''" : `\\${c}`))}%'`);
  return out ? out.split('\n') : [];
}

/**
 * What a restore must reproduce: row counts of the four pgbench tables, the sum of the
 * account balances, and the number of indexes and constraints on them.
 */
export function pgbenchSignature(db) {
  return psql(
    db,
    `SELECT (SELECT count(*) FROM pgbench_accounts) || ' accounts, ' ||
            (SELECT count(*) FROM pgbench_branches) || ' branches, ' ||
            (SELECT count(*) FROM pgbench_tellers) || ' tellers, ' ||
            (SELECT count(*) FROM pgbench_history) || ' history rows, sum(abalance) ' ||
            (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts) || ', ' ||
            (SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'pgbench_%') || ' indexes'`,
  );
}

/** Bytes of `COPY (query) TO STDOUT` and of the same compressed with zlib level 6 (pg_dump's default). */
export async function copyOutSizes(db, query) {
  const { createGzip, constants } = await import('node:zlib');
  return new Promise((resolve, reject) => {
    const child = spawn('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-d', pgUrl(db), '-c', `COPY (${query}) TO STDOUT`], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const gz = createGzip({ level: 6, strategy: constants.Z_DEFAULT_STRATEGY });
    let raw = 0;
    let compressed = 0;
    let err = '';
    child.stdout.on('data', (b) => (raw += b.length));
    child.stdout.pipe(gz);
    gz.on('data', (b) => (compressed += b.length));
    child.stderr.on('data', (b) => (err += b));
    let exited = null;
    let ended = false;
    const done = () => {
      if (exited === null || !ended) return;
      if (exited !== 0) reject(new CommandError(`COPY out of ${db} failed (exit ${exited})`, { command: query, code: exited, stderrTail: tail(err, 20) }));
      else resolve({ raw, compressed });
    };
    gz.on('end', () => {
      ended = true;
      done();
    });
    child.on('close', (code) => {
      exited = code;
      done();
    });
    child.on('error', reject);
  });
}

/** nproc as the machine reports it (falls back to Node's count). */
export function nproc() {
  const r = spawnSync('nproc', [], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : String(os.availableParallelism());
}

