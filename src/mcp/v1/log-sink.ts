// Sends the lifecycle of operations to MCP clients as log messages (notifications/message).
// The executor is shared by every session of a server process, while an McpServer serves one
// session: each sink forwards only the events of owners that made requests through its server,
// so that no session hears of another's operations, and detaches when its server closes.

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { Executor, LogLevel } from '../../index.js';
import { atLeast, checkLogLevel, LIFECYCLE_EVENTS, type LifecycleEvent, logEntryOf } from '../../logging.js';
import type { ToolExtra } from './register.js';
import { honoursSetLevel } from './sdk-internals.js';

const MCP_LEVEL: Record<LogLevel, LoggingLevel> = {
  debug: 'debug',
  info: 'info',
  warn: 'warning',
  error: 'error',
};

export class LogSink {
  readonly #owners = new Set<string>();
  #sessionId: string | undefined = undefined;

  constructor(server: McpServer, executor: Executor, option: true | { level?: LogLevel | undefined }) {
    const threshold = checkLogLevel('logging.level', option === true ? 'info' : (option.level ?? 'info'));
    // The SDK keeps the client's logging/setLevel itself, but only on a server created with the
    // logging capability; without it, levels could not be honoured.
    if (!honoursSetLevel(server)) {
      throw new Error(
        'registerAsyncTools({ logging }) needs an McpServer created with { capabilities: { logging: {} } }, ' +
          'so that clients can choose their level with logging/setLevel',
      );
    }
    const detach = LIFECYCLE_EVENTS.map((event: LifecycleEvent) =>
      executor.on(event, (payload) => {
        if (!this.#owners.has(payload.operation.owner as string)) return;
        const entry = logEntryOf(event, payload);
        if (!atLeast(entry.level, threshold)) return;
        const { operation } = entry;
        server
          .sendLoggingMessage(
            {
              level: MCP_LEVEL[entry.level],
              logger: 'mcp-async',
              data: {
                event,
                message: entry.message,
                operation_id: operation.id,
                operation_type: operation.type,
                status: operation.status,
              },
            },
            this.#sessionId,
          )
          .catch(() => undefined); // the client went away: nothing to tell
      }),
    );
    const previous = server.server.onclose;
    server.server.onclose = () => {
      previous?.();
      for (const off of detach) off();
    };
  }

  /**
   * Notes an owner (and the session) making a request through this server; answers the owner. An
   * unidentified caller (no owner) hears nothing: the unowned operations are every stranger's.
   */
  seen(extra: ToolExtra, owner: string | undefined): string | undefined {
    if (owner !== undefined) this.#owners.add(owner);
    if (extra.sessionId !== undefined) this.#sessionId = extra.sessionId;
    return owner;
  }
}
