import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { LoginResponse, UserView } from '@coffer/contracts';
import { parseRequestBody } from '../http/request-body';
import { LoginRequestDto, loginRequestSchema, LoginResponseDto, UserViewDto } from './auth.dto';
import { AuthService } from './auth.service';
import { AuthenticatedUser, CurrentUser } from './authenticated-user';
import { Public } from './public.decorator';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in: exchange a user name and password for a bearer token (valid 30 days)' })
  @ApiBody({ type: LoginRequestDto })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiUnauthorizedResponse({ description: 'invalid_credentials' })
  @ApiTooManyRequestsResponse({ description: 'too_many_attempts, with Retry-After' })
  login(@Body() body: unknown, @Ip() clientAddress: string): Promise<LoginResponse> {
    const { username, password } = parseRequestBody(loginRequestSchema, body);
    return this.auth.login(username, password, clientAddress ?? 'unknown');
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The user the bearer token belongs to' })
  @ApiOkResponse({ type: UserViewDto })
  me(@CurrentUser() user: AuthenticatedUser): UserView {
    return { name: user.name, role: user.role };
  }
}
