import { ConsoleLogger, LogLevel } from '@nestjs/common';
import type { LogLevelName } from '../config/app-config';

const NEST_LEVELS: Record<LogLevelName, LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  verbose: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** Nest's start-up chatter (every module and route), useful only when debugging. */
const CHATTY_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** The controller's log: Nest's console logger at COFFER_LOG_LEVEL, framework chatter at debug. */
export class ControllerLogger extends ConsoleLogger {
  constructor(level: LogLevelName) {
    super('Coffer', { logLevels: NEST_LEVELS[level], prefix: 'coffer-controller', colors: !!process.stdout.isTTY });
  }

  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && CHATTY_CONTEXTS.has(context)) super.debug(message, ...rest);
    else super.log(message, ...rest);
  }
}
