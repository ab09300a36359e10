import { oneLine } from './shared/agent-error';
import { ExitCode } from './shared/exit-codes';
import { useInterpreterOnly } from './shared/lean-runtime';
import { buildProgram, runProgram } from './program';

/**
 * `coffer-agent`: build the command tree → run the command line → flush → exit with its code.
 * Nothing may escape as a stack trace.
 */
async function main(): Promise<void> {
  // The long-running agent is kept small (an idle-memory target); one-shot commands need not be.
  if (process.argv[2] === 'run') useInterpreterOnly();
  const fail = (err: unknown) => {
    process.stderr.write(`coffer-agent: internal error: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    if (process.env.COFFER_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(ExitCode.Failure);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  showWarningsOnOneLine();
  const code = await runProgram(
    buildProgram((text) => process.stdout.write(`${text}\n`)),
    process.argv,
    (text) => process.stderr.write(text),
  );
  await flush(process.stdout);
  await flush(process.stderr);
  // Exit explicitly: timers and sockets of a finished command must not keep it alive.
  process.exit(code);
}

/**
 * Node's own warnings, one line each. DEP0123 is left out: grpc-js puts the controller's IP
 * address in the TLS SNI field when it is addressed by IP, which Node flags on every
 * connection; it is harmless (the certificate is still checked against the IP).
 */
function showWarningsOnOneLine(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    if (warning.code === 'DEP0123') return;
    process.stderr.write(`coffer-agent: warning: ${oneLine(warning.message)}${warning.code ? ` (${warning.code})` : ''}\n`);
  });
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

void main();
