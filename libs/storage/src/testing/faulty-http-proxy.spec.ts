import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFaultyHttpProxy } from './faulty-http-proxy';
import type { FaultyHttpProxy } from './faulty-http-proxy';

interface Answer {
  status: number;
  body: string;
}

describe('startFaultyHttpProxy', () => {
  let target: http.Server;
  /** What the target received: method, path, host header and body length. */
  let seen: string[];
  let proxy: FaultyHttpProxy;

  beforeEach(async () => {
    seen = [];
    target = http.createServer((req, res) => {
      let length = 0;
      req.on('data', (chunk: Buffer) => (length += chunk.length));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} host=${req.headers.host} ${length}`);
        res.writeHead(200, { 'x-target': 'yes' }).end(`echo ${length}`);
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    proxy = await startFaultyHttpProxy(`http://127.0.0.1:${(target.address() as AddressInfo).port}`);
  });

  afterEach(async () => {
    await proxy.stop();
    await new Promise((resolve) => target.close(resolve));
  });

  const send = (method: string, path: string, body = Buffer.alloc(0), timeoutMs = 5000) =>
    new Promise<Answer>((resolve, reject) => {
      const req = http.request(`${proxy.url}${path}`, { method, timeout: timeoutMs, headers: { 'content-length': body.length } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(body);
    });

  it('forwards requests untouched, the Host header included, and counts them', async () => {
    expect(await send('PUT', '/bucket/key?x=1', Buffer.alloc(1000))).toEqual({ status: 200, body: 'echo 1000' });
    expect(await send('GET', '/bucket/key')).toEqual({ status: 200, body: 'echo 0' });
    expect(seen).toEqual([`PUT /bucket/key?x=1 host=127.0.0.1:${proxy.port} 1000`, `GET /bucket/key host=127.0.0.1:${proxy.port} 0`]);
    expect(proxy.requests).toBe(2);
  });

  it('answers matching requests with an S3-style error as many times as told, then forwards again', async () => {
    proxy.fail({ method: 'PUT', path: /^\/bucket\/data\//, status: 503, times: 2 });
    expect(await send('GET', '/bucket/data/a')).toMatchObject({ status: 200 });
    expect(await send('PUT', '/bucket/keys/a')).toMatchObject({ status: 200 });
    for (let i = 0; i < 2; i++) {
      const answer = await send('PUT', '/bucket/data/a', Buffer.alloc(10));
      expect(answer.status).toBe(503);
      expect(answer.body).toContain('<Code>SlowDown</Code>');
      expect(answer.body).toContain('<Resource>/bucket/data/a</Resource>');
    }
    expect(await send('PUT', '/bucket/data/a')).toMatchObject({ status: 200 });
    expect(seen).toHaveLength(3);
  });

  it('uses the error code it is given', async () => {
    proxy.fail({ status: 403, code: 'SignatureDoesNotMatch' });
    const answer = await send('GET', '/bucket/key');
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('never answers a hung request, until stopped', async () => {
    proxy.fail({ method: 'GET', hang: true });
    await expect(send('GET', '/bucket/key', undefined, 300)).rejects.toThrow('timed out');
    expect(seen).toEqual([]);
    proxy.fail({ hang: true });
    const pending = send('GET', '/bucket/key');
    await proxy.stop();
    await expect(pending).rejects.toThrow();
  });

  it('drops the connection once part of the body has arrived, so the target sees nothing', async () => {
    proxy.fail({ method: 'PUT', dropAfterBodyBytes: 64 * 1024 });
    await expect(send('PUT', '/bucket/key', Buffer.alloc(1024 * 1024))).rejects.toThrow(/ECONNRESET|EPIPE|socket hang up/);
    expect(seen).toEqual([]);
    expect(await send('PUT', '/bucket/key', Buffer.alloc(1024 * 1024))).toEqual({ status: 200, body: `echo ${1024 * 1024}` });
  });

  it('forgets every fault on clear()', async () => {
    proxy.fail({ status: 500, times: Infinity });
    proxy.clear();
    expect(await send('GET', '/bucket/key')).toMatchObject({ status: 200 });
  });
});
