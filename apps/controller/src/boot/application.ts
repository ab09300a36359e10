import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { INestApplication, LoggerService } from '@nestjs/common';
import { ModuleRef, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../app.module';
import { AuthService } from '../auth/auth.service';
import type { AppConfig } from '../config/app-config';
import type { DatabaseConnection } from '../database/database-connection';
import { AgentGatewayServer } from '../fleet/gateway/agent-gateway.server';
import { configureHttp } from '../http/configure-http';
import { RepositoriesService } from '../repositories/repositories.service';
import { StartupError } from './startup-error';

/** The Nest application on `database`; TypeORM runs the migrations while it is created. */
export async function createApp(config: AppConfig, database: DatabaseConnection, logger: LoggerService): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, database), { logger, bodyParser: false, abortOnError: false });
  configureHttp(app, packageVersion());
  return app;
}

/** Refuses to run with a master key that does not open the secrets already stored. */
export async function checkMasterKey(app: INestApplication): Promise<void> {
  const problem = await app.get(RepositoriesService).masterKeyProblem();
  if (problem) throw new StartupError(problem);
}

/** Creates the first user on a fresh database; a generated password is shown exactly once, on stdout. */
export async function ensureInitialAdmin(app: INestApplication, config: AppConfig): Promise<void> {
  const admin = await app.get(AuthService).ensureInitialAdmin(config.adminPassword);
  if (admin?.generatedPassword) process.stdout.write(`Initial admin password (shown once): ${admin.generatedPassword}\n`);
}

/** Listens on the HTTP address; returns the URL a local client reaches the API on. */
export async function listen(app: INestApplication, config: AppConfig): Promise<string> {
  try {
    await app.listen(config.httpPort, config.httpHost);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new StartupError(`cannot listen on ${config.httpHost}:${config.httpPort}: ${why}`);
  }
  const { port } = app.getHttpServer().address() as { port: number };
  return `http://${connectableHost(config.httpHost)}:${port}`;
}

/** The port the agents' gRPC server is bound to; 0 when the fleet side runs none. */
export function agentGatewayPort(app: INestApplication, logger: LoggerService): number {
  try {
    // Through ModuleRef: the application object itself logs a lookup miss as an error.
    return app.get(ModuleRef).get(AgentGatewayServer, { strict: false }).boundPort;
  } catch {
    logger.warn('no agent gateway is running: agents cannot connect');
    return 0;
  }
}

/** The line that tells the operator (and scripts) that the controller is up. */
export function announceReady(httpUrl: string, config: AppConfig, grpcPort: number): void {
  const grpcHost = config.grpcHost === '0.0.0.0' || config.grpcHost === '::' ? hostname() : bracketed(config.grpcHost);
  process.stdout.write(`Coffer controller ready: ${httpUrl} (API /api/v1, docs /api/docs); agents connect to ${grpcHost}:${grpcPort}\n`);
}

/** A wildcard listen address is reached on loopback. */
function connectableHost(host: string): string {
  return bracketed(host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host);
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
