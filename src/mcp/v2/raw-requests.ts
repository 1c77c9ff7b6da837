// JSON-RPC requests sent on a connected SDK v2 Client's own transport, their answers taken as they
// come. The Client cannot carry the tasks extension: on 2026-07-28 it refuses any result whose
// `resultType` is not "complete" or "input_required" (a task is "task"), before any schema. So
// tools/call and tasks/* for the extension go out here, beside the Client, on the same connection
// (stdio pipe or HTTP endpoint, with its auth and the Mcp-* headers the transport derives from
// the request), under ids of their own that the Client never sees.

import type { Client } from '@modelcontextprotocol/client';
import { SUBSCRIPTION_ID_KEY } from '../task-subscriptions.js';

/** A JSON-RPC error object. */
export interface RawError {
  code: number;
  message: string;
  data?: unknown;
}

/** What a raw request answers: its result or its error, as the server sent them. */
export type RawResponse =
  | { kind: 'result'; result: Record<string, unknown> }
  | { kind: 'error'; error: RawError };

/** A request without its `jsonrpc` and `id`, which the sender adds. */
export interface RawRequest {
  method: string;
  params?: Record<string, unknown> | undefined;
}

type Transport = NonNullable<Client['transport']>;
type OnMessage = NonNullable<Transport['onmessage']>;

const ID_PREFIX = 'mcp-async-raw-';
/** The prefix of the progress tokens of raw requests (see {@link RawRequests.progressToken}). */
const PROGRESS_PREFIX = 'mcp-async-raw-progress-';

/** The reserved `_meta` keys of a 2026-07-28 request: who the client is and what it can do. */
const ENVELOPE_KEYS = [
  'io.modelcontextprotocol/protocolVersion',
  'io.modelcontextprotocol/clientInfo',
  'io.modelcontextprotocol/clientCapabilities',
] as const;

/** A 2026-07-28 request's envelope, as the Client last sent it. */
export type Envelope = Record<(typeof ENVELOPE_KEYS)[number], unknown>;

/** Requests sent beside one Client, on its transport. */
export class RawRequests {
  readonly #transport: Transport;
  readonly #waiting = new Map<string, (response: RawResponse) => void>();
  /** Listeners for the notifications of a listen stream, by its request's id (its subscription id). */
  readonly #streams = new Map<string, (message: Record<string, unknown>) => void>();
  /** Progress listeners by the progressToken of a raw request. */
  readonly #progress = new Map<string, (params: Record<string, unknown>) => void>();
  #envelope: Envelope | undefined;
  #next = 0;

  /** The sender for `client`'s current connection (one per transport: a reconnect gets a new one). */
  static of(client: Client): RawRequests {
    const transport = client.transport;
    if (transport === undefined) throw new Error('The client is not connected');
    let raw = senders.get(transport);
    if (raw === undefined) {
      raw = new RawRequests(transport);
      senders.set(transport, raw);
    }
    return raw;
  }

  private constructor(transport: Transport) {
    this.#transport = transport;
    const forward = transport.onmessage;
    const take: OnMessage = (message, extra) => {
      if ('method' in message) {
        const params = (message.params ?? {}) as Record<string, unknown>;
        // A notification for a raw request is ours, even late (its listener gone): the Client
        // never sent that token or id.
        if (message.method === 'notifications/progress') {
          const token = String(params.progressToken);
          const listener = this.#progress.get(token);
          if (listener !== undefined) return listener(params);
          if (token.startsWith(PROGRESS_PREFIX)) return;
        }
        const subscription = (params._meta as Record<string, unknown> | undefined)?.[SUBSCRIPTION_ID_KEY];
        const stream = typeof subscription === 'string' ? this.#streams.get(subscription) : undefined;
        if (stream !== undefined) return stream(message as Record<string, unknown>);
        if (typeof subscription === 'string' && subscription.startsWith(ID_PREFIX)) return;
      }
      const id = (message as { id?: unknown }).id;
      const settle = typeof id === 'string' ? this.#waiting.get(id) : undefined;
      const isResponse = 'result' in message || 'error' in message;
      if (settle === undefined || !isResponse) {
        // A late answer to a raw request given up on is ours still: the Client never sent that id.
        if (isResponse && typeof id === 'string' && id.startsWith(ID_PREFIX)) return;
        forward?.(message, extra);
        return;
      }
      this.#waiting.delete(id as string);
      settle(
        'error' in message
          ? { kind: 'error', error: message.error as RawError }
          : { kind: 'result', result: message.result as Record<string, unknown> },
      );
    };
    transport.onmessage = take;
    // The Client's own requests carry its envelope (protocol version, client info, capabilities),
    // which it does not expose: kept from the last one sent, for the raw requests to carry too.
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      const meta = (message as { params?: { _meta?: Record<string, unknown> } }).params?._meta;
      if (meta !== undefined && typeof meta[ENVELOPE_KEYS[0]] === 'string') {
        this.#envelope = Object.fromEntries(ENVELOPE_KEYS.map((key) => [key, meta[key]])) as Envelope;
      }
      return send(message, options);
    };
    const closed = transport.onclose;
    transport.onclose = () => {
      for (const settle of this.#waiting.values()) {
        settle({ kind: 'error', error: { code: -32000, message: 'Connection closed' } });
      }
      this.#waiting.clear();
      closed?.();
    };
  }

  /** The envelope of the Client's last 2026-07-28 request; `undefined` until it sent one since. */
  get envelope(): Envelope | undefined {
    return this.#envelope;
  }

  /** A fresh progress token for a raw request. */
  progressToken(): string {
    return `${PROGRESS_PREFIX}${++this.#next}`;
  }

  /** Calls `listener` with the params of every progress notification for `token`, until the answered function is called. */
  onProgress(token: string, listener: (params: Record<string, unknown>) => void): () => void {
    this.#progress.set(token, listener);
    return () => this.#progress.delete(token);
  }

  /**
   * Sends `request` and answers the server's response. `signal` abandons it (on HTTP the request's
   * stream closes, which the server takes as a cancellation); `headers` go with it over HTTP.
   */
  send(
    request: RawRequest,
    options?: {
      signal?: AbortSignal | undefined;
      headers?: Readonly<Record<string, string>> | undefined;
      /** For a subscriptions/listen: each notification of its stream, until the response. */
      onNotification?: ((message: Record<string, unknown>) => void) | undefined;
    },
  ): Promise<RawResponse> {
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const id = `${ID_PREFIX}${++this.#next}`;
    const onNotification = options?.onNotification;
    if (onNotification !== undefined) this.#streams.set(id, onNotification);
    return new Promise<RawResponse>((resolve, reject) => {
      const abandon = () => {
        this.#waiting.delete(id);
        this.#streams.delete(id);
        reject(signal?.reason);
        // Over HTTP the request's stream closes, which cancels it; on a shared channel (stdio) the
        // server hears of it only by a notification.
        if (this.#transport.hasPerRequestStream !== true) {
          this.#transport
            .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } })
            .catch(() => undefined);
        }
      };
      signal?.addEventListener('abort', abandon, { once: true });
      this.#waiting.set(id, (response) => {
        signal?.removeEventListener('abort', abandon);
        this.#streams.delete(id);
        resolve(response);
      });
      this.#transport
        .send(
          {
            jsonrpc: '2.0',
            id,
            method: request.method,
            ...(request.params === undefined ? {} : { params: request.params }),
          },
          {
            requestSignal: signal,
            headers: options?.headers,
            // Over HTTP: a stream that ends without the response fails the request at once.
            onRequestStreamEnd: () => {
              const settle = this.#waiting.get(id);
              if (settle === undefined) return;
              this.#waiting.delete(id);
              this.#streams.delete(id);
              signal?.removeEventListener('abort', abandon);
              reject(new Error(`The response stream of ${request.method} ended without its response`));
            },
          },
        )
        .catch((error: unknown) => {
          this.#streams.delete(id);
          if (!this.#waiting.delete(id)) return;
          signal?.removeEventListener('abort', abandon);
          reject(error);
        });
    });
  }
}

const senders = new WeakMap<Transport, RawRequests>();
