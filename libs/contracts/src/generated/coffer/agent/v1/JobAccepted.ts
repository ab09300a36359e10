// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Long } from '@grpc/proto-loader';

export interface JobAccepted {
  'jobId'?: (string);
  'startedAtUnixMs'?: (number | string | Long);
}

export interface JobAccepted__Output {
  'jobId': (string);
  'startedAtUnixMs': (number);
}
