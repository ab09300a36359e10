// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Long } from '@grpc/proto-loader';

export interface DiskSpace {
  'path'?: (string);
  'role'?: (string);
  'freeBytes'?: (number | string | Long);
  'totalBytes'?: (number | string | Long);
}

export interface DiskSpace__Output {
  'path': (string);
  'role': (string);
  'freeBytes': (number);
  'totalBytes': (number);
}
