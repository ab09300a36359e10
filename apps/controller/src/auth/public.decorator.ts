import { SetMetadata } from '@nestjs/common';

/** Metadata key read by the global bearer-token guard. */
export const IS_PUBLIC_ROUTE = 'coffer:public-route';

/**
 * Marks a controller or route as reachable without a bearer token (health checks, login).
 * Every other HTTP route needs `Authorization: Bearer <token>`.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_ROUTE, true);
