// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface VerifySpec {
  'snapshotId'?: (string);
}

export interface VerifySpec__Output {
  'snapshotId': (string);
}
