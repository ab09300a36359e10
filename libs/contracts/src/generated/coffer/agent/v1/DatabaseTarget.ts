// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { PostgresTarget as _coffer_agent_v1_PostgresTarget, PostgresTarget__Output as _coffer_agent_v1_PostgresTarget__Output } from '../../../coffer/agent/v1/PostgresTarget';
import type { MysqlTarget as _coffer_agent_v1_MysqlTarget, MysqlTarget__Output as _coffer_agent_v1_MysqlTarget__Output } from '../../../coffer/agent/v1/MysqlTarget';
import type { RedisTarget as _coffer_agent_v1_RedisTarget, RedisTarget__Output as _coffer_agent_v1_RedisTarget__Output } from '../../../coffer/agent/v1/RedisTarget';

export interface DatabaseTarget {
  'postgres'?: (_coffer_agent_v1_PostgresTarget | null);
  'mysql'?: (_coffer_agent_v1_MysqlTarget | null);
  'redis'?: (_coffer_agent_v1_RedisTarget | null);
  'kind'?: "postgres"|"mysql"|"redis";
}

export interface DatabaseTarget__Output {
  'postgres'?: (_coffer_agent_v1_PostgresTarget__Output | null);
  'mysql'?: (_coffer_agent_v1_MysqlTarget__Output | null);
  'redis'?: (_coffer_agent_v1_RedisTarget__Output | null);
  'kind'?: "postgres"|"mysql"|"redis";
}
