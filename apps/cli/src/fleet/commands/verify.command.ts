import { Command } from 'commander';
import { ExitCode } from '../../shared/exit-codes';
import { Terminal } from '../../shared/terminal';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';
import { describeJob } from '../fleet-format';
import { requireSuccess, waitForJobs } from '../job-wait';

interface VerifyOptions extends ControllerOptions, JsonOptions {
  agent?: string;
  repo?: string;
  wait?: boolean;
}

/** `coffer verify SNAPSHOT [--agent A]`: a verify job — a database snapshot checked by its engine's tools on an agent. */
export function registerVerifyCommand(program: Command): void {
  const verify = program
    .command('verify')
    .description("check a database snapshot with its engine's tools (pg_restore --list, …) on an agent, without restoring it")
    .argument('<snapshot>', 'snapshot id, or a unique prefix of one, as coffer snapshots shows it')
    .option('--agent <name>', 'the agent that verifies (default: the one that took the snapshot, if it is online)')
    .option('--repo <name>', 'look for the snapshot in this repository only')
    .option('--wait', "wait for the verification to end and print what it found; exit 0 only if it succeeded")
    .addHelpText('after', '\nFiles snapshots are verified with `coffer check --read-data`; this is for database backups.');
  withJson(withControllerOption(verify), 'the verify job (JobView); with --wait, its final detail (JobDetailView) with the findings in `log`').action(
    fleetAction(async (snapshot: string, options: VerifyOptions) => {
      const out = new Terminal(!!options.json);
      const client = connect(options);
      const job = await client.startVerify({
        snapshot,
        ...(options.agent !== undefined ? { agent: options.agent } : {}),
        ...(options.repo !== undefined ? { repository: options.repo } : {}),
      });
      out.print(`started ${describeJob(job)}: snapshot ${snapshot} on agent ${job.agent}`);
      if (!options.wait) {
        if (out.json) out.printJson(job);
        return ExitCode.Success;
      }
      const [final] = await waitForJobs(client, [job], out);
      if (out.json) out.printJson(final);
      else for (const line of final.log) out.print(`  ${line}`);
      requireSuccess([final]);
      return ExitCode.Success;
    }),
  );
}
