import { connect, Socket } from 'node:net';

/*
 * A minimal RESP2 client for tests: pipelined commands, binary-safe replies. Enough to fill a
 * Redis with every data type and read it back, without an npm dependency.
 */

/** A reply: status and integer replies as string/number, bulk strings as Buffer. */
export type RespReply = string | number | Buffer | null | RespReply[] | RespError;

/** An error reply ("-WRONGTYPE …"), returned in place by pipeline(), thrown by command(). */
export class RespError extends Error {}

type Arg = string | number | Buffer;

export class RespClient {
  private buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (reply: RespReply) => void; reject: (err: Error) => void }[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (err: Error) => this.waiting.splice(0).forEach((waiter) => waiter.reject(err));
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RespClient(socket)));
      socket.once('error', reject);
    });
  }

  /** One command; an error reply rejects. */
  async command(...args: Arg[]): Promise<RespReply> {
    const [reply] = await this.pipeline([args]);
    if (reply instanceof RespError) throw reply;
    return reply;
  }

  /** Sends every command at once and resolves with their replies in order. */
  pipeline(commands: Arg[][]): Promise<RespReply[]> {
    const replies = commands.map(
      () => new Promise<RespReply>((resolve, reject) => this.waiting.push({ resolve, reject })),
    );
    this.socket.write(Buffer.concat(commands.map(encode)));
    return Promise.all(replies);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    for (;;) {
      const parsed = parse(this.buffer, offset);
      if (!parsed) break;
      offset = parsed.next;
      this.waiting.shift()?.resolve(parsed.reply);
    }
    this.buffer = this.buffer.subarray(offset);
  }
}

function encode(args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** One reply at `offset`, or undefined when the buffer does not hold all of it yet. */
function parse(buffer: Buffer, offset: number): { reply: RespReply; next: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (String.fromCharCode(buffer[offset])) {
    case '+':
      return { reply: line, next };
    case '-':
      return { reply: new RespError(line), next };
    case ':':
      return { reply: Number(line), next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { reply: null, next };
      if (buffer.length < next + length + 2) return undefined;
      return { reply: Buffer.from(buffer.subarray(next, next + length)), next: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { reply: null, next };
      const items: RespReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at);
        if (!item) return undefined;
        items.push(item.reply);
        at = item.next;
      }
      return { reply: items, next: at };
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(line)}`);
  }
}
