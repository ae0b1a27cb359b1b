/**
 * What wskit's `WebSocket` is in every runtime, whatever carries its bytes: the ready-state
 * constants, the typed event facade (`onX` handlers, `addEventListener` by event type), the
 * `error` and `close` events it fires, and JSON sending.
 */
import type { WebSocketError } from '../errors.js';
import {
  CloseEvent,
  ErrorEvent,
  type Listener,
  type ListenerOptions,
  type MessageEvent,
  type WebSocketEvent,
  WebSocketEventTarget,
} from './events.js';
import { encodeJson } from './json.js';
import type { ReconnectEvent } from './reconnect.js';

/** The events every wskit `WebSocket` fires, by type; a runtime may add its own. */
export interface SocketEventMap {
  /** The connection opened (again, after a reconnection). */
  open: WebSocketEvent;
  /** A message arrived. */
  message: MessageEvent;
  /** The connection or an attempt failed; `error` is a typed wskit error. */
  error: ErrorEvent;
  /** The connection closed. */
  close: CloseEvent;
  /** A reconnection attempt is about to start (the `reconnect` option). */
  reconnecting: ReconnectEvent;
}

/**
 * An `onX` handler, called with the socket as `this`. Its event is compared bivariantly (a
 * method's parameter), so that a socket of one binary type is also a socket of any binary type,
 * the type of code that takes every socket.
 */
type Handler<S, E> = { handler(this: S, event: E): unknown }['handler'] | null;

/**
 * The part of wskit's `WebSocket` that is the same in Node and in browsers, typed by the events
 * `M` of the runtime's class, which adds the connection itself.
 */
export abstract class WebSocketBase<M extends SocketEventMap> extends WebSocketEventTarget {
  /** The opening handshake is in progress, or a reconnection is awaited (readyState 0). */
  declare static readonly CONNECTING: 0;
  /** Messages flow both ways (readyState 1). */
  declare static readonly OPEN: 1;
  /** The closing handshake has begun (readyState 2). */
  declare static readonly CLOSING: 2;
  /** The connection is closed for good (readyState 3). */
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /** Handler of the `open` event. */
  declare onopen: Handler<this, M['open']>;
  /** Handler of the `message` event. */
  declare onmessage: Handler<this, M['message']>;
  /** Handler of the `error` event; `event.error` is a typed wskit error. */
  declare onerror: Handler<this, M['error']>;
  /** Handler of the `close` event. */
  declare onclose: Handler<this, M['close']>;

  /** Listens for an event of this socket by its type (see the class's events). */
  override addEventListener<K extends keyof M & string>(
    type: K,
    listener: Listener<M[K]> | null,
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<WebSocketEvent> | null,
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<never> | null,
    options?: boolean | ListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /** Sends a message (text for a string). */
  abstract send(data: string): void;

  /**
   * Sends `value` as a JSON text message. Throws `ERR_WS_INVALID_ARGUMENT` for a value JSON
   * cannot carry (undefined, a function, a BigInt, a cycle).
   */
  sendJSON(value: unknown): void {
    this.send(encodeJson(value));
  }

  /** Fires `error` as an `error` event (a reconnecting socket also records it). */
  protected fireError(error: WebSocketError): void {
    if (this.hasListeners('error'))
      this.dispatchEvent(new ErrorEvent('error', { error, message: error.message }));
  }

  /** Fires the `close` event. */
  protected fireClose(code: number, reason: string, wasClean: boolean): void {
    if (this.hasListeners('close'))
      this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
  }
}

// The ready-state constants, on the class and on its prototype as WebIDL constants are.
['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach((name, value) => {
  for (const target of [WebSocketBase, WebSocketBase.prototype])
    Object.defineProperty(target, name, { value, enumerable: true });
});

// The `onX` handler properties, as accessors on the prototype (HTML event handler attributes).
for (const type of ['open', 'message', 'error', 'close']) {
  Object.defineProperty(WebSocketBase.prototype, `on${type}`, {
    get(this: WebSocketBase<SocketEventMap>) {
      return this.getHandler(type);
    },
    set(this: WebSocketBase<SocketEventMap>, fn: unknown) {
      this.setHandler(type, fn);
    },
    configurable: true,
  });
}

/** The `InvalidStateError` DOMException of a call the ready state does not allow. */
export function invalidState(message: string): DOMException {
  return new DOMException(message, 'InvalidStateError');
}
