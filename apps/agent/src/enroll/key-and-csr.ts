import { createPrivateKey, webcrypto } from 'node:crypto';

/** A fresh key pair's private half (PEM, PKCS#8) and a CSR for it (PEM, PKCS#10). */
export interface KeyAndCsr {
  keyPem: string;
  csrPem: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/**
 * Generates an ECDSA P-256 key on this host and a certificate signing request for it. Only
 * the CSR (the public key, signed) goes to the controller; the private key never leaves
 * the data dir. The subject CN is the requested name; the controller sets its own (the
 * agent id) in the certificate it issues.
 */
export async function generateKeyAndCsr(name: string): Promise<KeyAndCsr> {
  // @peculiar/x509 resolves its parts through tsyringe, which needs a Reflect polyfill
  // loaded first. Both are loaded here, not at start: only `enroll` needs them.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [name] }],
    keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
    signingAlgorithm: ALGORITHM,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { keyPem, csrPem: csr.toString('pem') };
}
