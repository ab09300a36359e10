// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface PostgresSource {
  'url'?: (string);
  'databases'?: (string)[];
  'schemas'?: (string)[];
  'globals'?: (boolean);
  'globalsOnly'?: (boolean);
  'passwordFile'?: (string);
  'password'?: (string);
}

export interface PostgresSource__Output {
  'url': (string);
  'databases': (string)[];
  'schemas': (string)[];
  'globals': (boolean);
  'globalsOnly': (boolean);
  'passwordFile': (string);
  'password': (string);
}
