// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { JobOutcome as _coffer_agent_v1_JobOutcome, JobOutcome__Output as _coffer_agent_v1_JobOutcome__Output } from '../../../coffer/agent/v1/JobOutcome';
import type { SnapshotSummary as _coffer_agent_v1_SnapshotSummary, SnapshotSummary__Output as _coffer_agent_v1_SnapshotSummary__Output } from '../../../coffer/agent/v1/SnapshotSummary';
import type { Long } from '@grpc/proto-loader';

export interface JobFinished {
  'jobId'?: (string);
  'outcome'?: (_coffer_agent_v1_JobOutcome);
  'errorMessage'?: (string);
  'log'?: (string)[];
  'startedAtUnixMs'?: (number | string | Long);
  'finishedAtUnixMs'?: (number | string | Long);
  'snapshots'?: (_coffer_agent_v1_SnapshotSummary)[];
  'forgottenSnapshotIds'?: (string)[];
  'restoredFiles'?: (number | string | Long);
  'restoredBytes'?: (number | string | Long);
}

export interface JobFinished__Output {
  'jobId': (string);
  'outcome': (_coffer_agent_v1_JobOutcome__Output);
  'errorMessage': (string);
  'log': (string)[];
  'startedAtUnixMs': (number);
  'finishedAtUnixMs': (number);
  'snapshots': (_coffer_agent_v1_SnapshotSummary__Output)[];
  'forgottenSnapshotIds': (string)[];
  'restoredFiles': (number);
  'restoredBytes': (number);
}
