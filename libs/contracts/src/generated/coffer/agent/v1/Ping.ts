// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Long } from '@grpc/proto-loader';

export interface Ping {
  'nonce'?: (number | string | Long);
}

export interface Ping__Output {
  'nonce': (number);
}
