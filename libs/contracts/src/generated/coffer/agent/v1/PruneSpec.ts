// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface PruneSpec {
}

export interface PruneSpec__Output {
}
