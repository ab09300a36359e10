// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface PostgresTarget {
  'url'?: (string);
  'password'?: (string);
  'clean'?: (boolean);
  'schemas'?: (string)[];
  'jobs'?: (number);
  'sourceDatabase'?: (string);
  'globals'?: (boolean);
  'noOwner'?: (boolean);
}

export interface PostgresTarget__Output {
  'url': (string);
  'password': (string);
  'clean': (boolean);
  'schemas': (string)[];
  'jobs': (number);
  'sourceDatabase': (string);
  'globals': (boolean);
  'noOwner': (boolean);
}
