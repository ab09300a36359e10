// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface RedisSource {
  'url'?: (string);
  'passwordFile'?: (string);
  'password'?: (string);
}

export interface RedisSource__Output {
  'url': (string);
  'passwordFile': (string);
  'password': (string);
}
