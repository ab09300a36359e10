import { Command } from 'commander';
import { registerAgentsCommands } from './commands/agents.command';
import { registerApplyCommand } from './commands/apply.command';
import { registerCancelCommand, registerJobsCommands, registerRunCommand } from './commands/jobs.command';
import { registerLoginCommands } from './commands/login.command';
import { registerPoliciesCommands } from './commands/policies.command';
import { registerReposCommands } from './commands/repos.command';
import { registerRestoreCommand } from './commands/restore.command';
import { registerSecretsCommands } from './commands/secrets.command';
import { registerVerifyCommand } from './commands/verify.command';
import { registerCatalogCommands, registerSnapshotsCommand } from './commands/snapshots.command';
import { registerTokensCommands } from './commands/tokens.command';

export { FLEET_ENVIRONMENT_HELP } from './fleet-options';

/**
 * The commands that drive the controller over its REST API, in the order an operator meets
 * them: log in, enroll agents, register repositories, apply policies, run, watch, restore.
 */
export function registerFleetCommands(program: Command): void {
  registerLoginCommands(program);
  registerTokensCommands(program);
  registerAgentsCommands(program);
  registerReposCommands(program);
  registerSecretsCommands(program);
  registerApplyCommand(program);
  registerPoliciesCommands(program);
  registerRunCommand(program);
  registerJobsCommands(program);
  registerCancelCommand(program);
  registerSnapshotsCommand(program);
  registerCatalogCommands(program);
  registerRestoreCommand(program);
  registerVerifyCommand(program);
}
