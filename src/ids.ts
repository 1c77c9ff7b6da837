import { randomFillSync } from 'node:crypto';

// Operation ids are 128 bits from the OS CSPRNG, written as 22 URL-safe base64 characters. Random
// bytes are drawn 4 KiB at a time because one randomFillSync call per id costs about four times
// as much as slicing a pooled buffer; every byte is still used once only.
const ID_BYTES = 16;
const POOL_BYTES = ID_BYTES * 256;

const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** A fresh operation id: 128 random bits, URL-safe (`[A-Za-z0-9_-]{22}`). */
export function newOperationId(): string {
  if (offset === POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
