// The official tasks-extension client (@modelcontextprotocol/ext-tasks) on a real v2 Client: its
// requests go out raw on the client's own connection (the Client itself refuses task results).
import type { Client } from '@modelcontextprotocol/client';
import { createTaskSessionFromClient, type TaskEnabledSession } from '@modelcontextprotocol/ext-tasks/client';
import { type RawRequest, RawRequests } from '../../src/mcp/v2/raw-requests.js';

export const CLIENT_INFO = { name: 'ext-tasks-test', version: '0' };

/** An ext-tasks session on `client`, its requests sent raw on the client's own connection. */
export function taskSession(client: Client, endpointId = 'mcp-async-test'): TaskEnabledSession {
  const raw = RawRequests.of(client);
  return createTaskSessionFromClient(client, {
    endpointId,
    rawDispatch: (request, options) =>
      raw.send(request as unknown as RawRequest, {
        signal: options?.signal,
        headers: options?.context?.headers,
      }) as never,
    v2RequestFraming: { protocolVersion: '2026-07-28', clientInfo: CLIENT_INFO, clientCapabilities: {} },
  });
}
