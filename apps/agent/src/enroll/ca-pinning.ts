import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, DetailedPeerCertificate } from 'node:tls';
import { AgentError } from '../shared/agent-error';
import type { ControllerAddress } from '../identity/controller-address';

/** SHA-256 of a certificate's DER, base64url: how a join token names the controller's CA. */
export function caFingerprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('base64url');
}

/**
 * Opens a raw TLS connection to the controller WITHOUT verifying it, and returns the
 * certificates it presents, leaf first. Nothing is sent but the TLS handshake: this is how
 * the agent learns which CA to trust before it trusts anything (trust on first use, made
 * safe by the fingerprint in the join token).
 */
export function fetchPresentedChain(address: ControllerAddress, timeoutMs = 15_000): Promise<X509Certificate[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: address.host,
      port: address.port,
      ALPNProtocols: ['h2'],
      rejectUnauthorized: false,
      ...(isIP(address.host) ? {} : { servername: address.host }),
    });
    const fail = (err: Error) => {
      socket.destroy();
      reject(new AgentError(`cannot reach the controller at ${address.target}: ${describeNetworkError(err)}`));
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no TLS handshake within ${timeoutMs / 1000} s`)));
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      try {
        const chain = peerChain(socket.getPeerCertificate(true));
        socket.end();
        socket.destroy();
        if (chain.length === 0) return fail(new Error('it presented no certificate'));
        resolve(chain);
      } catch (err) {
        fail(err as Error);
      }
    });
  });
}

/** Node links the presented certificates through `issuerCertificate`; a self-signed one links to itself. */
function peerChain(leaf: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = leaf;
  while (current?.raw && chain.length < 16) {
    const key = current.raw.toString('base64');
    if (seen.has(key)) break;
    seen.add(key);
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

/**
 * The CA certificate in `chain` whose fingerprint is `fingerprint`, provided the server
 * certificate (chain[0]) is signed by it, directly or through intermediates in the chain.
 * Undefined otherwise: then the server is not the controller the token was made for.
 */
export function findPinnedCa(chain: X509Certificate[], fingerprint: string): X509Certificate | undefined {
  const ca = chain.find((c) => c.ca && caFingerprint(c) === fingerprint);
  if (!ca || chain.length === 0) return undefined;
  let current = chain[0];
  for (let depth = 0; depth < chain.length; depth++) {
    if (issuedBy(current, ca)) return ca;
    const next = chain.find((c) => c !== current && c.ca && issuedBy(current, c));
    if (!next) return undefined;
    current = next;
  }
  return undefined;
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** "connect ECONNREFUSED 127.0.0.1:7443" → "connection refused". */
export function describeNetworkError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the controller running, and is this its agent port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset (is this a TLS port?)';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to host';
    default:
      return err.message;
  }
}
