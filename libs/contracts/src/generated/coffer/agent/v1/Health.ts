// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { DiskSpace as _coffer_agent_v1_DiskSpace, DiskSpace__Output as _coffer_agent_v1_DiskSpace__Output } from '../../../coffer/agent/v1/DiskSpace';
import type { ToolVersion as _coffer_agent_v1_ToolVersion, ToolVersion__Output as _coffer_agent_v1_ToolVersion__Output } from '../../../coffer/agent/v1/ToolVersion';
import type { Long } from '@grpc/proto-loader';

export interface Health {
  'hostname'?: (string);
  'os'?: (string);
  'arch'?: (string);
  'agentVersion'?: (string);
  'hostUptimeSeconds'?: (number | string);
  'agentUptimeSeconds'?: (number | string);
  'loadAverage'?: (number | string)[];
  'memoryTotalBytes'?: (number | string | Long);
  'memoryAvailableBytes'?: (number | string | Long);
  'agentRssBytes'?: (number | string | Long);
  'disks'?: (_coffer_agent_v1_DiskSpace)[];
  'tools'?: (_coffer_agent_v1_ToolVersion)[];
}

export interface Health__Output {
  'hostname': (string);
  'os': (string);
  'arch': (string);
  'agentVersion': (string);
  'hostUptimeSeconds': (number);
  'agentUptimeSeconds': (number);
  'loadAverage': (number)[];
  'memoryTotalBytes': (number);
  'memoryAvailableBytes': (number);
  'agentRssBytes': (number);
  'disks': (_coffer_agent_v1_DiskSpace__Output)[];
  'tools': (_coffer_agent_v1_ToolVersion__Output)[];
}
