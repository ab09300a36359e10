// The two tools under test, behind one small interface so the phase loop
// can treat them identically. Each method returns the argv for a phase;
// `run()` executes it measured.

import fs from 'node:fs';
import path from 'node:path';
import { runMeasured, runQuiet, showCommand } from './measure.mjs';

/**
 * Inherited variables that would silently change what the tools do (another
 * repository, another password, a global cache) are dropped.
 */
function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(RESTIC_|COFFER_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Paths in reports are shown relative to the repo root to stay readable. */
const rel = (repoRoot, p) => (p.startsWith(repoRoot + path.sep) ? path.relative(repoRoot, p) : p);

class Tool {
  constructor({ name, bin, prefixArgs = [], shownBin, env, shownEnv, repoRoot }) {
    this.name = name;
    this.bin = bin;
    this.prefixArgs = prefixArgs;
    this.shownBin = shownBin;
    this.env = env;
    this.shownEnv = shownEnv;
    this.repoRoot = repoRoot;
  }

  display(args) {
    return showCommand(
      this.shownBin,
      args.map((a) => rel(this.repoRoot, a)),
      this.shownEnv,
    );
  }

  run(args) {
    return runMeasured(this.bin, [...this.prefixArgs, ...args], {
      env: this.env,
      cwd: this.repoRoot,
      display: this.display(args),
    });
  }
}

export class Coffer extends Tool {
  constructor({ repoRoot, passwordFile }) {
    const entry = path.join(repoRoot, 'apps/cli/bin/coffer.js');
    // `node <bin>` instead of `npx coffer`: npx adds ~300 ms of resolution
    // per call, which would dominate the short phases.
    super({
      name: 'coffer',
      bin: process.execPath,
      prefixArgs: [entry],
      shownBin: 'node apps/cli/bin/coffer.js',
      env: cleanEnv({ COFFER_PASSWORD_FILE: passwordFile }),
      shownEnv: { COFFER_PASSWORD_FILE: rel(repoRoot, passwordFile) },
      repoRoot,
    });
    this.entry = entry;
  }

  /** Fails early with a useful hint rather than at the first phase. */
  checkAvailable() {
    const built = path.join(this.repoRoot, 'apps/cli/dist/main.js');
    if (!fs.existsSync(this.entry) || !fs.existsSync(built)) {
      throw new Error(
        `coffer CLI not available (${rel(this.repoRoot, built)} missing): run \`npm run build\` first, ` +
          'or benchmark restic alone with --only restic',
      );
    }
  }

  version() {
    try {
      return runQuiet(this.bin, [this.entry, '--version'], { env: this.env }).trim() || 'unknown';
    } catch {
      return 'unknown';
    }
  }

  init(repo) {
    return ['repo', 'init', '--repo', repo];
  }
  backup(repo, source) {
    return ['repo', 'backup', '--repo', repo, source];
  }
  restore(repo, target) {
    return ['repo', 'restore', 'latest', '--repo', repo, '--target', target];
  }
  check(repo) {
    return ['repo', 'check', '--repo', repo, '--read-data'];
  }
}

export class Restic extends Tool {
  constructor({ repoRoot, passwordFile, cacheDir, bin }) {
    super({
      name: 'restic',
      bin,
      shownBin: 'restic',
      // restic's local metadata cache is on by default for real users, so
      // it stays on; it is pointed into bench/.data so every run starts with
      // an empty one and ~/.cache is not polluted.
      env: cleanEnv({ RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: cacheDir }),
      shownEnv: { RESTIC_PASSWORD_FILE: rel(repoRoot, passwordFile), RESTIC_CACHE_DIR: rel(repoRoot, cacheDir) },
      repoRoot,
    });
    this.cacheDir = cacheDir;
  }

  checkAvailable() {}

  version() {
    try {
      return runQuiet(this.bin, ['version'], { env: this.env }).trim();
    } catch {
      return 'unknown';
    }
  }

  init(repo) {
    return ['-r', repo, 'init'];
  }
  backup(repo, source) {
    return ['-r', repo, 'backup', source];
  }
  restore(repo, target) {
    return ['-r', repo, 'restore', 'latest', '--target', target];
  }
  check(repo) {
    return ['-r', repo, 'check', '--read-data'];
  }
}
