/**
 * mcp-async/redis: a store shared by several server replicas through Redis, on node-redis
 * (`@redis/client`, an optional peer dependency).
 *
 * @packageDocumentation
 */
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
