// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface MysqlSource {
  'url'?: (string);
  'databases'?: (string)[];
  'passwordFile'?: (string);
  'password'?: (string);
}

export interface MysqlSource__Output {
  'url': (string);
  'databases': (string)[];
  'passwordFile': (string);
  'password': (string);
}
