// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface JobFinishedAck {
  'jobId'?: (string);
}

export interface JobFinishedAck__Output {
  'jobId': (string);
}
