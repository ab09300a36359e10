// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Long } from '@grpc/proto-loader';

export interface JobProgress {
  'jobId'?: (string);
  'phase'?: (string);
  'filesDone'?: (number | string | Long);
  'filesTotal'?: (number | string | Long);
  'bytesDone'?: (number | string | Long);
  'bytesTotal'?: (number | string | Long);
  'bytesPerSecond'?: (number | string);
}

export interface JobProgress__Output {
  'jobId': (string);
  'phase': (string);
  'filesDone': (number);
  'filesTotal': (number);
  'bytesDone': (number);
  'bytesTotal': (number);
  'bytesPerSecond': (number);
}
