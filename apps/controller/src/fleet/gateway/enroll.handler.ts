import { Injectable, Logger } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import type { agentV1 } from '@coffer/contracts';
import { EnrollmentError, EnrollmentRefusal } from '../enrollment/enrollment-errors';
import { EnrollmentService } from '../enrollment/enrollment.service';
import { fromEnrollmentResult, toEnrollmentRequest } from './proto-mapping';

const REFUSAL_CODES: Record<EnrollmentRefusal, grpc.status> = {
  unauthenticated: grpc.status.UNAUTHENTICATED,
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  already_exists: grpc.status.ALREADY_EXISTS,
};

/** Serves Enroll: maps the protocol to EnrollmentService and its refusals to status codes. */
@Injectable()
export class EnrollHandler {
  private readonly logger = new Logger(EnrollHandler.name);

  constructor(private readonly enrollment: EnrollmentService) {}

  handle(
    call: grpc.ServerUnaryCall<agentV1.EnrollRequest__Output, agentV1.EnrollResponse>,
    callback: grpc.sendUnaryData<agentV1.EnrollResponse>,
  ): void {
    this.enrollment.enroll(toEnrollmentRequest(call.request)).then(
      (result) => callback(null, fromEnrollmentResult(result)),
      (error: unknown) => {
        if (error instanceof EnrollmentError) {
          // Refusals are normal operation; the peer address helps find a misconfigured host.
          this.logger.warn(`enrollment from ${call.getPeer()} refused: ${error.message}`);
          callback({ code: REFUSAL_CODES[error.refusal], details: error.message });
          return;
        }
        this.logger.error(`enrollment from ${call.getPeer()} failed: ${(error as Error).message}`, (error as Error).stack);
        callback({ code: grpc.status.INTERNAL, details: 'the controller could not complete the enrollment; try again' });
      },
    );
  }
}
