// The official tasks-extension client (@modelcontextprotocol/ext-tasks) on a real v2 Client: its
// requests go out raw on the client's own connection (the Client itself refuses task results).
import type { Client } from '@modelcontextprotocol/client';
import {
  createTaskSessionFromClient,
  type TaskEnabledSession,
  type WithTasksOptions,
} from '@modelcontextprotocol/ext-tasks/client';
import type { JsonValue } from '@modelcontextprotocol/ext-tasks/core';
import { type RawRequest, RawRequests } from '../../src/mcp/v2/raw-requests.js';

export const CLIENT_INFO = { name: 'ext-tasks-test', version: '0' };

/** What a session declares and does beyond the defaults. */
export interface TaskSessionOptions {
  /** The client capabilities its requests declare (the extension is added by ext-tasks). */
  clientCapabilities?: Record<string, JsonValue>;
  /** Answers the server's input requests (`input_required`). */
  onInputRequest?: WithTasksOptions['onInputRequest'];
}

/** An ext-tasks session on `client`, its requests sent raw on the client's own connection. */
export function taskSession(
  client: Client,
  endpointId = 'mcp-async-test',
  options: TaskSessionOptions = {},
): TaskEnabledSession {
  const raw = RawRequests.of(client);
  return createTaskSessionFromClient(client, {
    endpointId,
    rawDispatch: (request, dispatch) =>
      raw.send(request as unknown as RawRequest, {
        signal: dispatch?.signal,
        headers: dispatch?.context?.headers,
      }) as never,
    v2RequestFraming: {
      protocolVersion: '2026-07-28',
      clientInfo: CLIENT_INFO,
      clientCapabilities: options.clientCapabilities ?? {},
    },
    ...(options.onInputRequest === undefined ? {} : { onInputRequest: options.onInputRequest }),
  });
}
