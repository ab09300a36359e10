import { Command, CommanderError } from 'commander';
import { AgentError, oneLine } from './shared/agent-error';
import { agentVersion } from './shared/agent-version';
import { ExitCode } from './shared/exit-codes';

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure, or the controller refused this agent (the message on stderr says why)
  2  the command line is wrong (unknown option, malformed join token…)`;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * The `coffer-agent` command tree. Each command's code is loaded only when it runs:
 * `run` must stay small in memory, and must not carry what `enroll` needs (x509, zod).
 */
export function buildProgram(print: (text: string) => void): Command {
  const program = new Command('coffer-agent')
    .description('Coffer agent: runs backups on this host for a Coffer controller')
    .version(agentVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (text, write) => write(`coffer-agent: ${oneLine(text.replace(/^error: /, ''))}\n`) })
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('enroll')
    .description("join a controller's fleet with a join token: make a key here, get a certificate, save the identity in the data dir")
    .requiredOption('--controller <host:port>', "the controller's agent port, e.g. controller.example.com:7443")
    .option('--token-file <file>', 'file holding the join token "coffer tokens create" printed (cj1.…); "-" reads stdin')
    .option('--token <token>', 'the join token itself (visible to other users in the process list: prefer --token-file or COFFER_JOIN_TOKEN)')
    .requiredOption('--data-dir <dir>', 'where the agent keeps its identity and job records (created, mode 700)')
    .option('--name <name>', "the agent's name in the fleet (default: this host's name)")
    .option('--labels <k=v,…>', 'labels to ask for, e.g. role=db,env=prod (the token\'s labels win)')
    .option('--force', 'replace an identity already in the data dir')
    .action(async (options) => {
      const { runEnroll } = await import('./enroll/enroll.command');
      print(await runEnroll(options));
    });

  program
    .command('run')
    .description('connect to the controller and run the jobs it sends, until stopped (SIGTERM/SIGINT)')
    .requiredOption('--data-dir <dir>', 'the data dir given to enroll')
    .option('--path <path>', 'also report free space for this path (repeatable)', collect)
    .action(async (options) => {
      const { runAgent } = await import('./run/run.command');
      process.exitCode = await runAgent(options);
    });

  program
    .command('status')
    .description("show the agent's identity, controller, labels and the results not yet delivered")
    .requiredOption('--data-dir <dir>', 'the data dir given to enroll')
    .option('--json', 'print one JSON document')
    .action(async (options) => {
      const { agentStatus } = await import('./status/status.command');
      print(agentStatus(options));
    });
  return program;
}

/** Runs a command line; returns the exit code. Every failure ends here as one line. */
export async function runProgram(program: Command, argv: string[], stderr: (text: string) => void): Promise<number> {
  process.exitCode = ExitCode.Success;
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? ExitCode.Success);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help / version asked for).
      return err.exitCode === 0 ? ExitCode.Success : ExitCode.Usage;
    }
    if (err instanceof AgentError) {
      stderr(`coffer-agent: ${oneLine(err.message)}\n`);
      return err.exitCode;
    }
    stderr(`coffer-agent: internal error: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    if (process.env.COFFER_DEBUG === '1' && err instanceof Error && err.stack) stderr(`${err.stack}\n`);
    return ExitCode.Failure;
  }
}
