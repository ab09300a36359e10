import { createHash, randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { LoginResponse, UserView } from '@coffer/contracts';
import * as bcrypt from 'bcrypt';
import { Repository } from 'typeorm';
import { ApiException } from '../shared/api-exception';
import { ApiTokenEntity } from './api-token.entity';
import type { AuthenticatedUser } from './authenticated-user';
import { LoginThrottle } from './login-throttle';
import { UserEntity } from './user.entity';

const BCRYPT_ROUNDS = 12;
const TOKEN_PREFIX = 'cft_';
const TOKEN_LIFETIME_MS = 30 * 24 * 3600_000;
/** last_used_at is written at most this often per token, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;
const INITIAL_ADMIN = 'admin';
const GENERATED_PASSWORD_LENGTH = 24;
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** The first user, when this start created it. */
export interface InitialAdmin {
  name: string;
  /** Set when the password was generated (it must be shown to the operator once). */
  generatedPassword: string | null;
}

/** People: the first admin, logins (with throttling) and bearer tokens. */
@Injectable()
export class AuthService {
  private readonly logger = new Logger('Auth');
  private readonly throttle = new LoginThrottle();
  private dummyHash?: Promise<string>;

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>,
  ) {}

  /**
   * Creates the user "admin" when there are no users yet, with `password` or a generated
   * one. Returns null when users exist (or another replica created the admin first).
   */
  async ensureInitialAdmin(password: string | null): Promise<InitialAdmin | null> {
    if ((await this.users.count()) > 0) return null;
    const chosen = password ?? generatePassword();
    const result = await this.users
      .createQueryBuilder()
      .insert()
      .values({ name: INITIAL_ADMIN, passwordHash: await bcrypt.hash(chosen, BCRYPT_ROUNDS), role: 'admin' })
      .orIgnore()
      .returning(['id'])
      .execute();
    if ((result.raw as unknown[]).length === 0) return null;
    this.logger.log(`created the user "${INITIAL_ADMIN}"${password === null ? ' with a generated password' : ' with the password from COFFER_ADMIN_PASSWORD'}`);
    return { name: INITIAL_ADMIN, generatedPassword: password === null ? chosen : null };
  }

  /**
   * Checks a user name and password and issues a bearer token. Failures are slowed down
   * per user name and per client address; locked-out attempts get 429 with Retry-After.
   */
  async login(username: string, password: string, clientAddress: string): Promise<LoginResponse> {
    const keys = [`user:${username.toLowerCase()}`, `address:${clientAddress}`];
    const retryAfter = this.throttle.retryAfterSeconds(keys);
    if (retryAfter > 0) {
      throw new ApiException(429, 'too_many_attempts', `too many failed logins: try again in ${retryAfter} s`).withHeaders({ 'Retry-After': String(retryAfter) });
    }
    const user = await this.users.findOne({ where: { name: username } });
    // Unknown users cost a bcrypt comparison too, so timing does not reveal which names exist.
    const matches = await bcrypt.compare(password, user?.passwordHash ?? (await this.hashForUnknownUsers()));
    if (!user || !matches) {
      await sleep(this.throttle.recordFailure(keys));
      // An unknown name is not logged: it is often a password typed into the wrong field.
      this.logger.warn(`failed login ${user ? `for "${user.name}"` : 'for an unknown user'} from ${clientAddress}`);
      throw new ApiException(401, 'invalid_credentials', 'wrong user name or password');
    }
    this.throttle.recordSuccess(keys);
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(Date.now() + TOKEN_LIFETIME_MS);
    await this.tokens.insert({ userId: user.id, tokenHash: hashToken(token), expiresAt, lastUsedAt: null });
    this.logger.log(`"${user.name}" logged in from ${clientAddress}`);
    return { token, expiresAt: expiresAt.toISOString(), user: toUserView(user) };
  }

  /** The user a bearer token belongs to; 401 unauthorized (saying what to do) when it does not open. */
  async authenticate(token: string): Promise<AuthenticatedUser> {
    const found = token.startsWith(TOKEN_PREFIX) ? await this.tokens.findOne({ where: { tokenHash: hashToken(token) }, relations: { user: true } }) : null;
    if (!found || !found.user) {
      throw new ApiException(401, 'unauthorized', 'the bearer token is not valid: log in again (POST /api/v1/auth/login, or coffer login)');
    }
    const now = Date.now();
    if (found.expiresAt.getTime() <= now) {
      throw new ApiException(401, 'unauthorized', `the bearer token expired at ${found.expiresAt.toISOString()}: log in again (POST /api/v1/auth/login, or coffer login)`);
    }
    if (!found.lastUsedAt || now - found.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.tokens.update({ id: found.id }, { lastUsedAt: new Date(now) });
    }
    return { id: found.user.id, name: found.user.name, role: found.user.role, tokenId: found.id };
  }

  private hashForUnknownUsers(): Promise<string> {
    this.dummyHash ??= bcrypt.hash(randomBytes(16).toString('hex'), BCRYPT_ROUNDS);
    return this.dummyHash;
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function toUserView(user: UserEntity): UserView {
  return { name: user.name, role: user.role };
}

/** 24 characters from an alphabet without look-alikes (0/O, 1/l/I). */
function generatePassword(): string {
  let password = '';
  for (let i = 0; i < GENERATED_PASSWORD_LENGTH; i++) password += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return password;
}
