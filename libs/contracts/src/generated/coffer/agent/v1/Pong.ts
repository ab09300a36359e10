// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Long } from '@grpc/proto-loader';

export interface Pong {
  'nonce'?: (number | string | Long);
}

export interface Pong__Output {
  'nonce': (number);
}
