import * as grpc from '@grpc/grpc-js';
import type {
  CaCertificateUpdateListener,
  CertificateProvider,
  IdentityCertificateUpdateListener,
} from '@grpc/grpc-js/build/src/certificate-provider';
import type { ServerTlsIdentity } from '../pki/pki.service';

/**
 * A CertificateProvider that always has the same certificates (the controller issues them
 * at start). Updates are delivered asynchronously, as grpc-js's own file-watcher provider
 * does: grpc-js registers its watcher only after it has added our listeners, so a
 * synchronous update would reach nobody and the server would drop every connection.
 */
class StaticCertificateProvider implements CertificateProvider {
  constructor(private readonly identity: ServerTlsIdentity) {}

  addCaCertificateListener(listener: CaCertificateUpdateListener): void {
    queueMicrotask(() => listener({ caCertificate: Buffer.from(this.identity.caCertificatePem) }));
  }

  removeCaCertificateListener(): void {
    // Nothing to stop: the certificates never change.
  }

  addIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    queueMicrotask(() =>
      listener({ certificate: Buffer.from(this.identity.certificateChainPem), privateKey: Buffer.from(this.identity.privateKeyPem) }),
    );
  }

  removeIdentityCertificateListener(): void {
    // Nothing to stop.
  }
}

/**
 * Server TLS for the agent port: presents the server certificate followed by the CA (so an
 * enrolling agent can pin the CA from the chain), and REQUESTS a client certificate issued
 * by the CA without requiring one — Enroll has none yet; Connect identifies the agent by
 * the certificate it presented (the stream handler refuses streams without one).
 *
 * grpc-js's `createCertificateProviderServerCredentials(a, b, require)` passes its first
 * argument on as the identity provider and its second as the CA provider, whatever its
 * parameter names say; one provider that answers both sidesteps the trap.
 */
export function agentServerCredentials(identity: ServerTlsIdentity): grpc.ServerCredentials {
  const provider = new StaticCertificateProvider(identity);
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
}
