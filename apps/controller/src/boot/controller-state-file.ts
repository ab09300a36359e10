import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** DATA_DIR/controller.json: how to reach the running controller (scripts, tests, the CLI on the same host). */
export const CONTROLLER_STATE_FILE = 'controller.json';

/** The contents of controller.json. */
export interface ControllerState {
  pid: number;
  httpUrl: string;
  /** The port agents dial (0 when no agent gateway runs). */
  grpcPort: number;
  startedAt: string;
}

/** Writes controller.json atomically, mode 600. */
export function writeControllerState(dataDir: string, state: ControllerState): void {
  const file = join(dataDir, CONTROLLER_STATE_FILE);
  const scratch = `${file}.${process.pid}.tmp`;
  writeFileSync(scratch, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(scratch, file);
}

/** Removes controller.json on a clean stop, so it never points at a controller that is gone. */
export function removeControllerState(dataDir: string): void {
  rmSync(join(dataDir, CONTROLLER_STATE_FILE), { force: true });
}
