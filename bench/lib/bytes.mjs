// Byte-level text builder used by all text generators.
//
// Building JS strings and encoding them per line costs several hundred ns per
// line; at ~30M lines for the full dataset that alone would blow the "well
// under a minute" budget. Instead every literal is pre-encoded once (`enc`)
// and lines are assembled by copying bytes straight into a reusable Buffer.

import fs from 'node:fs';

/** Pre-encodes an ASCII string into bytes. */
export const enc = (s) => Buffer.from(s, 'latin1');

/** Pre-encodes a list of strings. */
export const encAll = (list) => list.map(enc);

const DIGITS = enc('0123456789');
const HEX = enc('0123456789abcdef');

export class ByteWriter {
  /**
   * @param {number} capacity  buffer size in bytes
   * @param {number} [fd]      when set, `line()` flushes to this fd once the
   *                           buffer is nearly full (streaming mode)
   */
  constructor(capacity, fd = -1) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.pos = 0;
    this.fd = fd;
    this.written = 0; // bytes already flushed to fd
    // Flush threshold leaves room for one maximal line (stack traces, long
    // INSERT rows) so generators never have to bounds-check mid-line.
    this.flushAt = capacity - 64 * 1024;
  }

  /** Total bytes produced so far (flushed + buffered). */
  get size() {
    return this.written + this.pos;
  }

  bytes(src) {
    const n = src.length;
    const b = this.buf;
    const p = this.pos;
    // A manual loop beats TypedArray.set for the short tokens that dominate.
    if (n < 32) for (let i = 0; i < n; i++) b[p + i] = src[i];
    else b.set(src, p);
    this.pos = p + n;
  }

  byte(c) {
    this.buf[this.pos++] = c;
  }

  /** Repeats byte c n times (indentation). */
  fill(c, n) {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = c;
    this.pos = p;
  }

  /** Non-negative integer in decimal. */
  uint(n) {
    if (n < 10) {
      this.buf[this.pos++] = DIGITS[n];
      return;
    }
    let len = 0;
    for (let t = n; t > 0; t = Math.floor(t / 10)) len++;
    const b = this.buf;
    let p = this.pos + len;
    this.pos = p;
    while (n > 0) {
      const q = Math.floor(n / 10);
      b[--p] = DIGITS[n - q * 10];
      n = q;
    }
  }

  /** Integer zero-padded to `width` digits. */
  pad(n, width) {
    const b = this.buf;
    let p = this.pos + width;
    this.pos = p;
    for (let i = 0; i < width; i++) {
      const q = Math.floor(n / 10);
      b[--p] = DIGITS[n - q * 10];
      n = q;
    }
  }

  /** Low `digits` nibbles of a uint32 as lowercase hex. */
  hex(v, digits) {
    const b = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    for (let i = 0; i < digits; i++) {
      b[--p] = HEX[v & 15];
      v >>>= 4;
    }
  }

  /** Fixed-point decimal, e.g. fixed(12345, 2) -> "123.45". */
  fixed(n, decimals) {
    let scale = 1;
    for (let i = 0; i < decimals; i++) scale *= 10;
    const whole = Math.floor(n / scale);
    this.uint(whole);
    this.byte(46); // '.'
    this.pad(n - whole * scale, decimals);
  }

  /**
   * "YYYY-MM-DD<sep>HH:MM:SS" from Unix seconds. Hand-rolled (Hinnant's
   * civil-from-days) because `new Date().toISOString()` per line was the
   * single most expensive call in the log/SQL generators.
   */
  datetime(epochSec, sep) {
    const days = Math.floor(epochSec / 86400);
    let secs = epochSec - days * 86400;
    const z = days + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp < 10 ? mp + 3 : mp - 9;
    const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    const hh = Math.floor(secs / 3600);
    secs -= hh * 3600;
    const mm = Math.floor(secs / 60);
    this.pad(y, 4);
    this.byte(45);
    this.pad(m, 2);
    this.byte(45);
    this.pad(d, 2);
    this.byte(sep);
    this.pad(hh, 2);
    this.byte(58);
    this.pad(mm, 2);
    this.byte(58);
    this.pad(secs - mm * 60, 2);
  }

  /** Streaming mode: writes the buffer out if it is nearly full. */
  maybeFlush() {
    if (this.pos >= this.flushAt) this.flush();
  }

  flush() {
    if (this.fd < 0 || this.pos === 0) return;
    let off = 0;
    while (off < this.pos) off += fs.writeSync(this.fd, this.buf, off, this.pos - off);
    this.written += this.pos;
    this.pos = 0;
  }

  /** Current buffered content (non-streaming mode). */
  view() {
    return this.buf.subarray(0, this.pos);
  }

  reset() {
    this.pos = 0;
    this.written = 0;
  }
}
