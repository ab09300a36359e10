// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface CommandSource {
  'command'?: (string);
  'filename'?: (string);
}

export interface CommandSource__Output {
  'command': (string);
  'filename': (string);
}
