// @peculiar/x509 uses tsyringe, which needs the Reflect polyfill loaded before it.
import 'reflect-metadata';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

/*
 * Certificate plumbing for the controller's CA: pure functions over PEM text and WebCrypto
 * keys, no files and no Nest. PkiService decides where things live; these decide what a
 * certificate says.
 *
 * Every key is ECDSA P-256 and every signature ECDSA with SHA-256: small certificates and
 * cheap handshakes, which matters when thousands of agents reconnect at once.
 */

type CryptoKey = webcrypto.CryptoKey;
/** Node's WebCrypto, typed as the x509 library's `Crypto` parameter expects. */
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;

const crypto = webcrypto;
x509.cryptoProvider.set(crypto as unknown as X509Crypto);

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 86_400_000;

/** A CSR larger than this is refused before parsing (a P-256 CSR is well under 1 KiB). */
export const MAX_CSR_PEM_LENGTH = 16 * 1024;

/** The CA: its certificate and the key that signs with it. */
export interface CertificateAuthority {
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
}

/** A certificate with its private key, both PEM, as TLS wants them. */
export interface IssuedKeyPair {
  certificatePem: string;
  privateKeyPem: string;
}

/** A certificate issued for an agent's CSR. */
export interface IssuedAgentCertificate {
  certificatePem: string;
  /** SHA-256 of the certificate's DER, lower-case hex: how Connect recognises the agent. */
  fingerprintHex: string;
  notAfter: Date;
}

/** The CSR could not be used; `message` is safe to show to the agent. */
export class InvalidCsrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCsrError';
  }
}

/** SHA-256 of a certificate's DER, lower-case hex (the agents table's cert_fingerprint). */
export function certificateFingerprintHex(der: ArrayBuffer | Uint8Array): string {
  return createHash('sha256').update(toUint8Array(der)).digest('hex');
}

/** SHA-256 of a certificate's DER, base64url: the fingerprint a join token carries. */
export function certificateFingerprintBase64Url(der: ArrayBuffer | Uint8Array): string {
  return createHash('sha256').update(toUint8Array(der)).digest('base64url');
}

/** Creates a self-signed CA valid for `years` years. */
export async function createCertificateAuthority(commonName: string, now: Date, years = 10): Promise<CertificateAuthority> {
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: `CN=${commonName}, O=Coffer`,
    notBefore: backdated(now),
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, privateKey: keys.privateKey };
}

/** Serialises the CA key as PKCS#8 PEM (for DATA_DIR/pki/ca.key). */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

/** Loads a CA from its PEM files; throws when they do not belong together. */
export async function loadCertificateAuthority(certificatePem: string, privateKeyPem: string): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certificatePem);
  const privateKey = await crypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(privateKeyPem),
    KEY_ALGORITHM,
    false,
    ['sign'],
  );
  // Sign-and-verify proves the key matches the certificate before we issue anything with it.
  const probe = new TextEncoder().encode('coffer-ca-probe');
  const signature = await crypto.subtle.sign(SIGNING_ALGORITHM, privateKey, probe);
  const publicKey = (await certificate.publicKey.export(KEY_ALGORITHM, ['verify'], crypto as unknown as X509Crypto)) as CryptoKey;
  if (!(await crypto.subtle.verify(SIGNING_ALGORITHM, publicKey, signature, probe))) {
    throw new Error('the CA private key does not match the CA certificate');
  }
  return { certificate, privateKey };
}

/**
 * Issues the controller's TLS server certificate (serverAuth) for `names` (DNS names and IP
 * addresses), with a fresh key. The controller issues one at every start, so a renamed host
 * or a new TLS name takes effect on restart and no server key needs to be kept on disk.
 */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  names: string[],
  now: Date,
  validDays = 397,
): Promise<IssuedKeyPair> {
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const unique = [...new Set(names.map((name) => name.trim()).filter((name) => name.length > 0))];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: 'CN=coffer-controller, O=Coffer',
    issuer: ca.certificate.subjectName,
    notBefore: backdated(now),
    notAfter: new Date(now.getTime() + validDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(unique.map((name) => ({ type: isIP(name) ? 'ip' : 'dns', value: name }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  return { certificatePem: certificate.toString('pem'), privateKeyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/**
 * Signs an agent's CSR: CN = the agent id, clientAuth only, valid `validDays`. The CSR's
 * own subject and extensions are ignored — the controller decides what the agent is —
 * but its signature must verify, proving the agent holds the key.
 */
export async function signAgentCsr(
  ca: CertificateAuthority,
  csrPem: string,
  agentId: string,
  now: Date,
  validDays = 365,
): Promise<IssuedAgentCertificate> {
  const csr = parseCsr(csrPem);
  let valid = false;
  try {
    valid = await csr.verify(crypto as unknown as X509Crypto);
  } catch {
    valid = false;
  }
  if (!valid) throw new InvalidCsrError('the certificate signing request is not signed by its own key');
  const algorithm = csr.publicKey.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' || algorithm.name === 'RSA-PSS') {
    if ((algorithm.modulusLength ?? 0) < 2048) throw new InvalidCsrError('RSA keys must be at least 2048 bits');
  } else if (algorithm.name !== 'ECDSA' && algorithm.name !== 'Ed25519') {
    throw new InvalidCsrError(`key algorithm ${algorithm.name} is not supported; use ECDSA P-256`);
  }

  const notAfter = new Date(now.getTime() + validDays * DAY_MS);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: `CN=${agentId}, O=Coffer agents`,
    issuer: ca.certificate.subjectName,
    notBefore: backdated(now),
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: csr.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    fingerprintHex: certificateFingerprintHex(certificate.rawData),
    notAfter: certificate.notAfter,
  };
}

function parseCsr(csrPem: string): x509.Pkcs10CertificateRequest {
  if (typeof csrPem !== 'string' || csrPem.trim().length === 0) {
    throw new InvalidCsrError('a certificate signing request (PEM) is required');
  }
  if (csrPem.length > MAX_CSR_PEM_LENGTH) throw new InvalidCsrError('the certificate signing request is too large');
  if (!csrPem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw new InvalidCsrError('the certificate signing request must be PEM ("-----BEGIN CERTIFICATE REQUEST-----")');
  }
  try {
    return new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new InvalidCsrError('the certificate signing request could not be parsed');
  }
}

/** 16 random bytes, first bit clear so the DER integer stays positive. */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  return bytes.toString('hex');
}

/** Five minutes back, so a peer whose clock is slightly behind still accepts the certificate. */
function backdated(now: Date): Date {
  return new Date(now.getTime() - 5 * 60_000);
}

function toUint8Array(data: ArrayBuffer | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}
