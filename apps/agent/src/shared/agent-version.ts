import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

let cached: string | undefined;

/** The agent's version (semver), from apps/agent/package.json; read once. */
export function agentVersion(): string {
  if (cached === undefined) {
    try {
      // src/shared and dist/shared are both two levels below the package root.
      cached = String(JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8')).version);
    } catch {
      cached = '0.0.0-unknown';
    }
  }
  return cached;
}
