// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface RedisTarget {
  'dir'?: (string);
  'clean'?: (boolean);
}

export interface RedisTarget__Output {
  'dir': (string);
  'clean': (boolean);
}
