import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseJoinToken } from '@coffer/contracts';
import { AgentError, AgentUsageError } from '../shared/agent-error';
import { agentVersion } from '../shared/agent-version';
import { parseControllerAddress } from '../identity/controller-address';
import { IdentityStore } from '../identity/identity-store';
import { runningAgentPid } from '../identity/run-lock';
import { caFingerprint, fetchPresentedChain, findPinnedCa } from './ca-pinning';
import { enroll } from './enroll-client';
import { generateKeyAndCsr } from './key-and-csr';
import { parseLabels } from './labels';

/** `coffer-agent enroll`'s options, as commander hands them over. */
export interface EnrollOptions {
  controller: string;
  token?: string;
  tokenFile?: string;
  dataDir: string;
  name?: string;
  labels?: string;
  force?: boolean;
}

/**
 * Enrolls this host: check the command line → refuse to overwrite an identity → make sure
 * the data dir is writable → pin the
 * controller's CA by the token's fingerprint (before the token goes anywhere) → make a key
 * and CSR → Enroll over TLS trusting only that CA → save the identity.
 * Returns the line to print.
 */
export async function runEnroll(given: EnrollOptions): Promise<string> {
  const options = { ...given, token: readJoinToken(given) };
  const token = parseJoinToken(options.token);
  if (!token) {
    throw new AgentUsageError('the join token is malformed: expected cj1.<id>.<secret>.<fingerprint> exactly as "coffer tokens create" printed it (was it cut short when copied?)');
  }
  const address = parseControllerAddress(options.controller);
  const labels = parseLabels(options.labels);
  const name = options.name?.trim() || hostname();
  const store = new IdentityStore(options.dataDir);
  const runningPid = runningAgentPid(store.dir);
  if (runningPid !== undefined) throw new AgentError(`an agent (pid ${runningPid}) is running on ${store.dir}; stop it before enrolling again`);
  if (store.exists() && !options.force) {
    throw new AgentError(`${store.dir} already holds an agent identity: use another --data-dir, or --force to replace it (the old identity stops working)`);
  }
  store.prepare();

  const chain = await fetchPresentedChain(address);
  const ca = findPinnedCa(chain, token.caFingerprint);
  if (!ca) throw new AgentError(`the controller at ${address.target} does not present the CA named in the join token; refusing to send the token`);
  const caPem = ca.toString();

  const { keyPem, csrPem } = await generateKeyAndCsr(name);
  const issued = await enroll(address, caPem, { token: options.token.trim(), csrPem, name, labels, hostname: hostname(), agentVersion: agentVersion() });
  checkIssued(issued.certificatePem, issued.caCertificatePem, keyPem, token.caFingerprint);

  store.write({
    identity: { agentId: issued.agentId, name: issued.name, controller: address.target, labels: issued.labels, enrolledAt: new Date().toISOString() },
    keyPem,
    certPem: issued.certificatePem,
    caPem,
  });
  return `enrolled as ${issued.name} (id ${issued.agentId}); start it with: coffer-agent run --data-dir ${store.dir}`;
}

/**
 * The controller's answer must be what the agent pinned and asked for: the same CA, and a
 * certificate for our key signed by it. Anything else is a broken or hostile controller.
 */
function checkIssued(certPem: string, caCertificatePem: string, keyPem: string, fingerprint: string): void {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    ca = new X509Certificate(caCertificatePem);
  } catch (err) {
    throw new AgentError(`the controller answered with an unreadable certificate: ${(err as Error).message}`);
  }
  if (caFingerprint(ca) !== fingerprint) throw new AgentError('the controller answered with a CA other than the one named in the join token; nothing was saved');
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new AgentError('the certificate the controller issued is not signed by its CA; nothing was saved');
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new AgentError('the certificate the controller issued is not for this agent\'s key; nothing was saved');
}

/**
 * The join token from --token-file, --token or COFFER_JOIN_TOKEN (in that order). A token is
 * a secret: a file or the environment keeps it out of the process list.
 */
function readJoinToken(options: EnrollOptions): string {
  if (options.tokenFile !== undefined) {
    try {
      return readFileSync(options.tokenFile === '-' ? 0 : options.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new AgentUsageError(`cannot read the join token from ${options.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const token = options.token ?? process.env.COFFER_JOIN_TOKEN;
  if (!token) throw new AgentUsageError('no join token: pass --token-file FILE (or set COFFER_JOIN_TOKEN)');
  return token;
}
