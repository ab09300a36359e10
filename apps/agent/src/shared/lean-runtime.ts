import { setFlagsFromString } from 'node:v8';

/**
 * Runs this process on V8's interpreter only: no baseline (Sparkplug) or optimized
 * (TurboFan) machine code. The `run` process only relays small messages — heartbeats,
 * progress, results — and its busiest code is native (TLS, HTTP/2); compiled JavaScript
 * would buy nothing there and costs about 5 MiB of an idle agent's 60 MiB budget. The job
 * processes, which do the heavy work, are forked with fresh V8 defaults and keep the JIT.
 *
 * Must run at start, before any code got hot. COFFER_AGENT_JIT=1 keeps the JIT (to compare).
 */
export function useInterpreterOnly(env: NodeJS.ProcessEnv = process.env): void {
  if (env.COFFER_AGENT_JIT === '1') return;
  setFlagsFromString('--no-opt');
  setFlagsFromString('--no-sparkplug');
}
