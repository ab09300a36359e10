// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { FilesSource as _coffer_agent_v1_FilesSource, FilesSource__Output as _coffer_agent_v1_FilesSource__Output } from '../../../coffer/agent/v1/FilesSource';
import type { CommandSource as _coffer_agent_v1_CommandSource, CommandSource__Output as _coffer_agent_v1_CommandSource__Output } from '../../../coffer/agent/v1/CommandSource';

export interface Source {
  'files'?: (_coffer_agent_v1_FilesSource | null);
  'command'?: (_coffer_agent_v1_CommandSource | null);
  'kind'?: "files"|"command";
}

export interface Source__Output {
  'files'?: (_coffer_agent_v1_FilesSource__Output | null);
  'command'?: (_coffer_agent_v1_CommandSource__Output | null);
  'kind'?: "files"|"command";
}
