import { ApiProperty } from '@nestjs/swagger';
import type { LoginRequest, LoginResponse, UserView } from '@coffer/contracts';
import { z } from 'zod';

/** Body of POST /auth/login. */
export const loginRequestSchema = z.strictObject({
  username: z.string().min(1, 'must not be empty').max(200),
  password: z.string().min(1, 'must not be empty').max(1000),
});

export class LoginRequestDto implements LoginRequest {
  @ApiProperty({ example: 'admin' })
  username!: string;

  @ApiProperty({ format: 'password' })
  password!: string;
}

export class UserViewDto implements UserView {
  @ApiProperty({ example: 'admin' })
  name!: string;

  @ApiProperty({ example: 'admin', description: '"admin" for now; operator and viewer roles come later' })
  role!: string;
}

export class LoginResponseDto implements LoginResponse {
  @ApiProperty({ description: 'Bearer token for later requests (Authorization: Bearer …); shown once, stored hashed', example: 'cft_…' })
  token!: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;

  @ApiProperty({ type: UserViewDto })
  user!: UserViewDto;
}
