// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface CheckSpec {
  'readData'?: (boolean);
  'readDataSubsetPercent'?: (number | string);
}

export interface CheckSpec__Output {
  'readData': (boolean);
  'readDataSubsetPercent': (number);
}
