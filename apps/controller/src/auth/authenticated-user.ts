import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/**
 * Who made a request, put on `request.user` by the bearer-token guard. `role` is the seam
 * for role checks (admin, operator, viewer) and `tokenId` for the audit log.
 */
export interface AuthenticatedUser {
  id: string;
  name: string;
  role: string;
  tokenId: string;
}

/** A request once the guard has let it through. */
export interface AuthenticatedRequest {
  user?: AuthenticatedUser;
}

/** Injects the authenticated user into a route handler: `me(@CurrentUser() user: AuthenticatedUser)`. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser | undefined => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().user;
});
