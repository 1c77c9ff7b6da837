// The opaque cursor of list(): where the previous page ended, as (startedAt, id), the order pages
// go in (newest first, ties broken by id). The executor makes and reads cursors; stores only ever
// see the decoded position.

import type { ListPosition } from './stores/store.js';
import { describeValue, isOperationId } from './validate.js';

/** A cursor is short; anything longer was not made here (and is not echoed back whole). */
const MAX_CURSOR_LENGTH = 512;

/** The cursor that resumes a listing after `position`. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.startedAt, position.id])).toString('base64url');
}

/** The position a cursor names; a TypeError naming `cursor` for anything this library did not make. */
export function decodeCursor(cursor: unknown): ListPosition {
  if (typeof cursor === 'string' && cursor.length <= MAX_CURSOR_LENGTH && /^[A-Za-z0-9_-]*$/.test(cursor)) {
    try {
      const [startedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
      if (Number.isSafeInteger(startedAt) && isOperationId(id)) {
        return { startedAt: startedAt as number, id };
      }
    } catch {
      // not JSON: refused below
    }
  }
  throw new TypeError(
    `Expected \`cursor\` to be the nextCursor of an earlier page, got ${describeValue(cursor)}`,
  );
}
