import { Command } from 'commander';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { ApiError, ControllerClient } from './controller-client';
import { CredentialsStore, resolveConnection } from './credentials.store';

/** The option every command that talks to the controller takes. */
export interface ControllerOptions {
  controller?: string;
}

/** Options of a command that can print JSON. */
export interface JsonOptions {
  json?: boolean;
}

/** The environment the fleet commands read, as `coffer --help` documents it. */
export const FLEET_ENVIRONMENT_HELP = `
Controller (all commands but "coffer repo"):
  COFFER_CONTROLLER     controller URL, when --controller is not given (default: the one from coffer login)
  COFFER_TOKEN          API token to use instead of the session stored by coffer login (scripts, CI)
  COFFER_CONFIG_DIR     where coffer login keeps credentials.json (default: ~/.config/coffer)`;

/** Adds `--controller`. */
export function withControllerOption(command: Command): Command {
  return command.option('--controller <url>', 'controller URL (default: $COFFER_CONTROLLER, else the one from coffer login)');
}

/** Adds `--json`, saying what the document is. */
export function withJson(command: Command, what: string): Command {
  return command.option('--json', `print JSON on stdout instead of text: ${what}`);
}

/** A client for the controller the options, the environment and the stored session point to. */
export function connect(options: ControllerOptions, env: NodeJS.ProcessEnv = process.env): ControllerClient {
  return new ControllerClient(resolveConnection(options.controller, CredentialsStore.fromEnvironment(env), env));
}

/**
 * `action` for fleet commands. The one-line error of main.ts would fold the field problems of
 * a refused request into one line; here they are printed one per line under the message.
 */
export function fleetAction<A extends unknown[]>(run: (...args: A) => Promise<ExitCode>): (...args: A) => Promise<void> {
  return action(async (...args: A) => {
    try {
      return await run(...args);
    } catch (err) {
      if (!(err instanceof ApiError) || err.problems.length === 0) throw err;
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K'); // a progress line may still be drawn
      process.stderr.write(`coffer: ${err.message}\n${err.problems.map((p) => `  ${p.path}: ${p.reason}\n`).join('')}`);
      return ExitCode.Failure;
    }
  });
}
