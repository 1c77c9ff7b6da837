/**
 * mcp-async/workers: CPU-bound operations in worker threads (through Piscina, an optional peer
 * dependency), so that a busy computation does not stop the server from answering.
 *
 * @packageDocumentation
 */
export { type WorkerContext, WorkerPool, type WorkerPoolOptions, type WorkerTask } from './worker-pool.js';
