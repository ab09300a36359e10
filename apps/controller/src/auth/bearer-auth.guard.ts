import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiException } from '../shared/api-exception';
import { AuthService } from './auth.service';
import type { AuthenticatedRequest } from './authenticated-user';
import { IS_PUBLIC_ROUTE } from './public.decorator';

const LOGIN_HINT = 'log in with POST /api/v1/auth/login (or coffer login) and send "Authorization: Bearer <token>"';

/**
 * The global guard: every HTTP route needs a valid bearer token unless marked @Public().
 * Sets `request.user`. Other transports (the agents' gRPC) authenticate on their own.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { headers: Record<string, string | string[] | undefined> }>();
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.trim() === '') {
      throw unauthorized(`this request needs a bearer token: ${LOGIN_HINT}`);
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized(`the Authorization header must be "Bearer <token>": ${LOGIN_HINT}`);
    try {
      request.user = await this.auth.authenticate(match[1]);
    } catch (err) {
      if (err instanceof ApiException) err.withHeaders({ 'WWW-Authenticate': 'Bearer' });
      throw err;
    }
    return true;
  }
}

function unauthorized(message: string): ApiException {
  return new ApiException(401, 'unauthorized', message).withHeaders({ 'WWW-Authenticate': 'Bearer' });
}
