// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Long } from '@grpc/proto-loader';

export interface SnapshotSummary {
  'id'?: (string);
  'timeUnixMs'?: (number | string | Long);
  'hostname'?: (string);
  'sourceKind'?: (string);
  'paths'?: (string)[];
  'tags'?: (string)[];
  'parentId'?: (string);
  'files'?: (number | string | Long);
  'bytesRead'?: (number | string | Long);
  'bytesNew'?: (number | string | Long);
  'bytesStored'?: (number | string | Long);
  'durationSeconds'?: (number | string);
}

export interface SnapshotSummary__Output {
  'id': (string);
  'timeUnixMs': (number);
  'hostname': (string);
  'sourceKind': (string);
  'paths': (string)[];
  'tags': (string)[];
  'parentId': (string);
  'files': (number);
  'bytesRead': (number);
  'bytesNew': (number);
  'bytesStored': (number);
  'durationSeconds': (number);
}
