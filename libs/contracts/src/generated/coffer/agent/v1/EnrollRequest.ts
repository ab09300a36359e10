// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface EnrollRequest {
  'token'?: (string);
  'csrPem'?: (string);
  'name'?: (string);
  'labels'?: ({[key: string]: string});
  'hostname'?: (string);
  'agentVersion'?: (string);
}

export interface EnrollRequest__Output {
  'token': (string);
  'csrPem': (string);
  'name': (string);
  'labels': ({[key: string]: string});
  'hostname': (string);
  'agentVersion': (string);
}
