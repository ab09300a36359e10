import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentGatewayClient as _coffer_agent_v1_AgentGatewayClient, AgentGatewayDefinition as _coffer_agent_v1_AgentGatewayDefinition } from './coffer/agent/v1/AgentGateway';
import type { AgentMessage as _coffer_agent_v1_AgentMessage, AgentMessage__Output as _coffer_agent_v1_AgentMessage__Output } from './coffer/agent/v1/AgentMessage';
import type { BackupSpec as _coffer_agent_v1_BackupSpec, BackupSpec__Output as _coffer_agent_v1_BackupSpec__Output } from './coffer/agent/v1/BackupSpec';
import type { CancelJob as _coffer_agent_v1_CancelJob, CancelJob__Output as _coffer_agent_v1_CancelJob__Output } from './coffer/agent/v1/CancelJob';
import type { Capabilities as _coffer_agent_v1_Capabilities, Capabilities__Output as _coffer_agent_v1_Capabilities__Output } from './coffer/agent/v1/Capabilities';
import type { CheckSpec as _coffer_agent_v1_CheckSpec, CheckSpec__Output as _coffer_agent_v1_CheckSpec__Output } from './coffer/agent/v1/CheckSpec';
import type { CommandSource as _coffer_agent_v1_CommandSource, CommandSource__Output as _coffer_agent_v1_CommandSource__Output } from './coffer/agent/v1/CommandSource';
import type { ControllerMessage as _coffer_agent_v1_ControllerMessage, ControllerMessage__Output as _coffer_agent_v1_ControllerMessage__Output } from './coffer/agent/v1/ControllerMessage';
import type { DatabaseTarget as _coffer_agent_v1_DatabaseTarget, DatabaseTarget__Output as _coffer_agent_v1_DatabaseTarget__Output } from './coffer/agent/v1/DatabaseTarget';
import type { DiskSpace as _coffer_agent_v1_DiskSpace, DiskSpace__Output as _coffer_agent_v1_DiskSpace__Output } from './coffer/agent/v1/DiskSpace';
import type { EnrollRequest as _coffer_agent_v1_EnrollRequest, EnrollRequest__Output as _coffer_agent_v1_EnrollRequest__Output } from './coffer/agent/v1/EnrollRequest';
import type { EnrollResponse as _coffer_agent_v1_EnrollResponse, EnrollResponse__Output as _coffer_agent_v1_EnrollResponse__Output } from './coffer/agent/v1/EnrollResponse';
import type { FilesSource as _coffer_agent_v1_FilesSource, FilesSource__Output as _coffer_agent_v1_FilesSource__Output } from './coffer/agent/v1/FilesSource';
import type { ForgetSpec as _coffer_agent_v1_ForgetSpec, ForgetSpec__Output as _coffer_agent_v1_ForgetSpec__Output } from './coffer/agent/v1/ForgetSpec';
import type { Health as _coffer_agent_v1_Health, Health__Output as _coffer_agent_v1_Health__Output } from './coffer/agent/v1/Health';
import type { Heartbeat as _coffer_agent_v1_Heartbeat, Heartbeat__Output as _coffer_agent_v1_Heartbeat__Output } from './coffer/agent/v1/Heartbeat';
import type { Hello as _coffer_agent_v1_Hello, Hello__Output as _coffer_agent_v1_Hello__Output } from './coffer/agent/v1/Hello';
import type { Hook as _coffer_agent_v1_Hook, Hook__Output as _coffer_agent_v1_Hook__Output } from './coffer/agent/v1/Hook';
import type { Hooks as _coffer_agent_v1_Hooks, Hooks__Output as _coffer_agent_v1_Hooks__Output } from './coffer/agent/v1/Hooks';
import type { JobAccepted as _coffer_agent_v1_JobAccepted, JobAccepted__Output as _coffer_agent_v1_JobAccepted__Output } from './coffer/agent/v1/JobAccepted';
import type { JobFinished as _coffer_agent_v1_JobFinished, JobFinished__Output as _coffer_agent_v1_JobFinished__Output } from './coffer/agent/v1/JobFinished';
import type { JobFinishedAck as _coffer_agent_v1_JobFinishedAck, JobFinishedAck__Output as _coffer_agent_v1_JobFinishedAck__Output } from './coffer/agent/v1/JobFinishedAck';
import type { JobProgress as _coffer_agent_v1_JobProgress, JobProgress__Output as _coffer_agent_v1_JobProgress__Output } from './coffer/agent/v1/JobProgress';
import type { MysqlSource as _coffer_agent_v1_MysqlSource, MysqlSource__Output as _coffer_agent_v1_MysqlSource__Output } from './coffer/agent/v1/MysqlSource';
import type { MysqlTarget as _coffer_agent_v1_MysqlTarget, MysqlTarget__Output as _coffer_agent_v1_MysqlTarget__Output } from './coffer/agent/v1/MysqlTarget';
import type { Ping as _coffer_agent_v1_Ping, Ping__Output as _coffer_agent_v1_Ping__Output } from './coffer/agent/v1/Ping';
import type { Pong as _coffer_agent_v1_Pong, Pong__Output as _coffer_agent_v1_Pong__Output } from './coffer/agent/v1/Pong';
import type { PostgresSource as _coffer_agent_v1_PostgresSource, PostgresSource__Output as _coffer_agent_v1_PostgresSource__Output } from './coffer/agent/v1/PostgresSource';
import type { PostgresTarget as _coffer_agent_v1_PostgresTarget, PostgresTarget__Output as _coffer_agent_v1_PostgresTarget__Output } from './coffer/agent/v1/PostgresTarget';
import type { PruneSpec as _coffer_agent_v1_PruneSpec, PruneSpec__Output as _coffer_agent_v1_PruneSpec__Output } from './coffer/agent/v1/PruneSpec';
import type { RedisSource as _coffer_agent_v1_RedisSource, RedisSource__Output as _coffer_agent_v1_RedisSource__Output } from './coffer/agent/v1/RedisSource';
import type { RedisTarget as _coffer_agent_v1_RedisTarget, RedisTarget__Output as _coffer_agent_v1_RedisTarget__Output } from './coffer/agent/v1/RedisTarget';
import type { RepositoryAccess as _coffer_agent_v1_RepositoryAccess, RepositoryAccess__Output as _coffer_agent_v1_RepositoryAccess__Output } from './coffer/agent/v1/RepositoryAccess';
import type { RestoreSpec as _coffer_agent_v1_RestoreSpec, RestoreSpec__Output as _coffer_agent_v1_RestoreSpec__Output } from './coffer/agent/v1/RestoreSpec';
import type { Retention as _coffer_agent_v1_Retention, Retention__Output as _coffer_agent_v1_Retention__Output } from './coffer/agent/v1/Retention';
import type { RunJob as _coffer_agent_v1_RunJob, RunJob__Output as _coffer_agent_v1_RunJob__Output } from './coffer/agent/v1/RunJob';
import type { SnapshotSummary as _coffer_agent_v1_SnapshotSummary, SnapshotSummary__Output as _coffer_agent_v1_SnapshotSummary__Output } from './coffer/agent/v1/SnapshotSummary';
import type { Source as _coffer_agent_v1_Source, Source__Output as _coffer_agent_v1_Source__Output } from './coffer/agent/v1/Source';
import type { ToolVersion as _coffer_agent_v1_ToolVersion, ToolVersion__Output as _coffer_agent_v1_ToolVersion__Output } from './coffer/agent/v1/ToolVersion';
import type { VerifySpec as _coffer_agent_v1_VerifySpec, VerifySpec__Output as _coffer_agent_v1_VerifySpec__Output } from './coffer/agent/v1/VerifySpec';
import type { Welcome as _coffer_agent_v1_Welcome, Welcome__Output as _coffer_agent_v1_Welcome__Output } from './coffer/agent/v1/Welcome';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  coffer: {
    agent: {
      v1: {
        AgentGateway: SubtypeConstructor<typeof grpc.Client, _coffer_agent_v1_AgentGatewayClient> & { service: _coffer_agent_v1_AgentGatewayDefinition }
        AgentMessage: MessageTypeDefinition<_coffer_agent_v1_AgentMessage, _coffer_agent_v1_AgentMessage__Output>
        BackupSpec: MessageTypeDefinition<_coffer_agent_v1_BackupSpec, _coffer_agent_v1_BackupSpec__Output>
        CancelJob: MessageTypeDefinition<_coffer_agent_v1_CancelJob, _coffer_agent_v1_CancelJob__Output>
        Capabilities: MessageTypeDefinition<_coffer_agent_v1_Capabilities, _coffer_agent_v1_Capabilities__Output>
        CheckSpec: MessageTypeDefinition<_coffer_agent_v1_CheckSpec, _coffer_agent_v1_CheckSpec__Output>
        CommandSource: MessageTypeDefinition<_coffer_agent_v1_CommandSource, _coffer_agent_v1_CommandSource__Output>
        ControllerMessage: MessageTypeDefinition<_coffer_agent_v1_ControllerMessage, _coffer_agent_v1_ControllerMessage__Output>
        DatabaseTarget: MessageTypeDefinition<_coffer_agent_v1_DatabaseTarget, _coffer_agent_v1_DatabaseTarget__Output>
        DiskSpace: MessageTypeDefinition<_coffer_agent_v1_DiskSpace, _coffer_agent_v1_DiskSpace__Output>
        EnrollRequest: MessageTypeDefinition<_coffer_agent_v1_EnrollRequest, _coffer_agent_v1_EnrollRequest__Output>
        EnrollResponse: MessageTypeDefinition<_coffer_agent_v1_EnrollResponse, _coffer_agent_v1_EnrollResponse__Output>
        FilesSource: MessageTypeDefinition<_coffer_agent_v1_FilesSource, _coffer_agent_v1_FilesSource__Output>
        ForgetSpec: MessageTypeDefinition<_coffer_agent_v1_ForgetSpec, _coffer_agent_v1_ForgetSpec__Output>
        Health: MessageTypeDefinition<_coffer_agent_v1_Health, _coffer_agent_v1_Health__Output>
        Heartbeat: MessageTypeDefinition<_coffer_agent_v1_Heartbeat, _coffer_agent_v1_Heartbeat__Output>
        Hello: MessageTypeDefinition<_coffer_agent_v1_Hello, _coffer_agent_v1_Hello__Output>
        Hook: MessageTypeDefinition<_coffer_agent_v1_Hook, _coffer_agent_v1_Hook__Output>
        HookFailureMode: EnumTypeDefinition
        Hooks: MessageTypeDefinition<_coffer_agent_v1_Hooks, _coffer_agent_v1_Hooks__Output>
        JobAccepted: MessageTypeDefinition<_coffer_agent_v1_JobAccepted, _coffer_agent_v1_JobAccepted__Output>
        JobFinished: MessageTypeDefinition<_coffer_agent_v1_JobFinished, _coffer_agent_v1_JobFinished__Output>
        JobFinishedAck: MessageTypeDefinition<_coffer_agent_v1_JobFinishedAck, _coffer_agent_v1_JobFinishedAck__Output>
        JobKind: EnumTypeDefinition
        JobOutcome: EnumTypeDefinition
        JobProgress: MessageTypeDefinition<_coffer_agent_v1_JobProgress, _coffer_agent_v1_JobProgress__Output>
        MysqlSource: MessageTypeDefinition<_coffer_agent_v1_MysqlSource, _coffer_agent_v1_MysqlSource__Output>
        MysqlTarget: MessageTypeDefinition<_coffer_agent_v1_MysqlTarget, _coffer_agent_v1_MysqlTarget__Output>
        Ping: MessageTypeDefinition<_coffer_agent_v1_Ping, _coffer_agent_v1_Ping__Output>
        Pong: MessageTypeDefinition<_coffer_agent_v1_Pong, _coffer_agent_v1_Pong__Output>
        PostgresSource: MessageTypeDefinition<_coffer_agent_v1_PostgresSource, _coffer_agent_v1_PostgresSource__Output>
        PostgresTarget: MessageTypeDefinition<_coffer_agent_v1_PostgresTarget, _coffer_agent_v1_PostgresTarget__Output>
        PruneSpec: MessageTypeDefinition<_coffer_agent_v1_PruneSpec, _coffer_agent_v1_PruneSpec__Output>
        RedisSource: MessageTypeDefinition<_coffer_agent_v1_RedisSource, _coffer_agent_v1_RedisSource__Output>
        RedisTarget: MessageTypeDefinition<_coffer_agent_v1_RedisTarget, _coffer_agent_v1_RedisTarget__Output>
        RepositoryAccess: MessageTypeDefinition<_coffer_agent_v1_RepositoryAccess, _coffer_agent_v1_RepositoryAccess__Output>
        RestoreSpec: MessageTypeDefinition<_coffer_agent_v1_RestoreSpec, _coffer_agent_v1_RestoreSpec__Output>
        Retention: MessageTypeDefinition<_coffer_agent_v1_Retention, _coffer_agent_v1_Retention__Output>
        RunJob: MessageTypeDefinition<_coffer_agent_v1_RunJob, _coffer_agent_v1_RunJob__Output>
        SnapshotSummary: MessageTypeDefinition<_coffer_agent_v1_SnapshotSummary, _coffer_agent_v1_SnapshotSummary__Output>
        Source: MessageTypeDefinition<_coffer_agent_v1_Source, _coffer_agent_v1_Source__Output>
        ToolVersion: MessageTypeDefinition<_coffer_agent_v1_ToolVersion, _coffer_agent_v1_ToolVersion__Output>
        VerifySpec: MessageTypeDefinition<_coffer_agent_v1_VerifySpec, _coffer_agent_v1_VerifySpec__Output>
        Welcome: MessageTypeDefinition<_coffer_agent_v1_Welcome, _coffer_agent_v1_Welcome__Output>
      }
    }
  }
}

