// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { FilesSource as _coffer_agent_v1_FilesSource, FilesSource__Output as _coffer_agent_v1_FilesSource__Output } from '../../../coffer/agent/v1/FilesSource';
import type { CommandSource as _coffer_agent_v1_CommandSource, CommandSource__Output as _coffer_agent_v1_CommandSource__Output } from '../../../coffer/agent/v1/CommandSource';
import type { PostgresSource as _coffer_agent_v1_PostgresSource, PostgresSource__Output as _coffer_agent_v1_PostgresSource__Output } from '../../../coffer/agent/v1/PostgresSource';
import type { MysqlSource as _coffer_agent_v1_MysqlSource, MysqlSource__Output as _coffer_agent_v1_MysqlSource__Output } from '../../../coffer/agent/v1/MysqlSource';
import type { RedisSource as _coffer_agent_v1_RedisSource, RedisSource__Output as _coffer_agent_v1_RedisSource__Output } from '../../../coffer/agent/v1/RedisSource';

export interface Source {
  'files'?: (_coffer_agent_v1_FilesSource | null);
  'command'?: (_coffer_agent_v1_CommandSource | null);
  'postgres'?: (_coffer_agent_v1_PostgresSource | null);
  'mysql'?: (_coffer_agent_v1_MysqlSource | null);
  'redis'?: (_coffer_agent_v1_RedisSource | null);
  'kind'?: "files"|"command"|"postgres"|"mysql"|"redis";
}

export interface Source__Output {
  'files'?: (_coffer_agent_v1_FilesSource__Output | null);
  'command'?: (_coffer_agent_v1_CommandSource__Output | null);
  'postgres'?: (_coffer_agent_v1_PostgresSource__Output | null);
  'mysql'?: (_coffer_agent_v1_MysqlSource__Output | null);
  'redis'?: (_coffer_agent_v1_RedisSource__Output | null);
  'kind'?: "files"|"command"|"postgres"|"mysql"|"redis";
}
