import type { Buffer } from 'node:buffer';
import type { WebSocket } from './websocket.js';

/** The data of a `message` event: text as a string, binary as `binaryType` gives it. */
export type Data = string | Buffer | ArrayBuffer | Buffer[] | Blob;

/** A `ws`-style event, passed to `addEventListener` listeners and `on*` attributes. */
export class Event {
  readonly #type: string;
  #target: WebSocket | null = null;

  constructor(type: string) {
    this.#type = type;
  }

  /** The event's name. */
  get type(): string {
    return this.#type;
  }

  /** The socket the event fired on. */
  get target(): WebSocket | null {
    return this.#target;
  }

  /** Set once, when the event is dispatched. */
  setTarget(target: WebSocket): void {
    this.#target = target;
  }
}

/** `close`: the close code and reason, and whether both close frames were exchanged. */
export class CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;

  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

/** `error`: the error and its message. */
export class ErrorEvent extends Event {
  readonly error: Error | null;
  readonly message: string;

  constructor(type: string, init: { error?: Error; message?: string } = {}) {
    super(type);
    this.error = init.error ?? null;
    this.message = init.message ?? '';
  }
}

/** `message`: the message's data. */
export class MessageEvent extends Event {
  readonly data: Data | null;

  constructor(type: string, init: { data?: Data } = {}) {
    super(type);
    this.data = init.data ?? null;
  }
}

/** The events of `addEventListener` and the `on*` attributes. */
export interface WebSocketEventMap {
  open: Event;
  error: ErrorEvent;
  close: CloseEvent;
  message: MessageEvent;
}

/** A listener: a function or an object with `handleEvent`. */
export type EventListenerLike<E> = ((event: E) => void) | { handleEvent(event: E): void };

/** `addEventListener` options: `once` is the only one `ws` has. */
export interface EventListenerOptions {
  once?: boolean | undefined;
}

/** Marks the EventEmitter listener that wraps an event listener, and what it wraps. */
export const kListener = Symbol('wskit.ws.listener');
/** Marks the wrapper installed by an `on*` attribute. */
export const kForAttribute = Symbol('wskit.ws.attribute');

/** A wrapper as stored on the EventEmitter. */
export interface WrappedListener {
  (...args: never[]): void;
  [kListener]: unknown;
  [kForAttribute]: boolean;
}

function call<E>(listener: EventListenerLike<E>, thisArg: WebSocket, event: E): void {
  if (typeof listener === 'function') listener.call(thisArg, event);
  else listener.handleEvent.call(listener, event);
}

/** Builds the EventEmitter listener that turns an emitter event into a DOM-style event. */
export function wrapListener(
  socket: WebSocket,
  type: string,
  listener: EventListenerLike<never>,
  wasClean: () => boolean,
): ((...args: never[]) => void) | null {
  const dispatch = (event: Event) => {
    event.setTarget(socket);
    call(listener as EventListenerLike<Event>, socket, event);
  };
  switch (type) {
    case 'message':
      return ((data: Buffer | ArrayBuffer | Buffer[] | Blob, isBinary: boolean) =>
        dispatch(new MessageEvent('message', { data: isBinary ? data : String(data) }))) as (
        ...args: never[]
      ) => void;
    case 'close':
      return ((code: number, reason: Buffer) =>
        dispatch(
          new CloseEvent('close', { code, reason: reason.toString(), wasClean: wasClean() }),
        )) as (...args: never[]) => void;
    case 'error':
      return ((error: Error) =>
        dispatch(new ErrorEvent('error', { error, message: error.message }))) as (
        ...args: never[]
      ) => void;
    case 'open':
      return () => dispatch(new Event('open'));
    default:
      return null;
  }
}
