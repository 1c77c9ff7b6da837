import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';

/** What an MCP tool handler receives besides its arguments. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Decides who owns the operations a request starts and may see. */
export type OwnerResolver = (extra: ToolExtra) => string;

/** The owner of requests that carry neither an authenticated client nor a session. */
export const ANONYMOUS_OWNER = 'anonymous';

/**
 * The default owner: the authenticated client (`authInfo.clientId`) when there is one, else the
 * transport session, else {@link ANONYMOUS_OWNER}. The prefixes keep a client id and a session id
 * that happen to be equal from naming the same owner.
 */
export function defaultOwner(extra: ToolExtra): string {
  const clientId = extra.authInfo?.clientId;
  if (typeof clientId === 'string' && clientId.length > 0) return `client:${clientId}`;
  return sessionOwner(extra.sessionId);
}

/** The owner of a request that carries no authenticated client: its session, else anonymous. */
export function sessionOwner(sessionId: string | undefined): string {
  return typeof sessionId === 'string' && sessionId.length > 0 ? `session:${sessionId}` : ANONYMOUS_OWNER;
}
