import { Logger } from '@nestjs/common';
import { formatJoinToken, parseJoinToken } from '@coffer/contracts';
import type { PkiService } from '../pki/pki.service';
import { FakeClock } from '../shared/clock';
import type { Sql } from '../shared/database';
import { EnrollmentError, TOKEN_UNKNOWN, TOKEN_USED } from './enrollment-errors';
import { hashSecret, JoinTokenService, refusalMessage } from './join-token.service';
import type { JoinTokenRecord, JoinTokenState, JoinTokenStore } from './join-token.store';

const FINGERPRINT = 'A'.repeat(43);

/** An in-memory store with the same consume semantics as the SQL one. */
class MemoryTokenStore {
  readonly rows = new Map<string, JoinTokenRecord & { secretHash: string }>();

  async insert(record: JoinTokenRecord, secretHash: string): Promise<void> {
    this.rows.set(record.id, { ...record, secretHash });
  }

  async list(): Promise<JoinTokenRecord[]> {
    return [...this.rows.values()];
  }

  async consume(_sql: Sql, id: string, secretHash: string, now: Date): Promise<Record<string, string> | undefined> {
    const row = this.rows.get(id);
    if (!row || row.secretHash !== secretHash || row.usesLeft <= 0 || row.expiresAt.getTime() <= now.getTime()) return undefined;
    row.usesLeft -= 1;
    return row.labels;
  }

  async state(_sql: Sql, id: string): Promise<JoinTokenState | undefined> {
    const row = this.rows.get(id);
    return row && { secretHash: row.secretHash, usesLeft: row.usesLeft, expiresAt: row.expiresAt };
  }
}

const sql: Sql = { rows: async () => [] };

function setup() {
  const clock = new FakeClock(new Date('2025-05-01T10:00:00Z'));
  const store = new MemoryTokenStore();
  const pki = { caFingerprint: () => FINGERPRINT } as unknown as PkiService;
  const service = new JoinTokenService(store as unknown as JoinTokenStore, pki, clock);
  return { clock, store, service };
}

async function refusal(promise: Promise<unknown>): Promise<EnrollmentError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EnrollmentError);
    return error as EnrollmentError;
  }
  throw new Error('expected a refusal');
}

beforeAll(() => Logger.overrideLogger(false));

describe('JoinTokenService', () => {
  it('creates a token that parses, carries the CA fingerprint and stores only a hash of the secret', async () => {
    const { service, store } = setup();
    const created = await service.create({ labels: { role: 'db' }, ttlSeconds: 3600, uses: 2 });
    const parts = parseJoinToken(created.token)!;
    expect(parts).toBeDefined();
    expect(parts.id).toBe(created.id);
    expect(parts.caFingerprint).toBe(FINGERPRINT);
    expect(created).toMatchObject({ usesAllowed: 2, usesLeft: 2, labels: { role: 'db' }, expiresAt: '2025-05-01T11:00:00.000Z' });
    const row = store.rows.get(created.id)!;
    expect(row.secretHash).toBe(hashSecret(parts.secret));
    expect(JSON.stringify(row)).not.toContain(parts.secret);
    expect(JSON.stringify(await service.list())).not.toContain(parts.secret);
  });

  it('lets a token be used as often as allowed, then refuses it as used', async () => {
    const { service } = setup();
    const created = await service.create({ labels: { team: 'a' }, ttlSeconds: 3600, uses: 2 });
    await expect(service.consume(sql, created.token)).resolves.toEqual({ tokenId: created.id, labels: { team: 'a' } });
    await expect(service.consume(sql, created.token)).resolves.toMatchObject({ tokenId: created.id });
    const error = await refusal(service.consume(sql, created.token));
    expect(error.refusal).toBe('unauthenticated');
    expect(error.message).toBe(TOKEN_USED);
  });

  it('refuses an expired token naming when it expired', async () => {
    const { service, clock } = setup();
    const created = await service.create({ labels: {}, ttlSeconds: 1, uses: 1 });
    clock.advance(1000);
    const error = await refusal(service.consume(sql, created.token));
    expect(error.message).toBe('join token expired at 2025-05-01T10:00:01.000Z');
  });

  it('refuses an unknown id and a wrong secret alike', async () => {
    const { service } = setup();
    const created = await service.create({ labels: {}, ttlSeconds: 60, uses: 1 });
    const parts = parseJoinToken(created.token)!;
    const unknownId = formatJoinToken({ ...parts, id: '0123456789abcdef' });
    const wrongSecret = formatJoinToken({ ...parts, secret: 'B'.repeat(43) });
    expect((await refusal(service.consume(sql, unknownId))).message).toBe(TOKEN_UNKNOWN);
    expect((await refusal(service.consume(sql, wrongSecret))).message).toBe(TOKEN_UNKNOWN);
    // Neither attempt used it up.
    await expect(service.consume(sql, created.token)).resolves.toMatchObject({ tokenId: created.id });
  });

  it('refuses a token of another controller CA as unknown', async () => {
    const { service } = setup();
    const created = await service.create({ labels: {}, ttlSeconds: 60, uses: 1 });
    const foreign = formatJoinToken({ ...parseJoinToken(created.token)!, caFingerprint: 'C'.repeat(43) });
    expect((await refusal(service.consume(sql, foreign))).message).toBe(TOKEN_UNKNOWN);
  });

  it('refuses text that is not a token, saying what a token looks like', async () => {
    const { service } = setup();
    for (const text of ['', 'hello', 'cj1.abc', `cj1.${'0'.repeat(16)}.${'a'.repeat(43)}`]) {
      const error = await refusal(service.consume(sql, text));
      expect(error.refusal).toBe('unauthenticated');
      expect(error.message).toMatch(/^join token is malformed/);
    }
  });
});

describe('refusalMessage', () => {
  const now = new Date('2025-05-01T10:00:00Z');
  const hash = hashSecret('secret');
  const later = new Date('2025-05-01T11:00:00Z');
  const earlier = new Date('2025-05-01T09:00:00Z');

  it.each([
    ['no such token', undefined, TOKEN_UNKNOWN],
    ['wrong secret', { secretHash: hashSecret('other'), usesLeft: 1, expiresAt: later }, TOKEN_UNKNOWN],
    ['used up', { secretHash: hash, usesLeft: 0, expiresAt: later }, TOKEN_USED],
    ['used up and expired: used wins', { secretHash: hash, usesLeft: 0, expiresAt: earlier }, TOKEN_USED],
    ['expired', { secretHash: hash, usesLeft: 1, expiresAt: earlier }, 'join token expired at 2025-05-01T09:00:00.000Z'],
    ['expiring exactly now', { secretHash: hash, usesLeft: 1, expiresAt: now }, 'join token expired at 2025-05-01T10:00:00.000Z'],
    ['taken by a concurrent enrollment', { secretHash: hash, usesLeft: 1, expiresAt: later }, TOKEN_USED],
  ] as [string, JoinTokenState | undefined, string][])('%s', (_name, state, expected) => {
    expect(refusalMessage(state, hash, now)).toBe(expected);
  });
});
