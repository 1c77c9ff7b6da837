/**
 * mcp-async core: run work longer than any client's timeout. This entry point never imports the
 * MCP SDK.
 *
 * @packageDocumentation
 */
export {
  ExecutorStoppedError,
  McpAsyncError,
  type McpAsyncErrorCode,
  NonErrorThrownError,
  OperationCancelledError,
  OperationInterruptedError,
  OperationLifetimeError,
  OperationNotFoundError,
  ReplicaLostError,
  ResultNotStorableError,
  type StoreAction,
  StoreError,
  TooManyOperationsError,
  TooManyWaitersError,
} from './errors.js';
export type { DurationEstimate } from './estimates.js';
export type {
  CompletedEvent,
  ErrorEvent,
  ExecutorEvents,
  ListenerErrorEvent,
  OperationEvent,
  ProgressEvent,
  StoreErrorEvent,
} from './events.js';
export { type EventHandler, Executor } from './executor.js';
export {
  type AttachLoggerOptions,
  atLeast,
  attachLogger,
  LIFECYCLE_EVENTS,
  type LifecycleEvent,
  type LogEntry,
  type Logger,
  type LogLevel,
  logEntryOf,
} from './logging.js';
export {
  type CancelOptions,
  type ContinueOptions,
  DEFAULT_EXECUTOR_OPTIONS,
  DEFAULT_LIST_LIMIT,
  type ExecuteOptions,
  type ExecutorOptions,
  type ListOptions,
  type OwnerOptions,
  type ResolvedExecutorOptions,
} from './options.js';
export type { ProgressReporter } from './progress.js';
export { MemoryStore } from './stores/memory.js';
export {
  answerOwnUpdate,
  deserializeError,
  deserializeResult,
  type SerializedResult,
  type SerializedUpdate,
  serializeError,
  serializeResult,
  serializeUpdate,
} from './stores/serialization.js';
export type {
  Awaitable,
  OperationRecord,
  OperationStore,
  RecordFilter,
  StoreChange,
  TerminalUpdate,
} from './stores/store.js';
export type {
  CancelledResult,
  CompletedResult,
  FailedResult,
  OperationContext,
  OperationFunction,
  OperationResult,
  OperationSnapshot,
  OperationStatus,
  Progress,
  RunningResult,
  TerminalStatus,
} from './types.js';
