// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface MysqlTarget {
  'url'?: (string);
  'password'?: (string);
  'clean'?: (boolean);
  'sourceDatabase'?: (string);
}

export interface MysqlTarget__Output {
  'url': (string);
  'password': (string);
  'clean': (boolean);
  'sourceDatabase': (string);
}
