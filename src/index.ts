/**
 * mcp-async core: run work longer than any client's timeout. This entry point never imports the
 * MCP SDK.
 *
 * @packageDocumentation
 */
export {
  ExecutorStoppedError,
  InputUnavailableError,
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
  EventHandler,
  ExecutorEvents,
  ListenerErrorEvent,
  OperationEvent,
  ProgressEvent,
  StoreErrorEvent,
} from './events.js';
export { Executor } from './executor.js';
export { type AttachLoggerOptions, attachLogger, type Logger, type LogLevel } from './logging.js';
export type {
  CancelOptions,
  ContinueOptions,
  ExecuteOptions,
  ExecutorOptions,
  GetOptions,
  ListOptions,
  ProvideInputOptions,
  RedeliverOptions,
  ResolvedExecutorOptions,
  StopOptions,
} from './options.js';
export type { ProgressReporter } from './progress.js';
export { MemoryStore } from './stores/memory.js';
export type { OperationStore } from './stores/store.js';
export type {
  CancelledResult,
  CancelOutcome,
  CompletedResult,
  FailedResult,
  InputOptions,
  JobFunction,
  OperationContext,
  OperationFunction,
  OperationPage,
  OperationResult,
  OperationSnapshot,
  OperationStatus,
  Progress,
  RunningResult,
  TerminalStatus,
} from './types.js';
