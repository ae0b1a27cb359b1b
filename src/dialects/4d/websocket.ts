/**
 * The 4D dialect: 4D's `4D.WebSocket` class (v20 R2) over any WHATWG-shaped socket. A thin
 * facade: the protocol is the socket's business; this module maps 4D's members onto it and
 * delivers the handler's callbacks one at a time, in order, never re-entrantly and never before
 * `WebSocket.new()` has returned.
 */
import { checkCloseReason } from '../../protocol/close-lifecycle.js';
import { unknownKeyMessage } from '../options.js';
import { callUserCode, isBinary, jsonText, toBytes, utf8Length } from '../shared.js';
import type {
  PortCloseEvent,
  PortErrorEvent,
  PortMessageEvent,
  PortSocket,
  SocketFactory,
} from '../socket-port.js';
import {
  describeSocketError,
  type FourDError,
  FourDErrorCode,
  type FourDErrorCodeNumber,
  fourDError,
} from './errors.js';

/** How messages are received: "text" (UTF-8 strings), "blob" (`Blob`) or "object" (JSON). */
export type FourDDataType = 'text' | 'blob' | 'object';

/** The values of `status`. */
export type FourDStatus = 'Connecting' | 'Connected' | 'Closing' | 'Closed';

/** `onOpen`'s event, frozen. */
export interface FourDOpenEvent {
  /** Always "open". */
  readonly type: 'open';
}

/** `onMessage`'s event, frozen (the data itself is not). */
export interface FourDMessageEvent {
  /** Always "message". */
  readonly type: 'message';
  /** A string ("text"), a `Blob` ("blob") or the parsed JSON value ("object"). */
  readonly data: unknown;
}

/** `onError`'s event, frozen, its `errors` too. */
export interface FourDErrorEvent {
  /** Always "error". */
  readonly type: 'error';
  /** The errors, most specific first: see `FourDErrorCode` for the numbers. */
  readonly errors: readonly FourDError[];
}

/** `onTerminate`'s event, frozen. */
export interface FourDTerminateEvent {
  /**
   * The close code the server sent; 1005 when its close frame had none; 1006 when no close
   * frame arrived (refused connection, dropped connection).
   */
  readonly code: number;
  /** The server's reason, "" when it gave none. */
  readonly reason: string;
  /** True when the closing handshake completed both ways. */
  readonly wasClean: boolean;
}

/**
 * The `connectionHandler` of `WebSocket.new()`: callbacks and the data type, all optional. The
 * callbacks are looked up when an event is delivered and called with the handler as `this`, so
 * a class instance with `onOpen`/`onMessage`/... methods works, as in 4D.
 */
export interface FourDConnectionHandler {
  /** Called once when the connection is open. */
  onOpen?(ws: FourDWebSocketBase, event: FourDOpenEvent): unknown;
  /** Called for each message received, with the data converted to `dataType`. */
  onMessage?(ws: FourDWebSocketBase, event: FourDMessageEvent): unknown;
  /** Called for each error; see `FourDErrorCode` for the `errCode` numbers. */
  onError?(ws: FourDWebSocketBase, event: FourDErrorEvent): unknown;
  /** Called once when the connection has closed, whatever the reason. */
  onTerminate?(ws: FourDWebSocketBase, event: FourDTerminateEvent): unknown;
  /** "text" (default), "blob" or "object". */
  dataType?: FourDDataType;
}

/** What `send()` accepts. */
export type FourDMessage =
  | string
  | Blob
  | ArrayBuffer
  | ArrayBufferView
  | object
  | number
  | boolean
  | null;

type CallbackName = 'onOpen' | 'onMessage' | 'onError' | 'onTerminate';

interface Delivery {
  name: CallbackName;
  event: object;
}

const STATUS: readonly FourDStatus[] = ['Connecting', 'Connected', 'Closing', 'Closed'];
const DATA_TYPES: readonly string[] = ['text', 'blob', 'object'];
const HANDLER_MEMBERS: readonly string[] = [
  'onOpen',
  'onMessage',
  'onError',
  'onTerminate',
  'dataType',
];
const HANDLER_HINTS: Readonly<Record<string, string>> = {
  onClose: 'onTerminate',
  onclose: 'onTerminate',
  onEnd: 'onTerminate',
  binaryType: 'dataType',
  type: 'dataType',
};

/**
 * Refuses a handler member that is one of 4D's names spelt differently (`onmessage`, `onClose`,
 * `datatype`): 4D would never call it. Other members are the handler's own business (a class
 * instance may carry state and helper methods), so they are left alone.
 */
function checkHandlerNames(handler: object): void {
  const seen = new Set<string>();
  for (
    let o: object | null = handler;
    o !== null && o !== Object.prototype;
    o = Object.getPrototypeOf(o)
  ) {
    for (const name of Object.getOwnPropertyNames(o)) seen.add(name);
  }
  for (const name of seen) {
    if (HANDLER_MEMBERS.includes(name)) continue;
    const lower = name.toLowerCase();
    if (
      Object.hasOwn(HANDLER_HINTS, name) ||
      HANDLER_MEMBERS.some((m) => m.toLowerCase() === lower)
    )
      throw new TypeError(
        unknownKeyMessage(
          '4D WebSocket.new(): connectionHandler',
          name,
          HANDLER_MEMBERS,
          HANDLER_HINTS,
        ),
      );
  }
}
const OPEN_EVENT: FourDOpenEvent = Object.freeze({ type: 'open' });
const EMPTY_HANDLER: FourDConnectionHandler = Object.freeze({});
const utf8Decoder = new TextDecoder();
/** Guards the constructor: instances come from `WebSocket.new()` only. */
const CONSTRUCT = Symbol('FourDWebSocket.construct');
let lastId = 0;

/**
 * 4D's `WebSocket` class. Use the subclass of an entry point: `WebSocket` from `wskit/4d`
 * (Node, wskit's client) or from the browser build (the native `WebSocket`); both set
 * `factory`. Create connections with `WebSocket.new(url, handler)`.
 *
 * @example
 * ```ts
 * const ws = WebSocket.new('ws://127.0.0.1:8080/chat', {
 *   dataType: 'object',
 *   onOpen: (ws) => ws.send({ hello: 'world' }),
 *   onMessage: (ws, event) => { console.log(event.data); ws.terminate(1000, 'done'); },
 *   onTerminate: (_ws, event) => console.log('closed', event.code),
 * });
 * ```
 */
export class FourDWebSocketBase {
  /** The socket factory of the platform; entry points set it by subclassing. */
  protected static factory: SocketFactory | undefined;

  readonly #socket: PortSocket;
  readonly #handler: FourDConnectionHandler;
  readonly #dataType: FourDDataType;
  readonly #id: number;
  readonly #url: string;
  #opened = false;
  /** terminate() was called while connecting: the failure it causes is not an error. */
  #abandoned = false;
  readonly #queue: Delivery[] = [];
  #head = 0;
  #scheduled = false;

  /**
   * Creates a connection to `url` (ws:, wss:, http: or https:; in Node also ws+unix:) and returns
   * its object at once, with `status` "Connecting". Returns `null` when the URL cannot be
   * connected to at all (malformed, unsupported scheme, fragment): the factory refused it.
   * Throws a `TypeError` for a `connectionHandler` that is not an object or an unknown
   * `dataType`. Failures after this (refused, DNS, handshake) go to `onError`, then
   * `onTerminate`.
   *
   * @param url - The URL of the WebSocket server.
   * @param connectionHandler - Callbacks (`onOpen`, `onMessage`, `onError`, `onTerminate`) and
   *   `dataType` ("text" by default, "blob" or "object").
   */
  static new<T extends FourDWebSocketBase>(
    this: { readonly prototype: T },
    url: string | URL,
    connectionHandler?: FourDConnectionHandler | null,
  ): T | null {
    // biome-ignore lint/complexity/noThisInStatic: the subclass called on carries the factory.
    const Class = this as unknown as typeof FourDWebSocketBase;
    const handler = connectionHandler ?? EMPTY_HANDLER;
    if (typeof handler !== 'object') {
      throw new TypeError(
        `4D WebSocket.new(): connectionHandler must be an object, not ${typeof handler}`,
      );
    }
    checkHandlerNames(handler);
    // 4D compares text without regard to case: "Object" and "BLOB" are "object" and "blob".
    const dataType = String(handler.dataType ?? 'text').toLowerCase() as FourDDataType;
    if (!DATA_TYPES.includes(dataType)) {
      throw new TypeError(
        `4D WebSocket.new(): dataType must be "text", "blob" or "object", not ${JSON.stringify(String(dataType))}`,
      );
    }
    const factory = typeof Class === 'function' ? Class.factory : undefined;
    if (factory === undefined) {
      throw new TypeError(
        '4D WebSocket.new(): no socket factory: call WebSocket.new() on WebSocket from "wskit/4d" or its browser build',
      );
    }
    let socket: PortSocket;
    try {
      socket = factory(String(url));
    } catch {
      // 4D: "If the connection is not possible, a null object is returned."
      return null;
    }
    return new Class(CONSTRUCT, socket, handler, dataType, String(url)) as T;
  }

  /** @internal Use `WebSocket.new(url, handler)`. */
  protected constructor(
    token: symbol,
    socket: PortSocket,
    handler: FourDConnectionHandler,
    dataType: FourDDataType,
    url: string,
  ) {
    if (token !== CONSTRUCT) {
      throw new TypeError('use WebSocket.new(url, connectionHandler) to create a 4D WebSocket');
    }
    this.#socket = socket;
    this.#handler = handler;
    this.#dataType = dataType;
    this.#id = ++lastId;
    this.#url = url;
    Object.defineProperties(this, {
      dataType: { enumerable: true, get: () => this.#dataType },
      handler: { enumerable: true, get: () => this.#handler },
      id: { enumerable: true, get: () => this.#id },
      status: { enumerable: true, get: () => STATUS[this.#socket.readyState] ?? 'Closed' },
      url: { enumerable: true, get: () => this.#url },
    });
    socket.addEventListener('open', () => {
      this.#opened = true;
      this.#deliver('onOpen', OPEN_EVENT);
    });
    socket.addEventListener('message', (event) => this.#onMessage(event));
    socket.addEventListener('error', (event) => this.#onError(event));
    socket.addEventListener('close', (event) => this.#onClose(event));
  }

  /**
   * "text", "blob" or "object": how messages are delivered to `onMessage` (given in any case,
   * kept in lower case). Read-only.
   */
  declare readonly dataType: FourDDataType;

  /** The `connectionHandler` object given to `new()` (an empty object if none was). Read-only. */
  declare readonly handler: FourDConnectionHandler;

  /** The connection's identifier: unique in this process (page), increasing. Read-only. */
  declare readonly id: number;

  /** "Connecting", "Connected", "Closing" or "Closed", from the socket's state. Read-only. */
  declare readonly status: FourDStatus;

  /** The URL as given to `new()`, so 4D code can compare it with the one it passed. Read-only. */
  declare readonly url: string;

  /**
   * Sends `message`: a string as a text message; a `Blob`, `ArrayBuffer` or typed array as a
   * binary message; any other value (object, array, number, boolean, null) as its
   * `JSON.stringify` text, whatever `dataType` is. A string is sent as it is in every mode, so
   * already-serialized JSON passes through. Never throws: when `status` is not "Connected",
   * `onError` gets errCode 2 (NOT_OPEN); for a value that cannot be sent (undefined, a cycle,
   * a BigInt), errCode 5 (SEND_FAILED).
   *
   * @param message - Text, Blob, binary data or an object.
   */
  send(message: FourDMessage): void {
    const status = this.status;
    if (status !== 'Connected') {
      this.#error(FourDErrorCode.NOT_OPEN, `send(): the WebSocket is ${status}, not Connected`);
      return;
    }
    let data: string | ArrayBuffer | ArrayBufferView | Blob;
    if (typeof message === 'string' || isBinary(message)) {
      data = message;
    } else {
      let text: string | undefined;
      try {
        text = jsonText(message);
      } catch (error) {
        this.#error(
          FourDErrorCode.SEND_FAILED,
          `send(): the message cannot be serialized as JSON: ${error instanceof Error ? error.message : String(error)}`,
        );
        return;
      }
      if (typeof text !== 'string') {
        this.#error(
          FourDErrorCode.SEND_FAILED,
          `send(): a message of type ${typeof message} cannot be sent: pass text, a Blob, binary data or an object`,
        );
        return;
      }
      data = text;
    }
    try {
      this.#socket.send(data);
    } catch (error) {
      this.#error(
        FourDErrorCode.SEND_FAILED,
        `send(): the socket refused the message: ${describeSocketError(error, undefined) || String(error)}`,
      );
    }
  }

  /**
   * Closes the connection. `code` is 1000 or a custom code in 3000-4999; without one the close
   * frame carries 1000 (normal closure), as 4D documents. `reason` is at most 123 UTF-8 bytes.
   * Any other code, a non-integer code or a longer reason throws (`RangeError`, or `TypeError`
   * for a code that is not a number) and leaves the connection as it was. Closing before the
   * connection is open abandons it: `onTerminate` gets 1006, and no `onError`. Does nothing
   * when the connection is already closing or closed. `onTerminate` reports the end.
   *
   * @param code - 1000, or 3000-4999.
   * @param reason - Why the connection is closing.
   */
  terminate(code?: number, reason?: string): void {
    if (code !== undefined) {
      if (typeof code !== 'number') {
        throw new TypeError(`terminate(): code must be a number, not ${typeof code}`);
      }
      if (!Number.isInteger(code) || (code !== 1000 && (code < 3000 || code > 4999))) {
        throw new RangeError(
          `terminate(): close code ${code} is not allowed: use 1000 or a custom code in 3000-4999`,
        );
      }
    }
    const text = reason === undefined || reason === null ? '' : String(reason);
    checkCloseReason(text, utf8Length, 'terminate(): reason');
    const socket = this.#socket;
    const state = socket.readyState;
    if (state === 2 || state === 3) return;
    if (state === 0) {
      this.#abandoned = true;
      socket.close();
      return;
    }
    socket.close(code ?? 1000, text);
  }

  #onMessage(event: PortMessageEvent): void {
    const raw = event.data;
    const dataType = this.#dataType;
    let data: unknown;
    const bytes = typeof raw === 'string' ? null : toBytes(raw);
    if (dataType === 'blob') {
      data = new Blob([bytes === null ? String(raw) : new Uint8Array(bytes)]);
    } else {
      const text = bytes === null ? String(raw) : utf8Decoder.decode(bytes);
      if (dataType === 'text') {
        data = text;
      } else {
        try {
          data = JSON.parse(text);
        } catch (error) {
          const preview = text.length > 60 ? `${text.slice(0, 60)}...` : text;
          this.#error(
            FourDErrorCode.INVALID_JSON,
            `a received message is not valid JSON (dataType "object"), dropped: ${error instanceof Error ? error.message : String(error)}; message: ${JSON.stringify(preview)}`,
          );
          return;
        }
      }
    }
    this.#deliver('onMessage', Object.freeze({ type: 'message', data }));
  }

  #onError(event: PortErrorEvent): void {
    if (this.#abandoned && !this.#opened) return;
    const detail = describeSocketError(event.error, event.message);
    if (this.#opened) {
      this.#error(
        FourDErrorCode.CONNECTION_ERROR,
        `the connection to ${this.url} failed${detail ? `: ${detail}` : ''}`,
      );
    } else {
      this.#error(
        FourDErrorCode.CONNECTION_FAILED,
        `cannot connect to ${this.url}${detail ? `: ${detail}` : ' (no detail is available)'}`,
      );
    }
  }

  #onClose(event: PortCloseEvent): void {
    this.#deliver(
      'onTerminate',
      Object.freeze({ code: event.code, reason: event.reason, wasClean: event.wasClean }),
    );
  }

  #error(errCode: FourDErrorCodeNumber, message: string): void {
    this.#deliver(
      'onError',
      Object.freeze({ type: 'error', errors: Object.freeze([fourDError(errCode, message)]) }),
    );
  }

  /** Queues a callback; they run one per microtask, in order, after the current code returns. */
  #deliver(name: CallbackName, event: object): void {
    this.#queue.push({ name, event });
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#drain);
    }
  }

  readonly #drain = (): void => {
    const queue = this.#queue;
    const item = queue[this.#head]!;
    queue[this.#head] = undefined as unknown as Delivery;
    this.#head++;
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    }
    // Schedule the next one first, so a throwing callback cannot stop delivery.
    if (queue.length > 0) queueMicrotask(this.#drain);
    else this.#scheduled = false;
    const handler = this.#handler;
    const callback = handler[item.name] as
      | ((this: FourDConnectionHandler, ws: FourDWebSocketBase, event: object) => unknown)
      | undefined;
    if (typeof callback !== 'function') return;
    callUserCode(`the handler's ${item.name}`, callback, handler, this, item.event);
  };
}
