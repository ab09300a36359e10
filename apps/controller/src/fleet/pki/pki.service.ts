import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../shared/clock';
import {
  CertificateAuthority,
  certificateFingerprintBase64Url,
  createCertificateAuthority,
  exportPrivateKeyPem,
  IssuedAgentCertificate,
  issueServerCertificate,
  loadCertificateAuthority,
  signAgentCsr,
} from './certificates';

/** The TLS identity the gRPC server presents. */
export interface ServerTlsIdentity {
  /** The server certificate followed by the CA certificate (PEM): agents pin the CA from it. */
  certificateChainPem: string;
  privateKeyPem: string;
  /** The CA certificate (PEM): the only issuer of client certificates the server asks for. */
  caCertificatePem: string;
}

/**
 * The controller's certificate authority. On first start it creates the CA in
 * DATA_DIR/pki (ca.key mode 600, ca.crt); every start issues a fresh server certificate
 * for the controller's names. Agents get client certificates by signing their CSRs.
 *
 * Several controller replicas must share DATA_DIR/pki (or a copy of it): agents pin the CA.
 */
@Injectable()
export class PkiService implements OnModuleInit {
  private readonly logger = new Logger(PkiService.name);
  private ca: CertificateAuthority | undefined;
  private server: ServerTlsIdentity | undefined;
  private fingerprint = '';

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    this.ca = await this.loadOrCreateCa();
    this.fingerprint = certificateFingerprintBase64Url(this.ca.certificate.rawData);
    const names = ['localhost', '127.0.0.1', '::1', os.hostname(), ...this.config.tlsServerNames];
    const issued = await issueServerCertificate(this.ca, names, this.clock.now());
    const caPem = this.ca.certificate.toString('pem');
    this.server = {
      certificateChainPem: `${issued.certificatePem.trim()}\n${caPem.trim()}\n`,
      privateKeyPem: issued.privateKeyPem,
      caCertificatePem: caPem,
    };
    this.logger.log(`agent TLS certificate issued for ${[...new Set(names)].join(', ')}; CA fingerprint ${this.fingerprint}`);
  }

  /** SHA-256 of the CA certificate's DER, base64url: the last part of every join token. */
  caFingerprint(): string {
    this.ready();
    return this.fingerprint;
  }

  /** The CA certificate, PEM. */
  caCertificatePem(): string {
    return this.ready().certificate.toString('pem');
  }

  /** What the gRPC server presents and trusts. */
  serverIdentity(): ServerTlsIdentity {
    this.ready();
    return this.server!;
  }

  /** Signs an agent's CSR (CN = agent id, clientAuth, 1 year). Throws InvalidCsrError. */
  signAgentCsr(csrPem: string, agentId: string): Promise<IssuedAgentCertificate> {
    return signAgentCsr(this.ready(), csrPem, agentId, this.clock.now());
  }

  private ready(): CertificateAuthority {
    if (!this.ca) throw new Error('the controller CA is not loaded yet');
    return this.ca;
  }

  private async loadOrCreateCa(): Promise<CertificateAuthority> {
    const dir = path.join(this.config.dataDir, 'pki');
    const keyPath = path.join(dir, 'ca.key');
    const certPath = path.join(dir, 'ca.crt');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });

    const [keyPem, certPem] = await Promise.all([readIfExists(keyPath), readIfExists(certPath)]);
    if (keyPem !== undefined && certPem !== undefined) {
      const mode = (await fs.stat(keyPath)).mode & 0o777;
      if (mode & 0o077) this.logger.warn(`${keyPath} is readable by others (mode ${mode.toString(8)}); it should be 600`);
      return loadCertificateAuthority(certPem, keyPem);
    }
    if (keyPem !== undefined || certPem !== undefined) {
      throw new Error(
        `${dir} holds only one of ca.key and ca.crt; restore the missing file from a backup ` +
          '(a new CA would lock out every enrolled agent), or remove both to start a new CA',
      );
    }

    const ca = await createCertificateAuthority('Coffer controller CA', this.clock.now());
    // The key is written first and exclusively ('wx'): two processes starting on an empty
    // data dir cannot both create a CA; the loser fails here and succeeds on restart.
    await fs.writeFile(keyPath, await exportPrivateKeyPem(ca.privateKey), { mode: 0o600, flag: 'wx' });
    await fs.writeFile(certPath, ca.certificate.toString('pem'), { mode: 0o644, flag: 'wx' });
    this.logger.log(`created the controller CA in ${dir}`);
    return ca;
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
