/**
 * mcp-async/store: what an author of an {@link OperationStore} needs, beside the core. The contract
 * is in the doc comments of `OperationStore`; `MemoryStore` (in `mcp-async`), `SqliteStore`
 * (`mcp-async/sqlite`) and `RedisStore` (`mcp-async/redis`) implement it. A store that writes records
 * as text can use the JSON helpers here, so that the library's own errors come back as their classes.
 *
 * @packageDocumentation
 */
export {
  deserializeError,
  deserializeResult,
  type SerializedResult,
  serializeError,
  serializeResult,
} from './serialization.js';
export type {
  Awaitable,
  InputAnswer,
  ListPosition,
  OperationRecord,
  OperationStore,
  RecordFilter,
  Redelivery,
  StoreChange,
  TerminalUpdate,
} from './store.js';
