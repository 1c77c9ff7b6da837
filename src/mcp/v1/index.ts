/**
 * mcp-async on `@modelcontextprotocol/sdk` 1.x (`mcp-async/mcp/v1`), the SDK line in maintenance:
 * the generic `continue_operation`, `cancel_operation` and `list_operations` tools, long-running
 * tools that run through the core's `Executor`, native tasks of spec revision 2025-11-25, and the
 * client helper. The same tools on SDK v2 are `mcp-async/mcp`.
 *
 * @packageDocumentation
 */
export {
  ContinuationLostError,
  ContinuationTimeoutError,
  type FollowOptions,
  type ProgressUpdate,
} from '../follow.js';
export type { ElicitParams, ElicitResult, InputRequest } from '../input-requests.js';
export type { LongRunningContext, LongRunningOptions, ToolAnswer } from '../long-running.js';
export type { OperationToolsOptions } from '../operation-tools.js';
export { STDIO_OWNER } from '../owner.js';
export type { ProgressForwardingOptions } from '../progress-forwarder.js';
export {
  type CallToolResult,
  type ContentBlock,
  OPERATION_META_KEY,
  type RunningState,
  type ToolNames,
} from '../tool-results.js';
export { type ContinuationOptions, callToolWithContinuation } from './client.js';
export {
  type AsyncTools,
  type AsyncToolsOptions,
  defaultOwner,
  type LongRunningToolConfig,
  type LongRunningToolHandler,
  type OwnerResolver,
  registerAsyncTools,
  type ToolArgs,
  type ToolExtra,
} from './register.js';
export { ExecutorTaskStore, withTasks } from './task-store.js';
export type { TaskPage } from './tasks.js';
