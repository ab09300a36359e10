// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface Welcome {
  'heartbeatIntervalSeconds'?: (number);
  'agentId'?: (string);
  'name'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface Welcome__Output {
  'heartbeatIntervalSeconds': (number);
  'agentId': (string);
  'name': (string);
  'labels': ({[key: string]: string});
}
