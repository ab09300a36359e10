// Text generators: source code, application log, SQL dump.
//
// The goal is data that behaves like the real thing for a backup tool:
// similar compressibility (code ~3-5x, logs ~5-10x, SQL ~3-5x with zstd) and
// no long exact repeats (so content-defined chunking cannot dedupe the file
// against itself, which would flatter both tools). Every line carries some
// randomness (ids, timestamps, numbers) drawn from a seeded Rng.

import { enc, encAll } from './bytes.mjs';
import { Rng } from './prng.mjs';

// ---------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------

const WORDS = (
  'the a of to and in is for on with that this be by as are from at it not or have an will can ' +
  'if when then all any each more less new old first last next previous value values data item ' +
  'items user users account request response error errors failed retry timeout connection server ' +
  'client cache index snapshot backup restore chunk chunks block blocks file files path directory ' +
  'stream buffer size length offset count limit total pending active closed open missing invalid ' +
  'expected unexpected found created updated deleted loaded saved written read write sync lock ' +
  'unlock key keys hash pack packs tree node nodes parent child children queue worker job task ' +
  'schedule policy retention prune check verify repair encrypt decrypt compress payload header ' +
  'footer version format config option options default handler callback promise result state ' +
  'status event events message messages session token permission access denied allowed quota ' +
  'storage bucket object remote local host port address network latency throughput memory disk'
).split(' ');

const IDENT_PARTS = (
  'get set is has make build create update delete remove find load save read write open close ' +
  'parse format encode decode hash sign verify check validate resolve handle process run start ' +
  'stop init reset flush sync merge split join map filter reduce sort group apply emit send recv ' +
  'user account request response error result value item entry record node tree leaf root parent ' +
  'child chunk block blob pack index snapshot backup restore repo store cache queue worker job task ' +
  'config option context session token key id name path file dir size offset length count limit ' +
  'total max min buffer stream reader writer source target remote local host port client server ' +
  'handler listener callback promise timer state status event message header payload digest cipher ' +
  'nonce salt policy rule schedule lock manifest version format'
).split(' ');

const FIRST = (
  'james mary john patricia robert jennifer michael linda william elizabeth david barbara richard ' +
  'susan joseph jessica thomas sarah charles karen daniel nancy matthew lisa anthony betty mark ' +
  'margaret donald sandra steven ashley paul kimberly andrew emily joshua donna kenneth michelle ' +
  'kevin carol brian amanda george melissa timothy deborah ronald stephanie jason rebecca ahmed ' +
  'fatima wei yuki olga pierre sofia lars ingrid mateo lucia'
).split(' ');

const LAST = (
  'smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez ' +
  'gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris ' +
  'sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill ' +
  'flores green adams nelson baker hall rivera campbell mitchell carter roberts mueller schmidt ' +
  'rossi dubois kowalski tanaka chen novak'
).split(' ');

const CITIES = (
  'Berlin Paris Lyon Madrid Lisbon Rome Milan Vienna Prague Warsaw Oslo Stockholm Helsinki ' +
  'Dublin London Leeds Boston Austin Denver Seattle Portland Chicago Toronto Montreal Tokyo ' +
  'Osaka Seoul Sydney Melbourne Auckland Nairobi Lagos Cairo Mumbai Pune Singapore Jakarta'
).split(' ');

const STREETS = (
  'Main Oak Pine Maple Cedar Elm Lake Hill Park River Church Market Station Mill Bridge Castle ' +
  'Garden Forest Meadow Spring Union Victoria King Queen'
).split(' ');

const DOMAINS = encAll(['example.com', 'mail.test', 'corp.example', 'inbox.test', 'users.example.org']);
const COUNTRIES = encAll('DE FR ES PT IT AT CZ PL NO SE FI IE GB US CA JP KR AU NZ KE NG EG IN SG ID'.split(' '));

const W = encAll(WORDS);
const FIRST_B = encAll(FIRST);
const LAST_B = encAll(LAST);
const CITIES_B = encAll(CITIES);
const STREETS_B = encAll(STREETS);

const cap = (s) => s[0].toUpperCase() + s.slice(1);

/**
 * Identifier pools shared by all code files. Seeded so the whole tree uses a
 * consistent "project vocabulary" like a real codebase does.
 */
export function makeIdentPools(seed) {
  const rng = new Rng(seed);
  const ids = new Set();
  const types = new Set();
  while (ids.size < 4096) {
    const n = 1 + rng.below(3);
    let s = rng.pick(IDENT_PARTS);
    for (let i = 1; i < n; i++) s += cap(rng.pick(IDENT_PARTS));
    ids.add(s);
  }
  while (types.size < 1024) {
    const n = 1 + rng.below(2);
    let s = '';
    for (let i = 0; i < n + 1; i++) s += cap(rng.pick(IDENT_PARTS));
    types.add(s);
  }
  return { ids: encAll([...ids]), types: encAll([...types]), idStrings: [...ids] };
}

// ---------------------------------------------------------------------------
// Source code
// ---------------------------------------------------------------------------

const T = {
  importOpen: enc('import { '),
  importMid: enc(" } from '"),
  importClose: enc("';\n"),
  dotSlash: enc('./'),
  dotDot: enc('../'),
  comma: enc(', '),
  exportFn: enc('export async function '),
  exportClass: enc('export class '),
  exportConst: enc('export const '),
  docOpen: enc('/** '),
  docClose: enc(' */\n'),
  lineComment: enc('// '),
  colon: enc(': '),
  promise: enc('): Promise<'),
  openBrace: enc('> {\n'),
  braceOpen: enc(' {\n'),
  close: enc('}\n'),
  elseOpen: enc('} else {\n'),
  constKw: enc('const '),
  letKw: enc('let '),
  eq: enc(' = '),
  semi: enc(';\n'),
  ifOpen: enc('if ('),
  parenBrace: enc(') {\n'),
  forOpen: enc('for (const '),
  of: enc(' of '),
  ret: enc('return '),
  retNull: enc(' ?? null;\n'),
  thisDot: enc('this.'),
  throwErr: enc("throw new Error('"),
  quotePlus: enc("' + "),
  awaitThis: enc('await this.'),
  objOpen: enc(', { '),
  objClose: enc(' });\n'),
  push: enc('.push('),
  parenSemi: enc(');\n'),
  asyncMethod: enc('async '),
  hex: enc('0x'),
  ops: encAll([' === ', ' !== ', ' < ', ' > ', ' <= ', ' >= ']),
};

/**
 * Appends TypeScript-looking code to `w` until it holds at least
 * `targetBytes` bytes. `rng` drives everything, so the same seed yields the
 * same file.
 */
export function writeCode(w, rng, pools, targetBytes) {
  // A file uses a small local vocabulary, as real files do; this is what
  // gives code its typical compression ratio.
  const ids = [];
  const types = [];
  for (let i = 0; i < 24; i++) ids.push(rng.pick(pools.ids));
  for (let i = 0; i < 6; i++) types.push(rng.pick(pools.types));
  const id = () => ids[rng.below(ids.length)];
  const ty = () => types[rng.below(types.length)];
  const num = () => {
    const r = rng.below(10);
    if (r < 7) w.uint(rng.below(1000));
    else if (r < 9) w.uint(rng.below(100000));
    else {
      w.bytes(T.hex);
      w.hex(rng.u32(), 8);
    }
  };
  const words = (n) => {
    for (let i = 0; i < n; i++) {
      if (i) w.byte(32);
      w.bytes(W[rng.below(W.length)]);
    }
  };

  const nImports = w.pos === 0 ? rng.below(8) : 0;
  for (let i = 0; i < nImports; i++) {
    w.bytes(T.importOpen);
    w.bytes(ty());
    w.bytes(T.comma);
    w.bytes(id());
    w.bytes(T.importMid);
    w.bytes(rng.below(2) ? T.dotSlash : T.dotDot);
    w.bytes(id());
    w.byte(47);
    w.bytes(id());
    w.bytes(T.importClose);
  }
  if (nImports) w.byte(10);

  let depth = 0;
  while (w.pos < targetBytes || depth > 0) {
    // Once the target is reached, only close open blocks.
    if (w.pos >= targetBytes) {
      depth--;
      w.fill(32, depth * 2);
      w.bytes(T.close);
      continue;
    }
    const r = rng.below(100);
    if (depth === 0) {
      if (r < 40) {
        w.bytes(T.exportFn);
        w.bytes(id());
        w.byte(40);
        w.bytes(id());
        w.bytes(T.colon);
        w.bytes(ty());
        w.bytes(T.comma);
        w.bytes(id());
        w.bytes(T.colon);
        w.bytes(ty());
        w.bytes(T.promise);
        w.bytes(ty());
        w.bytes(T.openBrace);
        depth = 1;
      } else if (r < 55) {
        w.bytes(T.exportClass);
        w.bytes(ty());
        w.bytes(T.braceOpen);
        w.fill(32, 2);
        w.bytes(T.asyncMethod);
        w.bytes(id());
        w.byte(40);
        w.bytes(id());
        w.bytes(T.colon);
        w.bytes(ty());
        w.bytes(T.promise);
        w.bytes(ty());
        w.bytes(T.openBrace);
        depth = 2;
      } else if (r < 70) {
        w.bytes(T.exportConst);
        w.bytes(id());
        w.bytes(T.eq);
        num();
        w.bytes(T.semi);
      } else if (r < 90) {
        w.bytes(T.docOpen);
        words(3 + rng.below(12));
        w.bytes(T.docClose);
      } else {
        w.byte(10);
      }
      continue;
    }

    if (r < 9) {
      depth--;
      w.fill(32, depth * 2);
      w.bytes(rng.below(4) === 0 && depth > 0 ? T.elseOpen : T.close);
      if (w.buf[w.pos - 2] === 123) depth++; // "} else {" reopens
      continue;
    }
    w.fill(32, depth * 2);
    if (r < 27) {
      w.bytes(T.constKw);
      w.bytes(id());
      w.bytes(T.eq);
      w.bytes(id());
      w.byte(46);
      w.bytes(id());
      w.byte(40);
      w.bytes(id());
      w.bytes(T.comma);
      num();
      w.bytes(T.parenSemi);
    } else if (r < 37 && depth < 6) {
      w.bytes(T.ifOpen);
      w.bytes(id());
      w.bytes(T.ops[rng.below(T.ops.length)]);
      num();
      w.bytes(T.parenBrace);
      depth++;
    } else if (r < 45) {
      w.bytes(T.lineComment);
      words(3 + rng.below(10));
      w.byte(10);
    } else if (r < 52) {
      w.bytes(T.ret);
      w.bytes(id());
      w.bytes(T.retNull);
    } else if (r < 61) {
      w.bytes(T.thisDot);
      w.bytes(id());
      w.bytes(T.eq);
      w.bytes(id());
      w.bytes(T.semi);
    } else if (r < 66 && depth < 6) {
      w.bytes(T.forOpen);
      w.bytes(id());
      w.bytes(T.of);
      w.bytes(id());
      w.byte(46);
      w.bytes(id());
      w.bytes(T.parenBrace);
      depth++;
    } else if (r < 70) {
      w.bytes(T.throwErr);
      words(2 + rng.below(5));
      w.bytes(T.quotePlus);
      w.bytes(id());
      w.bytes(T.parenSemi);
    } else if (r < 80) {
      w.bytes(T.awaitThis);
      w.bytes(id());
      w.byte(46);
      w.bytes(id());
      w.byte(40);
      w.bytes(id());
      w.bytes(T.objOpen);
      w.bytes(id());
      w.bytes(T.comma);
      w.bytes(id());
      w.bytes(T.colon);
      num();
      w.bytes(T.objClose);
    } else if (r < 88) {
      w.bytes(T.letKw);
      w.bytes(id());
      w.bytes(T.colon);
      w.bytes(ty());
      w.bytes(T.eq);
      w.bytes(id());
      w.byte(91);
      w.bytes(id());
      w.byte(93);
      w.bytes(T.semi);
    } else if (r < 94) {
      w.bytes(id());
      w.bytes(T.push);
      w.bytes(id());
      w.bytes(T.parenSemi);
    } else {
      // blank line: drop the indentation just written
      w.pos -= depth * 2;
      w.byte(10);
    }
  }
}

// ---------------------------------------------------------------------------
// Application log
// ---------------------------------------------------------------------------

const L = {
  levels: { info: enc(' INFO  ['), debug: enc(' DEBUG ['), warn: enc(' WARN  ['), error: enc(' ERROR [') },
  threads: encAll(['main', 'scheduler', 'gc', 'io-0', 'io-1', ...Array.from({ length: 16 }, (_, i) => `worker-${i}`)]),
  loggers: {
    http: enc('] http.server: '),
    db: enc('] db.pool: '),
    cache: enc('] cache.redis: '),
    jobs: enc('] jobs.runner: '),
    auth: enc('] auth.session: '),
    slow: enc('] http.server: slow request '),
    err: enc('] app.errors: unhandled error in handler: Error: '),
  },
  methods: encAll(['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH']),
  resources: encAll(['accounts', 'users', 'orders', 'snapshots', 'repos', 'hosts', 'policies', 'jobs', 'files']),
  apiV: encAll([' /api/v1/', ' /api/v2/']),
  status: [200, 200, 200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 404, 409, 429, 500, 503],
  statusKw: enc(' status='),
  bytesKw: enc(' bytes='),
  durKw: enc(' dur_ms='),
  reqKw: enc(' req_id='),
  userKw: enc(' user_id='),
  uaKw: enc(' ua="'),
  uas: encAll([
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    'curl/8.5.0',
    'coffer-agent/0.9.3 (linux; amd64)',
    'Go-http-client/2.0',
    'python-requests/2.31.0',
  ]),
  query: enc('query table='),
  tables: encAll(['users', 'orders', 'events', 'products', 'sessions', 'snapshots', 'audit_log']),
  ops: encAll([' op=SELECT', ' op=SELECT', ' op=SELECT', ' op=INSERT', ' op=UPDATE', ' op=DELETE']),
  rows: enc(' rows='),
  conn: enc(' conn='),
  cacheHit: enc('cache hit key='),
  cacheMiss: enc('cache miss key='),
  ttl: enc(' ttl='),
  job: enc('job '),
  jobNames: encAll(['compact-index', 'prune-snapshots', 'verify-packs', 'send-reports', 'rotate-keys', 'sync-hosts']),
  jobId: enc(' id=J-'),
  jobState: encAll([' state=running', ' state=running', ' state=queued', ' state=done', ' state=retrying']),
  progress: enc(' progress='),
  items: enc('% items='),
  loginOk: enc('login ok user='),
  loginFail: enc('login failed user='),
  ip: enc(' ip='),
  authMethod: encAll([' method=password', ' method=totp', ' method=sso', ' method=api-key']),
  threshold: enc(' threshold_ms=1000'),
  path: enc('path='),
  at: enc('    at '),
  src: enc(' (src/'),
  ts: enc('.ts:'),
  closeParen: enc(')\n'),
};

/**
 * Appends log lines until w.size >= targetBytes. `clock` is a {ms} object so
 * callers can continue a timeline; lines are 80-250 bytes, with an
 * occasional multi-line stack trace.
 */
export function writeLog(w, rng, targetBytes, clock) {
  while (w.size < targetBytes) {
    clock.ms += rng.below(30);
    const sec = Math.floor(clock.ms / 1000);
    w.datetime(sec, 84 /* T */);
    w.byte(46);
    w.pad(clock.ms - sec * 1000, 3);
    w.byte(90); // Z
    const r = rng.below(100);
    const level = r < 88 ? (rng.below(8) ? L.levels.info : L.levels.debug) : r < 96 ? L.levels.warn : L.levels.error;
    w.bytes(level);
    w.bytes(L.threads[rng.below(L.threads.length)]);

    if (r < 55) {
      w.bytes(L.loggers.http);
      w.bytes(L.methods[rng.below(L.methods.length)]);
      logPath(w, rng);
      w.bytes(L.statusKw);
      w.uint(L.status[rng.below(L.status.length)]);
      w.bytes(L.bytesKw);
      w.uint(rng.below(64000));
      w.bytes(L.durKw);
      w.uint(rng.below(rng.below(8) ? 80 : 2000));
      w.bytes(L.reqKw);
      w.hex(rng.u32(), 8);
      w.hex(rng.u32(), 4);
      w.bytes(L.userKw);
      w.uint(10000 + rng.below(90000));
      w.bytes(L.uaKw);
      w.bytes(L.uas[rng.below(L.uas.length)]);
      w.byte(34);
    } else if (r < 70) {
      w.bytes(L.loggers.db);
      w.bytes(L.query);
      w.bytes(L.tables[rng.below(L.tables.length)]);
      w.bytes(L.ops[rng.below(L.ops.length)]);
      w.bytes(L.rows);
      w.uint(rng.below(rng.below(4) ? 20 : 5000));
      w.bytes(L.durKw);
      w.fixed(rng.below(50000), 3);
      w.bytes(L.conn);
      w.uint(rng.below(32));
    } else if (r < 80) {
      w.bytes(L.loggers.cache);
      w.bytes(rng.below(3) ? L.cacheHit : L.cacheMiss);
      w.bytes(L.tables[rng.below(L.tables.length)]);
      w.byte(58);
      w.uint(rng.below(100000));
      w.byte(58);
      w.bytes(W[rng.below(W.length)]);
      w.bytes(L.ttl);
      w.uint(60 * (1 + rng.below(60)));
    } else if (r < 85) {
      w.bytes(L.loggers.jobs);
      w.bytes(L.job);
      w.bytes(L.jobNames[rng.below(L.jobNames.length)]);
      w.bytes(L.jobId);
      w.pad(rng.below(1000000), 6);
      w.bytes(L.jobState[rng.below(L.jobState.length)]);
      w.bytes(L.progress);
      w.uint(rng.below(101));
      w.bytes(L.items);
      w.uint(rng.below(5000));
      w.byte(47);
      w.uint(5000 + rng.below(5000));
    } else if (r < 88) {
      w.bytes(L.loggers.auth);
      w.bytes(rng.below(6) ? L.loginOk : L.loginFail);
      w.bytes(FIRST_B[rng.below(FIRST_B.length)]);
      w.byte(46);
      w.bytes(LAST_B[rng.below(LAST_B.length)]);
      w.bytes(L.ip);
      ipv4(w, rng);
      w.bytes(L.authMethod[rng.below(L.authMethod.length)]);
    } else if (r < 96) {
      w.bytes(L.loggers.slow);
      w.bytes(L.path);
      logPath(w, rng);
      w.bytes(L.durKw);
      w.uint(1000 + rng.below(9000));
      w.bytes(L.threshold);
    } else {
      w.bytes(L.loggers.err);
      for (let i = 0, n = 3 + rng.below(6); i < n; i++) {
        if (i) w.byte(32);
        w.bytes(W[rng.below(W.length)]);
      }
      w.byte(10);
      for (let i = 0, n = 3 + rng.below(6); i < n; i++) {
        w.bytes(L.at);
        w.bytes(WORDS_ID[rng.below(WORDS_ID.length)]);
        w.bytes(L.src);
        w.bytes(L.resources[rng.below(L.resources.length)]);
        w.byte(47);
        w.bytes(WORDS_ID[rng.below(WORDS_ID.length)]);
        w.bytes(L.ts);
        w.uint(1 + rng.below(900));
        w.byte(58);
        w.uint(1 + rng.below(80));
        w.bytes(L.closeParen);
      }
      w.maybeFlush();
      continue;
    }
    w.byte(10);
    w.maybeFlush();
  }
}

const WORDS_ID = encAll(IDENT_PARTS);

function logPath(w, rng) {
  w.bytes(L.apiV[rng.below(4) ? 0 : 1]);
  w.bytes(L.resources[rng.below(L.resources.length)]);
  w.byte(47);
  w.uint(rng.below(100000));
  if (rng.below(2)) {
    w.byte(47);
    w.bytes(L.resources[rng.below(L.resources.length)]);
  }
}

function ipv4(w, rng) {
  const v = rng.u32();
  w.uint(10 + (v >>> 24) % 200);
  w.byte(46);
  w.uint((v >>> 16) & 255);
  w.byte(46);
  w.uint((v >>> 8) & 255);
  w.byte(46);
  w.uint(v & 255);
}

// ---------------------------------------------------------------------------
// SQL dump (pg_dump flavoured: --inserts tables and COPY tables)
// ---------------------------------------------------------------------------

const S = {
  header: enc(
    '--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.6\n-- Dumped by pg_dump version 15.6\n\n' +
      "SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET client_encoding = 'UTF8';\n" +
      'SET standard_conforming_strings = on;\nSET check_function_bodies = false;\n' +
      "SET default_tablespace = '';\nSET default_table_access_method = heap;\n\n",
  ),
  createUsers: enc(
    'CREATE TABLE public.users (\n    id bigint NOT NULL,\n    username character varying(64) NOT NULL,\n' +
      '    email character varying(255) NOT NULL,\n    full_name text,\n    created_at timestamp without time zone NOT NULL,\n' +
      '    last_login_at timestamp without time zone,\n    is_active boolean DEFAULT true NOT NULL,\n' +
      '    balance numeric(12,2) DEFAULT 0 NOT NULL,\n    country character(2)\n);\n\n',
  ),
  createProducts: enc(
    'CREATE TABLE public.products (\n    id bigint NOT NULL,\n    sku character varying(32) NOT NULL,\n' +
      '    name text NOT NULL,\n    description text,\n    price_cents integer NOT NULL,\n    stock integer NOT NULL,\n' +
      '    category character varying(64)\n);\n\n',
  ),
  createOrders: enc(
    'CREATE TABLE public.orders (\n    id bigint NOT NULL,\n    user_id bigint NOT NULL,\n' +
      '    status character varying(16) NOT NULL,\n    total_cents integer NOT NULL,\n    currency character(3) NOT NULL,\n' +
      '    created_at timestamp without time zone NOT NULL,\n    shipped_at timestamp without time zone,\n' +
      '    shipping_address text,\n    note text\n);\n\n',
  ),
  createEvents: enc(
    'CREATE TABLE public.events (\n    id bigint NOT NULL,\n    user_id bigint,\n    kind character varying(32) NOT NULL,\n' +
      '    payload jsonb,\n    created_at timestamp with time zone NOT NULL,\n    ip inet,\n    session_id uuid\n);\n\n',
  ),
  insUsers: enc('INSERT INTO public.users (id, username, email, full_name, created_at, last_login_at, is_active, balance, country) VALUES ('),
  insProducts: enc('INSERT INTO public.products (id, sku, name, description, price_cents, stock, category) VALUES ('),
  copyOrders: enc('\nCOPY public.orders (id, user_id, status, total_cents, currency, created_at, shipped_at, shipping_address, note) FROM stdin;\n'),
  copyEvents: enc('\nCOPY public.events (id, user_id, kind, payload, created_at, ip, session_id) FROM stdin;\n'),
  copyEnd: enc('\\.\n\n'),
  rowEnd: enc(');\n'),
  sep: enc(', '),
  q: enc("'"),
  qsep: enc("', '"),
  nul: enc('NULL'),
  copyNull: enc('\\N'),
  t: enc('true'),
  f: enc('false'),
  at: enc('@'),
  sku: enc("'SKU-"),
  statuses: encAll(['pending', 'paid', 'paid', 'shipped', 'shipped', 'delivered', 'delivered', 'cancelled', 'refunded']),
  currencies: encAll(['EUR', 'EUR', 'USD', 'USD', 'GBP', 'JPY', 'SEK']),
  categories: encAll(['books', 'electronics', 'garden', 'kitchen', 'toys', 'sports', 'office', 'outdoor', 'music']),
  kinds: encAll(['page_view', 'page_view', 'page_view', 'click', 'click', 'search', 'add_to_cart', 'checkout', 'login', 'logout']),
  jsonPage: enc('{"page": "/'),
  jsonRef: enc('", "ref": "'),
  jsonMs: enc('", "ms": '),
  jsonQ: enc(', "q": "'),
  jsonEnd: enc('"}'),
  jsonEnd2: enc('}'),
  refs: encAll(['direct', 'google', 'newsletter', 'twitter', 'partner', 'ads']),
  tz: enc('+00'),
  street: enc(' Street, '),
  footer: enc(
    'ALTER TABLE ONLY public.users\n    ADD CONSTRAINT users_pkey PRIMARY KEY (id);\n\n' +
      'ALTER TABLE ONLY public.products\n    ADD CONSTRAINT products_pkey PRIMARY KEY (id);\n\n' +
      'ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n\n' +
      'ALTER TABLE ONLY public.events\n    ADD CONSTRAINT events_pkey PRIMARY KEY (id);\n\n' +
      'CREATE INDEX orders_user_id_idx ON public.orders USING btree (user_id);\n' +
      'CREATE INDEX events_user_id_created_at_idx ON public.events USING btree (user_id, created_at);\n\n' +
      '--\n-- PostgreSQL database dump complete\n--\n\n',
  ),
};

const T0 = 1577836800; // 2020-01-01: all dump timestamps fall in 2020-2024
const SPAN = 5 * 365 * 86400;

function sqlWords(w, rng, n) {
  for (let i = 0; i < n; i++) {
    if (i) w.byte(32);
    w.bytes(W[rng.below(W.length)]);
  }
}

function userRow(w, rng, id) {
  const first = FIRST_B[rng.below(FIRST_B.length)];
  const last = LAST_B[rng.below(LAST_B.length)];
  const n = rng.below(1000);
  w.bytes(S.insUsers);
  w.uint(id);
  w.bytes(S.sep);
  w.byte(39);
  w.bytes(first);
  w.byte(95);
  w.bytes(last);
  w.uint(n);
  w.bytes(S.qsep);
  w.bytes(first);
  w.byte(46);
  w.bytes(last);
  w.uint(n);
  w.bytes(S.at);
  w.bytes(DOMAINS[rng.below(DOMAINS.length)]);
  w.bytes(S.qsep);
  w.byte(first[0] - 32); // capitalised initial
  w.bytes(first.subarray(1));
  w.byte(32);
  w.byte(last[0] - 32);
  w.bytes(last.subarray(1));
  w.bytes(S.qsep);
  const created = T0 + rng.below(SPAN);
  w.datetime(created, 32);
  w.byte(39);
  w.bytes(S.sep);
  if (rng.below(5)) {
    w.byte(39);
    w.datetime(created + rng.below(SPAN / 2), 32);
    w.byte(39);
  } else w.bytes(S.nul);
  w.bytes(S.sep);
  w.bytes(rng.below(10) ? S.t : S.f);
  w.bytes(S.sep);
  w.fixed(rng.below(rng.below(4) ? 10000 : 10000000), 2);
  w.bytes(S.sep);
  w.byte(39);
  w.bytes(COUNTRIES[rng.below(COUNTRIES.length)]);
  w.byte(39);
  w.bytes(S.rowEnd);
}

function productRow(w, rng, id) {
  w.bytes(S.insProducts);
  w.uint(id);
  w.bytes(S.sep);
  w.bytes(S.sku);
  w.hex(rng.u32(), 8);
  w.bytes(S.qsep);
  sqlWords(w, rng, 2 + rng.below(3));
  w.bytes(S.qsep);
  sqlWords(w, rng, 8 + rng.below(30));
  w.byte(39);
  w.bytes(S.sep);
  w.uint(99 + rng.below(50000));
  w.bytes(S.sep);
  w.uint(rng.below(2000));
  w.bytes(S.sep);
  w.byte(39);
  w.bytes(S.categories[rng.below(S.categories.length)]);
  w.byte(39);
  w.bytes(S.rowEnd);
}

function orderRow(w, rng, id, nUsers) {
  w.uint(id);
  w.byte(9);
  w.uint(1 + rng.below(nUsers));
  w.byte(9);
  const st = rng.below(S.statuses.length);
  w.bytes(S.statuses[st]);
  w.byte(9);
  w.uint(100 + rng.below(rng.below(5) ? 20000 : 500000));
  w.byte(9);
  w.bytes(S.currencies[rng.below(S.currencies.length)]);
  w.byte(9);
  const created = T0 + rng.below(SPAN);
  w.datetime(created, 32);
  w.byte(9);
  if (st >= 3 && st <= 6) w.datetime(created + 3600 + rng.below(7 * 86400), 32);
  else w.bytes(S.copyNull);
  w.byte(9);
  w.uint(1 + rng.below(300));
  w.byte(32);
  w.bytes(STREETS_B[rng.below(STREETS_B.length)]);
  w.bytes(S.street);
  w.pad(rng.below(100000), 5);
  w.byte(32);
  w.bytes(CITIES_B[rng.below(CITIES_B.length)]);
  w.byte(9);
  if (rng.below(4) === 0) sqlWords(w, rng, 3 + rng.below(12));
  else w.bytes(S.copyNull);
  w.byte(10);
}

function eventRow(w, rng, id, nUsers) {
  w.uint(id);
  w.byte(9);
  if (rng.below(10)) w.uint(1 + rng.below(nUsers));
  else w.bytes(S.copyNull);
  w.byte(9);
  const kind = rng.below(S.kinds.length);
  w.bytes(S.kinds[kind]);
  w.byte(9);
  w.bytes(S.jsonPage);
  w.bytes(L.resources[rng.below(L.resources.length)]);
  w.byte(47);
  w.uint(rng.below(100000));
  w.bytes(S.jsonRef);
  w.bytes(S.refs[rng.below(S.refs.length)]);
  w.bytes(S.jsonMs);
  w.uint(rng.below(5000));
  if (kind === 6) {
    w.bytes(S.jsonQ);
    sqlWords(w, rng, 1 + rng.below(4));
    w.bytes(S.jsonEnd);
  } else w.bytes(S.jsonEnd2);
  w.byte(9);
  w.datetime(T0 + rng.below(SPAN), 32);
  w.byte(46);
  w.pad(rng.below(1000000), 6);
  w.bytes(S.tz);
  w.byte(9);
  ipv4(w, rng);
  w.byte(9);
  w.hex(rng.u32(), 8);
  w.byte(45);
  w.hex(rng.u32(), 4);
  w.byte(45);
  w.byte(52);
  w.hex(rng.u32(), 3);
  w.byte(45);
  w.hex((rng.u32() & 0x3fff) | 0x8000, 4);
  w.byte(45);
  w.hex(rng.u32(), 8);
  w.hex(rng.u32(), 4);
  w.byte(10);
}

/** Writes a complete dump of about `targetBytes` bytes through a streaming writer. */
export function writeSqlDump(w, rng, targetBytes) {
  // Rough bytes per row, used only to size the id space of users.
  const nUsers = Math.max(100, Math.floor((targetBytes * 0.12) / 230));
  w.bytes(S.header);
  const tables = [
    { frac: 0.12, create: S.createUsers, open: null, row: (id) => userRow(w, rng, id) },
    { frac: 0.08, create: S.createProducts, open: null, row: (id) => productRow(w, rng, id) },
    { frac: 0.35, create: S.createOrders, open: S.copyOrders, row: (id) => orderRow(w, rng, id, nUsers) },
    { frac: 0.45, create: S.createEvents, open: S.copyEvents, row: (id) => eventRow(w, rng, id, nUsers) },
  ];
  let budget = 0;
  for (const t of tables) {
    budget += t.frac * targetBytes;
    w.bytes(t.create);
    if (t.open) w.bytes(t.open);
    for (let id = 1; w.size < budget; id++) {
      t.row(id);
      w.maybeFlush();
    }
    if (t.open) w.bytes(S.copyEnd);
    else w.byte(10);
    w.maybeFlush();
  }
  w.bytes(S.footer);
}

/** COPY rows of the events table, used to overwrite a region of an existing dump. */
export function writeSqlRows(w, rng, targetBytes, firstId) {
  for (let id = firstId; w.size < targetBytes; id++) eventRow(w, rng, id, 100000);
}
