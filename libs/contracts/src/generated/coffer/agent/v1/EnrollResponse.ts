// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface EnrollResponse {
  'agentId'?: (string);
  'name'?: (string);
  'certificatePem'?: (string);
  'caCertificatePem'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface EnrollResponse__Output {
  'agentId': (string);
  'name': (string);
  'certificatePem': (string);
  'caCertificatePem': (string);
  'labels': ({[key: string]: string});
}
