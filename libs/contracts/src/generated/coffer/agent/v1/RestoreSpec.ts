// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface RestoreSpec {
  'snapshotId'?: (string);
  'targetDir'?: (string);
  'include'?: (string)[];
}

export interface RestoreSpec__Output {
  'snapshotId': (string);
  'targetDir': (string);
  'include': (string)[];
}
