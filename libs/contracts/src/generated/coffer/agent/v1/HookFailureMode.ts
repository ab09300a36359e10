// Original file: proto/coffer/agent/v1/agent_gateway.proto

export const HookFailureMode = {
  HOOK_FAILURE_MODE_UNSPECIFIED: 'HOOK_FAILURE_MODE_UNSPECIFIED',
  HOOK_FAILURE_MODE_FAIL: 'HOOK_FAILURE_MODE_FAIL',
  HOOK_FAILURE_MODE_CONTINUE: 'HOOK_FAILURE_MODE_CONTINUE',
} as const;

export type HookFailureMode =
  | 'HOOK_FAILURE_MODE_UNSPECIFIED'
  | 0
  | 'HOOK_FAILURE_MODE_FAIL'
  | 1
  | 'HOOK_FAILURE_MODE_CONTINUE'
  | 2

export type HookFailureMode__Output = typeof HookFailureMode[keyof typeof HookFailureMode]
