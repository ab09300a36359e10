import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiTokenEntity } from './api-token.entity';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { BearerAuthGuard } from './bearer-auth.guard';
import { UserEntity } from './user.entity';

/** Users, login and bearer tokens; installs the global guard that requires a token on every route not marked @Public(). */
@Module({
  imports: [TypeOrmModule.forFeature([UserEntity, ApiTokenEntity])],
  controllers: [AuthController],
  providers: [AuthService, { provide: APP_GUARD, useClass: BearerAuthGuard }],
  exports: [AuthService],
})
export class AuthModule {}
