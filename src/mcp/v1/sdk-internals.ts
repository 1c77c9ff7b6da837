// Every reliance of mcp-async/mcp/v1 on what @modelcontextprotocol/sdk 1.x does not make public, in
// one place. Each is checked when it is first needed, with an error that names it, and
// test/mcp/v1-internals.test.ts fails loudly if an SDK version changes one of them under us.

import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolRequest, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '../tool-results.js';
import type { ToolExtra } from './register.js';

/**
 * The capabilities the server was created with. `Server` keeps them behind a method its types
 * mark private (it has been there since 1.0); without it, tasks stay off.
 */
export function serverCapabilities(server: McpServer): ServerCapabilities | undefined {
  const protocol = server.server as unknown as { getCapabilities?: () => ServerCapabilities | undefined };
  if (typeof protocol.getCapabilities !== 'function') return undefined;
  return protocol.getCapabilities.call(server.server);
}

/**
 * Whether the server honours `logging/setLevel`: the SDK registers that handler itself, only on a
 * server created with the logging capability, and `assertCanSetRequestHandler` (public, but meant
 * for the SDK's own use) throws once a handler exists.
 */
export function honoursSetLevel(server: McpServer): boolean {
  try {
    server.server.assertCanSetRequestHandler('logging/setLevel');
    return false;
  } catch {
    return true;
  }
}

/** Answers a call that did not ask for a task, within the tool's wait budget. */
export type InlineAnswer = (args: unknown, extra: ToolExtra) => Promise<CallToolResult>;

type PollingInternals = {
  handleAutomaticTaskPolling?: (
    tool: RegisteredTool,
    request: CallToolRequest,
    extra: ToolExtra,
  ) => Promise<unknown>;
  validateToolInput?: (tool: RegisteredTool, args: unknown, name: string) => Promise<unknown>;
};

const inlineAnswers = new WeakMap<McpServer, WeakMap<RegisteredTool, InlineAnswer>>();

/**
 * Makes `server` answer calls to `tool` that carry no `params.task` with `answer` instead of the
 * SDK's polling. The SDK routes such calls through McpServer's private
 * `handleAutomaticTaskPolling(tool, request, extra)`, after its own checks; this replaces it on
 * this one instance, for the tools registered here only, and validates the arguments with the
 * SDK's own (private) `validateToolInput` so that errors read the same. Throws at registration,
 * not at the first call, if this SDK version lacks either method.
 */
export function answerUntaskedCallsInline(
  server: McpServer,
  tool: RegisteredTool,
  answer: InlineAnswer,
): void {
  let answers = inlineAnswers.get(server);
  if (answers === undefined) {
    const internals = server as unknown as PollingInternals;
    const sdkPolling = internals.handleAutomaticTaskPolling;
    const validate = internals.validateToolInput;
    if (typeof sdkPolling !== 'function' || typeof validate !== 'function') {
      throw new Error(
        'This version of @modelcontextprotocol/sdk has no McpServer.handleAutomaticTaskPolling/validateToolInput: ' +
          'mcp-async cannot keep calls without params.task from polling; create the server without the tasks capability',
      );
    }
    const own = new WeakMap<RegisteredTool, InlineAnswer>();
    answers = own;
    inlineAnswers.set(server, own);
    internals.handleAutomaticTaskPolling = async function (this: McpServer, registered, request, extra) {
      const inline = own.get(registered);
      if (inline === undefined) return sdkPolling.call(this, registered, request, extra);
      const args = await validate.call(this, registered, request.params.arguments, request.params.name);
      return inline(args, extra);
    };
  }
  answers.set(tool, answer);
}
