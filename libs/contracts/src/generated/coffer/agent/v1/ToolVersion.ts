// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface ToolVersion {
  'name'?: (string);
  'version'?: (string);
  'path'?: (string);
}

export interface ToolVersion__Output {
  'name': (string);
  'version': (string);
  'path': (string);
}
