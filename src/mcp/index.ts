/**
 * mcp-async's MCP glue (`mcp-async/mcp`): the generic `continue_operation`, `cancel_operation` and
 * `list_operations` tools, and long-running tools that run through the core's `Executor`. Built on
 * `@modelcontextprotocol/sdk` 1.x `McpServer` and `zod`.
 *
 * @packageDocumentation
 */
export {
  type AsyncTools,
  type AsyncToolsOptions,
  type LongRunningContext,
  type LongRunningToolConfig,
  type LongRunningToolHandler,
  registerAsyncTools,
  type ToolAnswer,
  type ToolArgs,
} from './async-tools.js';
export {
  ContinuationLostError,
  type ContinuationOptions,
  ContinuationTimeoutError,
  callToolWithContinuation,
} from './client.js';
export { ANONYMOUS_OWNER, defaultOwner, type OwnerResolver, type ToolExtra } from './owner.js';
export type { ProgressForwardingOptions } from './progress-forwarder.js';
export { ExecutorTaskStore, withTasks } from './task-store.js';
export type { TaskPage } from './tasks.js';
export { OPERATION_META_KEY, type RunningState, type ToolNames } from './tool-results.js';
