// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface FilesSource {
  'paths'?: (string)[];
  'include'?: (string)[];
  'exclude'?: (string)[];
  'oneFileSystem'?: (boolean);
}

export interface FilesSource__Output {
  'paths': (string)[];
  'include': (string)[];
  'exclude': (string)[];
  'oneFileSystem': (boolean);
}
