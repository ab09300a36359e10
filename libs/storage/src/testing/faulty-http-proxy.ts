import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does instead of forwarding a matching request. */
export type HttpFault =
  /** Answer with this status and an S3-style XML error body (`code` defaults from the status). */
  | { status: number; code?: string }
  /** Read the request, then never answer, as a stuck server or a black-holed connection would. */
  | { hang: true }
  /** Destroy the connection once this many bytes of the request body have arrived. */
  | { dropAfterBodyBytes: number };

/** Which requests a fault hits, and how many times. */
export type HttpFaultRule = HttpFault & {
  /** Only this method (GET, PUT, HEAD…); any when absent. */
  method?: string;
  /** Only request paths (query string included) that match; any when absent. */
  path?: RegExp;
  /** How many matching requests the fault hits before it is spent; default 1, Infinity for all. */
  times?: number;
};

/** A running proxy; see startFaultyHttpProxy. */
export interface FaultyHttpProxy {
  /** `http://127.0.0.1:PORT`, to use in place of the target. */
  readonly url: string;
  readonly port: number;
  /** Requests received so far, faulted or forwarded. */
  readonly requests: number;
  /** Arms a fault; rules are checked in the order they were added, the first live match wins. */
  fail(rule: HttpFaultRule): void;
  /** Disarms every fault: all requests are forwarded from now on. */
  clear(): void;
  /** Closes the proxy and every connection it holds, hung ones included. */
  stop(): Promise<void>;
}

/** The S3 error code a status stands for, when a rule names none. */
const DEFAULT_ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'InvalidRequest',
  403: 'AccessDenied',
  404: 'NoSuchKey',
  412: 'PreconditionFailed',
  429: 'SlowDown',
  500: 'InternalError',
  501: 'NotImplemented',
  503: 'SlowDown',
};

/**
 * A reverse proxy on 127.0.0.1 (port 0) in front of an HTTP server (`target`, e.g. an S3 test
 * server), forwarding every request untouched — the Host header included, so signed requests
 * still verify — except those an armed fault matches. Lets driver tests show what happens on
 * a 5xx, a refusal, a stuck server or a connection cut mid-upload, over real sockets.
 */
export async function startFaultyHttpProxy(target: string): Promise<FaultyHttpProxy> {
  const upstream = new URL(target);
  const rules: { rule: HttpFaultRule; remaining: number }[] = [];
  let requests = 0;

  const takeFault = (req: http.IncomingMessage): HttpFault | undefined => {
    const armed = rules.find(
      (r) => r.remaining > 0 && (r.rule.method === undefined || r.rule.method === req.method) && (r.rule.path?.test(req.url ?? '') ?? true),
    );
    if (armed) armed.remaining--;
    return armed?.rule;
  };

  const server = http.createServer((req, res) => {
    requests++;
    const fault = takeFault(req);
    if (fault === undefined) {
      forward(upstream, req, res);
    } else if ('status' in fault) {
      req.resume();
      req.on('end', () => answerWithError(res, fault.status, fault.code ?? DEFAULT_ERROR_CODES[fault.status] ?? 'Fault', req.url ?? '/'));
    } else if ('hang' in fault) {
      req.resume();
    } else {
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= fault.dropAfterBodyBytes) req.socket.destroy();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    fail(rule) {
      rules.push({ rule, remaining: rule.times ?? 1 });
    },
    clear() {
      rules.length = 0;
    },
    stop() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function forward(upstream: URL, req: http.IncomingMessage, res: http.ServerResponse): void {
  const outgoing = http.request(
    { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    },
  );
  // The client went away, or the target did: pass the breakage on rather than answer for the target.
  outgoing.on('error', () => req.socket.destroy());
  req.on('error', () => outgoing.destroy());
  req.pipe(outgoing);
}

function answerWithError(res: http.ServerResponse, status: number, code: string, resource: string): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>injected by the faulty HTTP proxy</Message>` +
    `<Resource>${escapeXml(resource)}</Resource><RequestId>faulty-http-proxy</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
