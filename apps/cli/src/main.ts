import { reportFailure } from './shared/cli-error';
import { ExitCode } from './shared/exit-codes';
import { buildProgram, runProgram } from './program';

/**
 * `coffer`: build the command tree → run the command line → flush output → exit with its code.
 * Nothing may escape as a stack trace: stray failures are reported like any other.
 */
async function main(): Promise<void> {
  guardAgainstStrayFailures();
  const code = await runProgram(buildProgram(), process.argv);
  await flush(process.stdout);
  await flush(process.stderr);
  // Exit explicitly: a worker or timer a library forgot to release must not keep the CLI alive.
  process.exit(code);
}

function guardAgainstStrayFailures(): void {
  const fail = (err: unknown) => {
    reportFailure(err);
    process.exit(ExitCode.Failure);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  // The reader went away (`coffer repo ls … | head`): stop quietly, as other Unix tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(Number(process.exitCode ?? ExitCode.Success));
    fail(err);
  });
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

void main();
