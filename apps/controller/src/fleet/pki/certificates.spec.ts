import 'reflect-metadata';
import { X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  certificateFingerprintBase64Url,
  certificateFingerprintHex,
  createCertificateAuthority,
  exportPrivateKeyPem,
  InvalidCsrError,
  issueServerCertificate,
  loadCertificateAuthority,
  signAgentCsr,
} from './certificates';

type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
const crypto = webcrypto;
const NOW = new Date('2025-06-01T12:00:00Z');

async function makeCsr(commonName = 'ignored'): Promise<string> {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as Parameters<
    typeof x509.Pkcs10CertificateRequestGenerator.create
  >[0]['keys'];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: `CN=${commonName}`, keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
    crypto as unknown as X509Crypto,
  );
  return csr.toString('pem');
}

describe('certificates', () => {
  it('creates a 10-year CA that can be saved and loaded again', async () => {
    const ca = await createCertificateAuthority('Coffer test CA', NOW);
    const node = new NodeX509Certificate(ca.certificate.toString('pem'));
    expect(node.ca).toBe(true);
    expect(new Date(node.validTo).getUTCFullYear()).toBe(2035);

    const keyPem = await exportPrivateKeyPem(ca.privateKey);
    const loaded = await loadCertificateAuthority(ca.certificate.toString('pem'), keyPem);
    expect(loaded.certificate.serialNumber).toBe(ca.certificate.serialNumber);
  });

  it('refuses a CA key that does not belong to the certificate', async () => {
    const one = await createCertificateAuthority('one', NOW);
    const other = await createCertificateAuthority('other', NOW);
    await expect(loadCertificateAuthority(one.certificate.toString('pem'), await exportPrivateKeyPem(other.privateKey))).rejects.toThrow(
      /does not match/,
    );
  });

  it('signs a CSR into a client certificate that verifies against the CA', async () => {
    const ca = await createCertificateAuthority('Coffer test CA', NOW);
    const agentId = '5b0c3c8e-8f3a-4b5e-9a57-0a1f1d2e3c4b';
    const issued = await signAgentCsr(ca, await makeCsr('evil-name'), agentId, NOW);

    const cert = new NodeX509Certificate(issued.certificatePem);
    const caCert = new NodeX509Certificate(ca.certificate.toString('pem'));
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.subject).toContain(`CN=${agentId}`);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(issued.fingerprintHex).toBe(certificateFingerprintHex(cert.raw));
    expect(issued.notAfter.getTime() - NOW.getTime()).toBe(365 * 86_400_000);
  });

  it('rejects a CSR whose signature does not verify', async () => {
    const ca = await createCertificateAuthority('Coffer test CA', NOW);
    const good = new x509.Pkcs10CertificateRequest(await makeCsr());
    const der = new Uint8Array(good.rawData);
    der[der.length - 5] ^= 0xff; // flip a byte inside the signature
    const tampered = x509.PemConverter.encode(der.buffer, 'CERTIFICATE REQUEST');
    await expect(signAgentCsr(ca, tampered, 'id', NOW)).rejects.toBeInstanceOf(InvalidCsrError);
  });

  it('rejects text that is not a CSR', async () => {
    const ca = await createCertificateAuthority('Coffer test CA', NOW);
    await expect(signAgentCsr(ca, '', 'id', NOW)).rejects.toThrow(/required/);
    await expect(signAgentCsr(ca, 'hello', 'id', NOW)).rejects.toThrow(/PEM/);
    await expect(
      signAgentCsr(ca, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----', 'id', NOW),
    ).rejects.toThrow(/could not be parsed/);
  });

  it('issues a server certificate for DNS names and IP addresses', async () => {
    const ca = await createCertificateAuthority('Coffer test CA', NOW);
    const server = await issueServerCertificate(ca, ['localhost', '127.0.0.1', '::1', 'backup.example.com', 'localhost'], NOW);
    const cert = new NodeX509Certificate(server.certificatePem);
    expect(cert.checkIssued(new NodeX509Certificate(ca.certificate.toString('pem')))).toBe(true);
    expect(cert.checkHost('backup.example.com')).toBe('backup.example.com');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(server.privateKeyPem).toContain('BEGIN PRIVATE KEY');
  });

  it('computes the join-token fingerprint as base64url SHA-256 of the DER', async () => {
    const ca = await createCertificateAuthority('Coffer test CA', NOW);
    const fingerprint = certificateFingerprintBase64Url(ca.certificate.rawData);
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(fingerprint, 'base64url').toString('hex')).toBe(certificateFingerprintHex(ca.certificate.rawData));
  });
});
