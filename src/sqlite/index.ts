/**
 * mcp-async/sqlite: a durable store for one process, on better-sqlite3 (an optional peer
 * dependency). Finished results survive a restart; operations a crash interrupted are reported as
 * failed, never left "running".
 *
 * @packageDocumentation
 */
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
