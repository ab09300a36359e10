// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface CancelJob {
  'jobId'?: (string);
  'reason'?: (string);
}

export interface CancelJob__Output {
  'jobId': (string);
  'reason': (string);
}
