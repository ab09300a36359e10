import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
type KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

/** A certificate and its private key (PEM). */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
}

async function newKeys(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as unknown as KeyPair;
}

async function keyPem(keys: KeyPair): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
}

/**
 * A small certificate authority for tests, made with @peculiar/x509 as a controller would:
 * a self-signed CA, a server certificate for 127.0.0.1/localhost, client certificates
 * from CSRs.
 */
export class TestCa {
  private constructor(
    readonly cert: x509.X509Certificate,
    private readonly keys: KeyPair,
  ) {}

  static async create(name = 'Coffer test CA'): Promise<TestCa> {
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: `CN=${name}`,
      keys,
      signingAlgorithm: ALGORITHM,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 24 * 3600_000),
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    });
    return new TestCa(cert, keys);
  }

  get pem(): string {
    return this.cert.toString('pem');
  }

  /** What a join token carries: SHA-256 of the CA certificate's DER, base64url. */
  get fingerprint(): string {
    return createHash('sha256').update(Buffer.from(this.cert.rawData)).digest('base64url');
  }

  /** A TLS server certificate for 127.0.0.1 and localhost. */
  async issueServer(): Promise<IssuedCertificate> {
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.create({
      subject: 'CN=coffer-controller',
      issuer: this.cert.subject,
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      signingAlgorithm: ALGORITHM,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 24 * 3600_000),
      extensions: [
        new x509.BasicConstraintsExtension(false),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
        ]),
      ],
    });
    return { cert, certPem: cert.toString('pem'), keyPem: await keyPem(keys) };
  }

  /** A client certificate for the key in `csrPem`, CN = agentId. Throws for a CSR that does not verify. */
  async issueClient(csrPem: string, agentId: string): Promise<string> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error('the CSR signature does not verify');
    const cert = await x509.X509CertificateGenerator.create({
      subject: `CN=${agentId}`,
      issuer: this.cert.subject,
      publicKey: csr.publicKey,
      signingKey: this.keys.privateKey,
      signingAlgorithm: ALGORITHM,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 24 * 3600_000),
      extensions: [new x509.BasicConstraintsExtension(false), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
    });
    return cert.toString('pem');
  }
}
