/**
 * mcp-async on the current MCP SDK line (`mcp-async/mcp`): `@modelcontextprotocol/server` 2.x, in
 * both protocol eras (2025 "legacy", 2026-07-28 "modern"). The generic `continue_operation`,
 * `cancel_operation` and `list_operations` tools, long-running tools that run through the core's
 * `Executor`, a factory for `serveStdio` and `createMcpHandler`, and the client helper for
 * `@modelcontextprotocol/client`. The same tools on SDK 1.x are `mcp-async/mcp/v1`.
 *
 * @packageDocumentation
 */

export { TASKS_EXTENSION_ID } from './extension-tasks.js';
export {
  ContinuationLostError,
  ContinuationTimeoutError,
  type FollowOptions,
  type ProgressUpdate,
} from './follow.js';
export type { ElicitParams, ElicitResult, InputRequest } from './input-requests.js';
export type { LongRunningContext, LongRunningOptions, ToolAnswer } from './long-running.js';
export type { OperationToolsOptions } from './operation-tools.js';
export { STDIO_OWNER } from './owner.js';
export type { ProgressForwardingOptions } from './progress-forwarder.js';
export {
  type CallToolResult,
  type ContentBlock,
  OPERATION_META_KEY,
  type RunningState,
  type ToolNames,
} from './tool-results.js';
export { type ContinuationOptions, callToolWithContinuation } from './v2/client.js';
export {
  type AsyncTools,
  type AsyncToolsOptions,
  defaultOwner,
  type LongRunningToolConfig,
  type LongRunningToolHandler,
  type OwnerResolver,
  registerAsyncTools,
  serverFactory,
  type ToolArgs,
} from './v2/register.js';
export {
  type FetchHandler,
  taskNotificationsTransport,
  withTaskNotifications,
} from './v2/tasks-extension.js';
