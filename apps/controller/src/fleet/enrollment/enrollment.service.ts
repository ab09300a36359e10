import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { labelsSchema, resourceNameSchema, toFieldProblems } from '@coffer/contracts';
import { AgentStore } from '../agents/agent.store';
import { InvalidCsrError } from '../pki/certificates';
import { PkiService } from '../pki/pki.service';
import { Clock } from '../shared/clock';
import { FleetDatabase, pgConstraint, pgErrorCode } from '../shared/database';
import { EnrollmentError } from './enrollment-errors';
import { JoinTokenService } from './join-token.service';

/** An agent asking for an identity (the protocol's EnrollRequest, mapped at the edge). */
export interface EnrollmentRequest {
  token: string;
  csrPem: string;
  name: string;
  labels: Record<string, string>;
  hostname: string;
  agentVersion: string;
}

/** The identity issued. */
export interface EnrollmentResult {
  agentId: string;
  name: string;
  certificatePem: string;
  caCertificatePem: string;
  labels: Record<string, string>;
}

/**
 * Enrollment: a join token and a CSR in, an agent row and a client certificate out. The
 * token use, the name check and the agent row are one transaction, so a refused
 * enrollment (name taken, bad CSR) does not use up the token.
 */
@Injectable()
export class EnrollmentService {
  private readonly logger = new Logger(EnrollmentService.name);

  constructor(
    private readonly db: FleetDatabase,
    private readonly tokens: JoinTokenService,
    private readonly agents: AgentStore,
    private readonly pki: PkiService,
    private readonly clock: Clock,
  ) {}

  async enroll(request: EnrollmentRequest): Promise<EnrollmentResult> {
    const name = chooseName(request.name, request.hostname);
    const requestedLabels = validateLabels(request.labels);

    const result = await this.db
      .transaction(async (sql) => {
        const token = await this.tokens.consume(sql, request.token);
        const holder = await this.agents.findLiveByName(name, sql);
        if (holder) throw nameTaken(name, holder.enrolledAt);

        const agentId = randomUUID();
        const certificate = await this.pki.signAgentCsr(request.csrPem, agentId);
        const labels = { ...requestedLabels, ...token.labels };
        await this.agents.insert(sql, {
          id: agentId,
          name,
          labels,
          certFingerprint: certificate.fingerprintHex,
          certNotAfter: certificate.notAfter,
          hostname: request.hostname.trim() || null,
          version: request.agentVersion.trim() || null,
          enrolledAt: this.clock.now(),
          enrollmentTokenId: token.tokenId,
        });
        return { agentId, name, labels, certificatePem: certificate.certificatePem, tokenId: token.tokenId };
      })
      .catch((error: unknown) => {
        if (error instanceof InvalidCsrError) throw new EnrollmentError('invalid_argument', error.message);
        // Two agents racing for one name: the partial unique index decides.
        if (pgErrorCode(error) === '23505' && pgConstraint(error) === 'agents_live_name') throw nameTaken(name, null);
        throw error;
      });

    this.logger.log(`agent ${result.name} (${result.agentId}) enrolled with join token ${result.tokenId}`);
    return {
      agentId: result.agentId,
      name: result.name,
      certificatePem: result.certificatePem,
      caCertificatePem: this.pki.caCertificatePem(),
      labels: result.labels,
    };
  }
}

/**
 * The requested name, else the host name (lower-cased: host names are case-insensitive,
 * fleet names are lower-case). Either must follow the resource-name rule.
 */
export function chooseName(requested: string, hostname: string): string {
  const explicit = (requested ?? '').trim();
  const name = explicit || (hostname ?? '').trim().toLowerCase();
  if (!name) throw new EnrollmentError('invalid_argument', 'an agent name is required: neither a name nor a host name was sent');
  const check = resourceNameSchema.safeParse(name);
  if (!check.success) {
    const source = explicit ? 'agent name' : 'host name, used as the agent name,';
    throw new EnrollmentError(
      'invalid_argument',
      `the ${source} "${name}" is not valid: ${check.error.issues[0].message}; choose another with --name`,
    );
  }
  return name;
}

function validateLabels(labels: Record<string, string>): Record<string, string> {
  const check = labelsSchema.safeParse(labels ?? {});
  if (check.success) return check.data;
  const problems = toFieldProblems(check.error).map((problem) => `${problem.path}: ${problem.reason}`);
  throw new EnrollmentError('invalid_argument', `invalid labels: ${problems.join('; ')}`);
}

function nameTaken(name: string, since: Date | null): EnrollmentError {
  const enrolled = since ? ` (enrolled ${since.toISOString()})` : '';
  return new EnrollmentError(
    'already_exists',
    `the agent name "${name}" is already taken by another agent${enrolled}; revoke that agent first or enroll with another --name`,
  );
}
