// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface RepositoryAccess {
  'name'?: (string);
  'url'?: (string);
  'password'?: (string);
  'environment'?: ({[key: string]: string});
}

export interface RepositoryAccess__Output {
  'name': (string);
  'url': (string);
  'password': (string);
  'environment': ({[key: string]: string});
}
