import { Global, Module } from '@nestjs/common';
import { SecretBox } from './secret-box';

/** SecretBox (secrets sealed with the master key) for every module. */
@Global()
@Module({ providers: [SecretBox], exports: [SecretBox] })
export class SecretsModule {}
