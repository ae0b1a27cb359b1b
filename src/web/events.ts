/**
 * Events and the event target of the WebSocket API (WHATWG DOM and WebSockets Standard), built
 * for speed: an event object is made only when someone listens, and dispatch is a plain loop.
 * The classes have the fields and methods of their DOM namesakes.
 */

/** A listener: a function or an object with `handleEvent`, as in the DOM. */
export type Listener<E> = ((event: E) => unknown) | { handleEvent(event: E): unknown };

export interface ListenerOptions {
  once?: boolean;
  signal?: AbortSignal;
  capture?: boolean;
  passive?: boolean;
}

/** Base event, with the DOM `Event` members that apply to a non-bubbling WebSocket event. */
export class WebSocketEvent {
  static readonly NONE = 0;
  static readonly CAPTURING_PHASE = 1;
  static readonly AT_TARGET = 2;
  static readonly BUBBLING_PHASE = 3;
  // The constants and the fields that never change live on the prototype (set below): an event
  // kept by an application, such as the `open` event a promise resolved with, costs less.
  declare readonly NONE: 0;
  declare readonly CAPTURING_PHASE: 1;
  declare readonly AT_TARGET: 2;
  declare readonly BUBBLING_PHASE: 3;

  readonly type: string;
  target: unknown = null;
  currentTarget: unknown = null;
  eventPhase = 0;
  declare readonly bubbles: false;
  declare readonly cancelable: false;
  declare readonly composed: false;
  declare readonly defaultPrevented: false;
  declare readonly isTrusted: false;
  readonly timeStamp: number;
  /** @internal set by stopImmediatePropagation */
  stopped = false;

  constructor(type: string) {
    this.type = type;
    this.timeStamp = performance.now();
  }

  /** Does nothing: WebSocket events cannot be canceled. */
  preventDefault(): void {}
  /** Does nothing: WebSocket events do not propagate beyond their target. */
  stopPropagation(): void {}
  /** Keeps the listeners after the current one from being called for this event. */
  stopImmediatePropagation(): void {
    this.stopped = true;
  }
  /** The event's path: its target while it is dispatched, otherwise empty. */
  composedPath(): unknown[] {
    return this.currentTarget === null ? [] : [this.currentTarget];
  }
}

for (const [name, value] of Object.entries({
  NONE: 0,
  CAPTURING_PHASE: 1,
  AT_TARGET: 2,
  BUBBLING_PHASE: 3,
  bubbles: false,
  cancelable: false,
  composed: false,
  defaultPrevented: false,
  isTrusted: false,
}))
  Object.defineProperty(WebSocketEvent.prototype, name, { value, enumerable: true });

/**
 * The binary data of a message for each `binaryType` of the WHATWG standard. Node's WebSocket
 * adds "nodebuffer" to these.
 */
export interface StandardBinaryData {
  blob: Blob;
  arraybuffer: ArrayBuffer;
}

/**
 * A message event: `data` is a string, or binary data in the socket's `binaryType`. A socket's
 * `message` listeners get a `MessageEvent<MessageData<B>>`, `B` being the socket's binary type.
 */
export class MessageEvent<T = unknown> extends WebSocketEvent {
  readonly data: T;
  readonly origin: string;
  /** Always "" (server-sent events use it). */
  declare readonly lastEventId: '';
  /** Always null (cross-document messaging uses it). */
  declare readonly source: null;
  /** Always empty (channel messaging uses it). */
  declare readonly ports: readonly never[];

  constructor(type: string, init: { data: T; origin?: string }) {
    super(type);
    this.data = init.data;
    this.origin = init.origin ?? '';
  }
}

for (const [name, value] of Object.entries({
  lastEventId: '',
  source: null,
  ports: Object.freeze([]),
}))
  Object.defineProperty(MessageEvent.prototype, name, { value, enumerable: true });

/** Fired once when the connection has closed. */
export class CloseEvent extends WebSocketEvent {
  /** The close code: the peer's, 1005 when its close frame had none, 1006 when none arrived. */
  readonly code: number;
  readonly reason: string;
  /** True when the closing handshake completed both ways. */
  readonly wasClean: boolean;

  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

/** Fired when the connection fails; `error` is a typed wskit error with a stable `code`. */
export class ErrorEvent<E extends Error = Error> extends WebSocketEvent {
  /** What went wrong: on wskit's WebSocket, a typed WebSocketError with a stable `code`. */
  readonly error: E | undefined;
  readonly message: string;

  constructor(type: string, init: { error?: E; message?: string } = {}) {
    super(type);
    this.error = init.error;
    this.message = init.message ?? (init.error instanceof Error ? init.error.message : '');
  }
}

interface Entry {
  type: string;
  callback: Listener<never> | null;
  /** ONCE, ATTRIBUTE and REMOVED bits, in one field (idle memory: one entry per listener). */
  flags: number;
}

// Bits of Entry#flags.
/** Removed after its first call (`once`). */
const ONCE = 1;
/** Installed by an `onX` handler attribute. */
const ATTRIBUTE = 2;
/** Removed from the list (a dispatch that copied the list skips it). */
const REMOVED = 4;

/** Reports a listener's exception the way the DOM does: asynchronously, without stopping dispatch. */
function report(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * An `EventTarget` with `onX` handler properties kept in registration order, as in HTML.
 * Listeners of every type share one flat list, made with the first listener: a socket has a
 * handful of them, and a per-type map cost more memory per idle connection than the scan saves.
 */
export class WebSocketEventTarget {
  private listeners: Entry[] | null = null;

  /** Adds a listener, as `EventTarget.addEventListener` does (`once` and `signal` honoured). */
  addEventListener<E = WebSocketEvent>(
    type: string,
    callback: Listener<E> | null,
    options?: boolean | ListenerOptions,
  ): void {
    if (callback === null || callback === undefined) return;
    const opts = typeof options === 'object' && options !== null ? options : {};
    if (opts.signal?.aborted) return;
    const list = this.listeners;
    if (list !== null)
      for (const e of list)
        if (e.type === type && (e.flags & ATTRIBUTE) === 0 && e.callback === callback) return;
    const entry: Entry = {
      type,
      callback: callback as Listener<never>,
      flags: opts.once === true ? ONCE : 0,
    };
    this.addEntry(entry);
    opts.signal?.addEventListener('abort', () => this.removeEntry(entry), { once: true });
  }

  /** Removes a listener added with {@link addEventListener}. */
  removeEventListener<E = WebSocketEvent>(
    type: string,
    callback: Listener<E> | null,
    _options?: boolean | ListenerOptions,
  ): void {
    if (callback === null) return;
    const entry = this.listeners?.find(
      (e) => e.type === type && (e.flags & ATTRIBUTE) === 0 && e.callback === callback,
    );
    if (entry) this.removeEntry(entry);
  }

  /** Dispatches `event` to this target's listeners; returns true (WebSocket events cannot be canceled). */
  dispatchEvent(event: WebSocketEvent | Event): boolean {
    const list = this.listeners;
    if (list === null) return true;
    const type = event.type;
    let first: Entry | null = null;
    let count = 0;
    for (const e of list) {
      if (e.type !== type) continue;
      if (count === 0) first = e;
      count++;
    }
    if (first === null) return true;
    const own = event instanceof WebSocketEvent ? event : null;
    if (own) {
      own.target = this;
      own.currentTarget = this;
      own.eventPhase = 2;
    }
    if (count === 1) {
      this.invoke(event, first);
    } else {
      // Listeners added during dispatch wait for the next event (DOM: the list is cloned first).
      for (const entry of list.filter((e) => e.type === type)) {
        this.invoke(event, entry);
        if (own?.stopped) break;
      }
    }
    if (own) {
      own.currentTarget = null;
      own.eventPhase = 0;
    }
    return true;
  }

  private invoke(event: WebSocketEvent | Event, entry: Entry): void {
    if ((entry.flags & REMOVED) !== 0 || entry.callback === null) return;
    if ((entry.flags & ONCE) !== 0) this.removeEntry(entry);
    const cb = entry.callback as Listener<WebSocketEvent | Event>;
    try {
      if (typeof cb === 'function') cb.call(this, event);
      else cb.handleEvent(event);
    } catch (error) {
      report(error);
    }
  }

  /** Whether anyone listens for `type`: lets the hot path skip building event objects. */
  protected hasListeners(type: string): boolean {
    const list = this.listeners;
    if (list === null) return false;
    for (const e of list) if (e.type === type) return true;
    return false;
  }

  protected getHandler<F>(type: string): F | null {
    const entry = this.listeners?.find((e) => e.type === type && (e.flags & ATTRIBUTE) !== 0);
    return (entry?.callback as F | undefined) ?? null;
  }

  protected setHandler(type: string, handler: unknown): void {
    const existing = this.listeners?.find((e) => e.type === type && (e.flags & ATTRIBUTE) !== 0);
    // HTML event handler attributes hold functions; anything else clears the handler.
    const fn = typeof handler === 'function' ? handler : null;
    if (existing) {
      if (fn === null) this.removeEntry(existing);
      else existing.callback = fn as Listener<never>;
      return;
    }
    if (fn === null) return;
    const entry: Entry = {
      type,
      callback: fn as Listener<never>,
      flags: ATTRIBUTE,
    };
    this.addEntry(entry);
  }

  private addEntry(entry: Entry): void {
    const list = this.listeners;
    // Copies of exact length: `push()` would reserve 17 slots (V8's growth step), about 130
    // bytes per idle socket, for the two or three listeners a socket has. Adding is rare.
    this.listeners = list === null ? [entry] : [...list, entry];
  }

  private removeEntry(entry: Entry): void {
    const list = this.listeners;
    if (list === null) return;
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
    entry.flags |= REMOVED;
  }
}
