import { Command } from 'commander';
import { CliError } from '../../shared/cli-error';
import { ExitCode } from '../../shared/exit-codes';
import { collect } from '../../shared/option-parsers';
import { Terminal } from '../../shared/terminal';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';
import { describeJob } from '../fleet-format';
import { requireSuccess, waitForJobs } from '../job-wait';

interface RestoreOptions extends ControllerOptions, JsonOptions {
  agent?: string;
  target?: string;
  include?: string[];
  wait?: boolean;
}

/** `coffer restore SNAPSHOT --agent A --target DIR`: a restore job, run by an agent on its host. */
export function registerRestoreCommand(program: Command): void {
  const restore = program
    .command('restore')
    .description("restore a catalog snapshot on an agent's host (coffer repo restore restores here, from a repository)")
    .argument('<snapshot>', 'snapshot id, or a unique prefix of one, as coffer snapshots shows it')
    .requiredOption('--agent <name>', 'the agent that restores, onto its own host')
    .requiredOption('--target <dir>', 'absolute directory on that host to restore into')
    .option('--include <pattern>', 'restore only paths matching this glob (repeatable)', collect)
    .option('--wait', 'wait for the restore to end, showing progress; exit 0 only if it succeeded');
  withJson(withControllerOption(restore), 'the restore job (JobView); with --wait, its final detail (JobDetailView)').action(
    fleetAction(async (snapshot: string, options: RestoreOptions) => {
      const out = new Terminal(!!options.json);
      const target = options.target!;
      if (!target.startsWith('/')) throw new CliError(`--target must be an absolute directory on the host of agent "${options.agent}", such as /srv/restore`);
      const client = connect(options);
      const job = await client.startRestore({ snapshot, agent: options.agent!, target, include: options.include });
      out.print(`started ${describeJob(job)}: snapshot ${snapshot} into ${target}`);
      if (!options.wait) {
        if (out.json) out.printJson(job);
        return ExitCode.Success;
      }
      const [final] = await waitForJobs(client, [job], out);
      if (out.json) out.printJson(final);
      requireSuccess([final]);
      return ExitCode.Success;
    }),
  );
}
