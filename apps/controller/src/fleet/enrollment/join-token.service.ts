import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { CreatedJoinToken, formatJoinToken, JoinTokenView, parseJoinToken } from '@coffer/contracts';
import { PkiService } from '../pki/pki.service';
import { Clock } from '../shared/clock';
import type { Sql } from '../shared/database';
import { EnrollmentError, TOKEN_UNKNOWN, TOKEN_USED, tokenExpiredMessage } from './enrollment-errors';
import { JoinTokenRecord, JoinTokenState, JoinTokenStore } from './join-token.store';

/** A validated request for a new join token. */
export interface NewJoinToken {
  labels: Record<string, string>;
  ttlSeconds: number;
  uses: number;
}

/** What a consumed token grants. */
export interface ConsumedJoinToken {
  tokenId: string;
  labels: Record<string, string>;
}

/**
 * Join tokens: short-lived, few-use secrets an agent trades for an identity. Only the
 * SHA-256 of the secret is stored; the printed token is shown once, at creation.
 */
@Injectable()
export class JoinTokenService {
  private readonly logger = new Logger(JoinTokenService.name);

  constructor(
    private readonly store: JoinTokenStore,
    private readonly pki: PkiService,
    private readonly clock: Clock,
  ) {}

  async create(request: NewJoinToken): Promise<CreatedJoinToken> {
    const now = this.clock.now();
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record: JoinTokenRecord = {
      id,
      labels: request.labels,
      usesAllowed: request.uses,
      usesLeft: request.uses,
      expiresAt: new Date(now.getTime() + request.ttlSeconds * 1000),
      createdAt: now,
    };
    await this.store.insert(record, hashSecret(secret));
    this.logger.log(`join token ${id} created (${request.uses} use(s), expires ${record.expiresAt.toISOString()})`);
    return { ...toView(record), token: formatJoinToken({ id, secret, caFingerprint: this.pki.caFingerprint() }) };
  }

  async list(): Promise<JoinTokenView[]> {
    return (await this.store.list()).map(toView);
  }

  /**
   * Takes one use of `tokenText` inside the caller's transaction (so a refused enrollment
   * gives the use back by rolling back). Throws EnrollmentError naming why it is refused.
   */
  async consume(sql: Sql, tokenText: string): Promise<ConsumedJoinToken> {
    const parts = parseJoinToken(typeof tokenText === 'string' ? tokenText : '');
    if (!parts) {
      throw new EnrollmentError(
        'unauthenticated',
        'join token is malformed: expected "cj1.<id>.<secret>.<fingerprint>" exactly as `coffer tokens create` printed it',
      );
    }
    if (parts.caFingerprint !== this.pki.caFingerprint()) {
      // The agent checked the fingerprint against our chain already; a mismatch means a token
      // of another controller (or an edited one): to us it does not exist.
      throw new EnrollmentError('unauthenticated', TOKEN_UNKNOWN);
    }
    const secretHash = hashSecret(parts.secret);
    const now = this.clock.now();
    const labels = await this.store.consume(sql, parts.id, secretHash, now);
    if (labels) return { tokenId: parts.id, labels };
    throw new EnrollmentError('unauthenticated', refusalMessage(await this.store.state(sql, parts.id), secretHash, now));
  }
}

/**
 * Why a token that `consume` could not take is refused. Used up beats expired: for a
 * single-use token that was used and has since expired, "already used" is the news.
 */
export function refusalMessage(state: JoinTokenState | undefined, secretHash: string, now: Date): string {
  if (!state || !sameHash(state.secretHash, secretHash)) return TOKEN_UNKNOWN;
  if (state.usesLeft <= 0) return TOKEN_USED;
  if (state.expiresAt.getTime() <= now.getTime()) return tokenExpiredMessage(state.expiresAt);
  // Taken by a concurrent enrollment between our UPDATE and SELECT: as good as used.
  return TOKEN_USED;
}

/** SHA-256 hex of a token secret (the secret has 256 bits of entropy; no salt is needed). */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function toView(record: JoinTokenRecord): JoinTokenView {
  return {
    id: record.id,
    labels: record.labels,
    expiresAt: record.expiresAt.toISOString(),
    usesAllowed: record.usesAllowed,
    usesLeft: record.usesLeft,
    createdAt: record.createdAt.toISOString(),
  };
}
