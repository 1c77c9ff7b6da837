// Who owns the operations a request starts and may see. The same rule on both SDK lines and in both
// protocol eras; each adapter says what its request tells of the caller.

/** What a request tells of who sent it, as the default owner goes by it. */
export interface Caller {
  /** The authenticated client (`authInfo.clientId`), when the server authenticates requests. */
  readonly clientId?: string | undefined;
  /** The transport session: a 2025-era stateful HTTP session (2026-07-28 has none). */
  readonly sessionId?: string | undefined;
  /** Whether the request came over stdio (or any transport without HTTP): a local, single client. */
  readonly local?: boolean | undefined;
}

/**
 * The owner of everything started over stdio without authentication: the one local client a stdio
 * server has (and has again after a restart, on a durable store).
 */
export const STDIO_OWNER = 'stdio';

/**
 * The default owner: the authenticated client when there is one, else the session, else, over
 * stdio, the local client ({@link STDIO_OWNER}); with none of them (unauthenticated HTTP without a
 * session, as every 2026-07-28 request is) `undefined`: the operation id, 128 random bits, is then
 * the only capability. Whoever holds it may continue or cancel it, and nothing is ever listed to
 * such a caller, since every stranger's unowned operations would be listed together. The prefixes
 * keep a client id and a session id that happen to be equal from naming the same owner.
 */
export function ownerOfCaller(caller: Caller): string | undefined {
  const { clientId, sessionId, local } = caller;
  if (typeof clientId === 'string' && clientId.length > 0) return `client:${clientId}`;
  if (typeof sessionId === 'string' && sessionId.length > 0) return `session:${sessionId}`;
  return local === true ? STDIO_OWNER : undefined;
}
