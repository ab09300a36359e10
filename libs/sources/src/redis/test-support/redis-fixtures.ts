import { RespClient, RespError, RespReply } from './resp-client';

/*
 * Fills one logical database with keys of every type (some with TTLs) and reads a database
 * back into a comparable form, key by key.
 */

/** How many keys of each type fillRedisDb writes. */
export const KEYS_PER_TYPE = { string: 1500, hash: 500, list: 400, set: 400, zset: 400, stream: 150 } as const;

/** Empties `db` and fills it; every fifth key expires in an hour or more. */
export async function fillRedisDb(client: RespClient, db: number): Promise<number> {
  await client.command('SELECT', db);
  await client.command('FLUSHDB');
  const commands: (string | number | Buffer)[][] = [];
  const add = (key: string, index: number, ...writes: (string | number | Buffer)[][]) => {
    commands.push(...writes);
    if (index % 5 === 0) commands.push(['PEXPIRE', key, 3_600_000 + index * 1000]);
  };
  for (let i = 0; i < KEYS_PER_TYPE.string; i++) {
    const value = i % 3 === 0 ? Buffer.from([0, 255, i % 256, 13, 10, 0]) : i % 3 === 1 ? `zoë ✓ ${i}` : String(i * 7);
    add(`str:${i}`, i, ['SET', `str:${i}`, value]);
  }
  for (let i = 0; i < KEYS_PER_TYPE.hash; i++) {
    const fields = i === 0 ? 1000 : 8; // one big enough to be a real hash table, not a listpack
    const args: (string | number)[] = ['HSET', `hash:${i}`];
    for (let f = 0; f < fields; f++) args.push(`field${f}`, `value ${i}/${f}`);
    add(`hash:${i}`, i, args);
  }
  for (let i = 0; i < KEYS_PER_TYPE.list; i++) {
    const items = i === 0 ? 2000 : 12;
    add(`list:${i}`, i, ['RPUSH', `list:${i}`, ...Array.from({ length: items }, (_, n) => `item ${n} of ${i}`)]);
  }
  for (let i = 0; i < KEYS_PER_TYPE.set; i++) {
    const members = i % 2 === 0 ? Array.from({ length: 10 }, (_, n) => n * 1000 + i) : Array.from({ length: 10 }, (_, n) => `m${n}-${i}`);
    add(`set:${i}`, i, ['SADD', `set:${i}`, ...members]);
  }
  for (let i = 0; i < KEYS_PER_TYPE.zset; i++) {
    const args: (string | number)[] = ['ZADD', `zset:${i}`];
    for (let n = 0; n < (i === 0 ? 500 : 10); n++) args.push(n * 1.5 - 3, `player${n}`);
    add(`zset:${i}`, i, args);
  }
  for (let i = 0; i < KEYS_PER_TYPE.stream; i++) {
    const key = `stream:${i}`;
    const writes = Array.from({ length: 10 }, (_, n) => ['XADD', key, `${1_700_000_000_000 + n}-${i}`, 'sensor', `s${n}`, 'reading', n * 0.5]);
    if (i % 10 === 0) writes.push(['XGROUP', 'CREATE', key, 'workers', '0']);
    add(key, i, ...writes);
  }
  const replies = await client.pipeline(commands);
  const failed = replies.find((reply) => reply instanceof RespError);
  if (failed) throw failed;
  return Object.values(KEYS_PER_TYPE).reduce((sum, count) => sum + count, 0);
}

/** One key as read back: its type, its value in a comparable form, and its remaining TTL. */
export interface KeyImage {
  type: string;
  value: string;
  /** Milliseconds to live; -1 when the key does not expire. */
  pttl: number;
}

/** Every key of `db`, read with type-specific commands; binary values are hexed. */
export async function readRedisDb(client: RespClient, db: number): Promise<Map<string, KeyImage>> {
  await client.command('SELECT', db);
  const keys = (await client.command('KEYS', '*')) as Buffer[];
  const meta = await client.pipeline(keys.flatMap((key) => [['TYPE', key], ['PTTL', key]]));
  const types = keys.map((_, i) => meta[2 * i] as string);
  const reads = await client.pipeline(keys.flatMap((key, i) => readCommands(types[i], key)));
  const images = new Map<string, KeyImage>();
  let at = 0;
  keys.forEach((key, i) => {
    const count = readCommands(types[i], key).length;
    images.set(key.toString('utf8'), { type: types[i], value: JSON.stringify(reads.slice(at, at + count).map((reply) => normalise(types[i], reply))), pttl: meta[2 * i + 1] as number });
    at += count;
  });
  return images;
}

function readCommands(type: string, key: Buffer): (string | Buffer)[][] {
  switch (type) {
    case 'string':
      return [['GET', key]];
    case 'hash':
      return [['HGETALL', key]];
    case 'list':
      return [['LRANGE', key, '0', '-1']];
    case 'set':
      return [['SMEMBERS', key]];
    case 'zset':
      return [['ZRANGE', key, '0', '-1', 'WITHSCORES']];
    case 'stream':
      return [['XRANGE', key, '-', '+'], ['XINFO', 'GROUPS', key]];
    default:
      throw new Error(`unexpected type ${type}`);
  }
}

/** Order-free types sorted, so equal contents compare equal whatever order the server returns. */
function normalise(type: string, reply: RespReply): unknown {
  const plain = toPlain(reply);
  if (type === 'set') return (plain as string[]).sort();
  if (type === 'hash') {
    const flat = plain as string[];
    return Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }
  return plain;
}

function toPlain(reply: RespReply): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString('hex');
  if (Array.isArray(reply)) return reply.map(toPlain);
  if (reply instanceof RespError) return `error: ${reply.message}`;
  return reply;
}
